// Byte encodings the client needs on the wire (docs/api.md "Conventions"): percent-encoding of
// keys in URL paths, form-encoding of query parameters, and base64 decoding of the keys that
// `GET /keys?encoding=base64` returns. Pure functions, no I/O: safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "util/base64.h"  // Base64Decode, for the keys of ?encoding=base64
#include "util/status.h"

namespace nds::client {

// Returns `bytes` with every byte outside RFC 3986's unreserved set (ALPHA DIGIT - . _ ~) and '/'
// written as %XX (upper-case hex). Any bytes are accepted, NUL included.
std::string PercentEncodePath(std::string_view bytes);

// Returns `bytes` form-encoded for a query value: unreserved bytes stay, space becomes '+', every
// other byte becomes %XX. Any bytes are accepted.
std::string FormEncode(std::string_view bytes);

// Returns `bytes` as printable ASCII for messages: printable bytes as they are, others as \xNN,
// cut to `bytes_max` input bytes with "..." appended when longer.
std::string EscapeForMessage(std::string_view bytes, size_t bytes_max = 64);

}  // namespace nds::client
