// base64url (RFC 4648 §5): the URL- and filename-safe alphabet A-Z a-z 0-9 - _. Encoding writes no
// padding; decoding accepts input with or without its '=' padding and rejects anything else, so
// the keys handed to clients survive URLs, headers and copy-paste unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "util/status.h"

namespace nds::crypto {

// Returns the unpadded base64url text of `bytes` (ceil(4n/3) characters). Cannot fail.
std::string Base64UrlEncode(std::span<const uint8_t> bytes);
std::string Base64UrlEncode(std::string_view bytes);

// Checks the length and padding of `text` (not its characters) and returns how many bytes it
// decodes to. Valid: unpadded text whose length mod 4 is 0, 2 or 3; or padded text whose length
// is a multiple of 4 and that ends in exactly the '=' its last group needs (one after three
// characters, two after two). Errors: kInvalidArgument for any other length or padding.
Result<size_t> Base64UrlDecodedBytes(std::string_view text);

// Decodes `text` into `out`, whose size must be Base64UrlDecodedBytes(text). Writing into a
// caller's buffer lets a key go straight into a SecretBytes. Errors (kInvalidArgument): bad length
// or padding; a character outside the alphabet (including '+', '/', whitespace and a '=' that is
// not trailing padding); non-zero unused bits in the last character (a non-canonical encoding,
// RFC 4648 §3.5), so that each byte string has exactly one accepted unpadded spelling; `out` of
// the wrong size. On error the contents of `out` are unspecified (the caller wipes a secret one).
Status Base64UrlDecodeInto(std::string_view text, std::span<uint8_t> out);

// Decodes `text` as Base64UrlDecodeInto does and returns the bytes.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace nds::crypto
