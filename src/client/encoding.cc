// Percent, form and base64 coding for the client (see encoding.h).
#include "client/encoding.h"

#include <cstdint>

#include <fmt/format.h>

#include "util/hex.h"

namespace nds::client {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void AppendPercent(std::string& out, unsigned char c) {
  out.push_back('%');
  AppendHexByte(&out, c, /*upper=*/true);
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
