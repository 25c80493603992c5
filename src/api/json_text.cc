// JSON string escaping with lossy UTF-8, base64, and code point counting.
#include "api/json_text.h"

#include <cstdint>

#include "util/hex.h"

namespace nds::api {
namespace {

// The length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid (overlong
// forms, surrogates and code points above U+10FFFF are invalid, RFC 3629).
size_t ValidUtf8Length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void AppendEscapedUtf8(std::string* out, std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x80) {
      size_t n = ValidUtf8Length(s, i);
      if (n == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD for each byte that is not valid UTF-8
        i += 1;
      } else {
        out->append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          AppendHexByte(out, c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view bytes, StringEncoding encoding) {
  out->push_back('"');
  if (encoding == StringEncoding::kBase64) {
    out->append(Base64Encode(bytes));
  } else {
    AppendEscapedUtf8(out, bytes);
  }
  out->push_back('"');
}

size_t CodePointCount(std::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++count) {
    size_t n = ValidUtf8Length(text, i);
    i += n == 0 ? 1 : n;
  }
  return count;
}

}  // namespace nds::api
