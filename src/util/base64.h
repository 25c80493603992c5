// Base64 (RFC 4648): the one encoder and decoder of the codebase (JSON answers with
// ?encoding=base64, /txn bodies, clients, the etcd load format). Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace nds {

// Standard base64 (RFC 4648 §4: + and /) with '=' padding.
std::string Base64Encode(std::string_view bytes);

// Decodes standard (+/) or URL-safe (-_) base64, with or without '=' padding. Returns
// kInvalidArgument (naming the offset of the first bad character) on any other input.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace nds
