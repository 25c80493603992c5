// Percent, form and base64 coding for the client (see encoding.h).
#include "client/encoding.h"

#include <cstdint>

#include <fmt/format.h>

namespace nds::client {
namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void AppendPercent(std::string& out, unsigned char c) {
  out.push_back('%');
  out.push_back(kHexDigits[c >> 4]);
  out.push_back(kHexDigits[c & 0xF]);
}

// Maps a base64 character of either alphabet to its 6-bit value, or -1.
int Base64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

std::string PercentEncodePath(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 2);
  for (unsigned char c : bytes) {
    if (IsUnreserved(c) || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      AppendPercent(out, c);
    }
  }
  return out;
}

std::string FormEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 2);
  for (unsigned char c : bytes) {
    if (IsUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      AppendPercent(out, c);
    }
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  // Padding may only end the text: strip at most two '='.
  size_t end = text.size();
  for (int i = 0; i < 2 && end > 0 && text[end - 1] == '='; ++i) --end;
  if (end % 4 == 1) {
    return InvalidArgument(fmt::format("base64 text of {} characters has a bad length", end));
  }
  std::string out;
  out.reserve(end / 4 * 3 + 2);
  uint32_t bits = 0;
  int bit_count = 0;
  for (size_t i = 0; i < end; ++i) {
    const int v = Base64Value(static_cast<unsigned char>(text[i]));
    if (v < 0) return InvalidArgument(fmt::format("bad base64 character at offset {}", i));
    bits = (bits << 6) | static_cast<uint32_t>(v);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out.push_back(static_cast<char>((bits >> bit_count) & 0xFF));
    }
  }
  return out;
}

std::string EscapeForMessage(std::string_view bytes, size_t bytes_max) {
  std::string out;
  const size_t n = bytes.size() < bytes_max ? bytes.size() : bytes_max;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (bytes.size() > n) out += "...";
  return out;
}

}  // namespace nds::client
