// Hexadecimal digits: lower case for ids, logs and JSON escapes; upper case for URI
// percent-encoding (RFC 3986 §2.1 recommends it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nds {

inline constexpr std::string_view kHexDigitsLower = "0123456789abcdef";
inline constexpr std::string_view kHexDigitsUpper = "0123456789ABCDEF";

// Appends the two hex digits of `b`, high nibble first.
inline void AppendHexByte(std::string* out, uint8_t b, bool upper = false) {
  const std::string_view digits = upper ? kHexDigitsUpper : kHexDigitsLower;
  out->push_back(digits[b >> 4]);
  out->push_back(digits[b & 0xF]);
}

// Two lower-case hex digits per byte of `bytes`.
inline std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) AppendHexByte(&out, static_cast<uint8_t>(c));
  return out;
}

// The value of hex digit `c` (either case), or -1 when it is not one.
inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The value of `digits`, 1 to 16 lower-case hex digits (as the names of log segments and
// snapshots are written), or nullopt for anything else.
inline std::optional<uint64_t> ParseLowerHex(std::string_view digits) {
  if (digits.empty() || digits.size() > 16) return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) {
    if ((c < '0' || c > '9') && (c < 'a' || c > 'f')) return std::nullopt;
    value = value * 16 + static_cast<uint64_t>(HexDigitValue(c));
  }
  return value;
}

}  // namespace nds
