// Escaping of outside text for log lines: see log_text.h.
#include "util/log_text.h"

#include <algorithm>
#include <cstdint>

#include <fmt/core.h>

#include "util/hex.h"

namespace nds {
namespace {

// Length of the well-formed UTF-8 sequence of two or more bytes at the start of `s`, or 0 when
// there is none (RFC 3629 §4: no overlong forms, no surrogates, nothing above U+10FFFF). C1
// control characters (U+0080..U+009F) count as not well-formed here, so that they are escaped.
size_t Utf8SequenceBytes(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  auto continuation = [&](size_t i) { return i < s.size() && (byte(i) & 0xc0) == 0x80; };
  const uint8_t b0 = byte(0);
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    if (!continuation(1)) return 0;
    if (b0 == 0xc2 && byte(1) < 0xa0) return 0;  // C1 controls
    return 2;
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (b0 == 0xe0 && byte(1) < 0xa0) return 0;   // overlong
    if (b0 == 0xed && byte(1) >= 0xa0) return 0;  // surrogates
    return 3;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (b0 == 0xf0 && byte(1) < 0x90) return 0;   // overlong
    if (b0 == 0xf4 && byte(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::string EscapeForLog(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 16);
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<uint8_t>(text[i]);
    if (b >= 0x20 && b < 0x7f) {
      if (i + 1 > max_bytes) break;
      if (b == '\\') out.push_back('\\');
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    const size_t n = b >= 0x80 ? Utf8SequenceBytes(text.substr(i)) : 0;
    if (n > 0) {
      if (i + n > max_bytes) break;
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    if (i + 1 > max_bytes) break;
    out.append("\\x");
    AppendHexByte(&out, b);
    ++i;
  }
  if (i < text.size()) out += fmt::format("...({} bytes)", text.size());
  return out;
}

bool HasControlCharacter(std::string_view text) {
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) return true;
  }
  return false;
}

bool LogRateLimiter::Allow(uint64_t* suppressed) {
  MutexLock lock(mu_);
  const Clock::time_point now = Clock::now();
  if (now - window_start_ >= window_) {
    window_start_ = now;
    lines_in_window_ = 0;
  }
  if (lines_in_window_ >= lines_per_window_) {
    ++suppressed_;
    return false;
  }
  ++lines_in_window_;
  *suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

}  // namespace nds
