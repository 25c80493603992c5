// Text from outside (HTTP request lines, paths, header values, names and addresses a joining
// node or a peer claims) made safe to write into a log line: a newline in it cannot start a
// forged log line, a terminal escape cannot reach an operator's terminal, and a huge value
// cannot flood the log. Every log call that prints outside input goes through EscapeForLog.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "util/thread_annotations.h"

namespace nds {

// Bytes of outside text a log line shows by default; the rest is cut.
inline constexpr size_t kLogTextBytesMax = 256;

// Returns `text` with every byte that is not printable ASCII and not part of a well-formed UTF-8
// sequence written as \xHH, and the backslash written as \\ (so that an escape in the output
// always means an escaped byte). Control characters (below 0x20, and 0x7f) are escaped too, and
// so are the C1 controls U+0080..U+009F. When `text` is longer than `max_bytes` bytes, only its
// first `max_bytes` bytes are shown (never cutting a UTF-8 sequence) followed by
// "...(N bytes)" with N the full length. The result is at most about 4 * max_bytes + 24 bytes.
std::string EscapeForLog(std::string_view text, size_t max_bytes = kLogTextBytesMax);

// True when `text` holds a control character (bytes 0x00..0x1f and 0x7f): names and addresses
// that hold one are invalid input.
bool HasControlCharacter(std::string_view text);

// Lets through at most `lines_per_window` log lines per `window`; counts the rest. Thread-safe.
class LogRateLimiter {
 public:
  explicit LogRateLimiter(size_t lines_per_window,
                          std::chrono::milliseconds window = std::chrono::seconds(1))
      : lines_per_window_(lines_per_window), window_(window) {}

  // Whether a line may be logged now. When it may, `*suppressed` is set to the number of lines
  // refused since the last one let through (to be mentioned in this line).
  bool Allow(uint64_t* suppressed);

 private:
  using Clock = std::chrono::steady_clock;
  const size_t lines_per_window_;
  const std::chrono::milliseconds window_;
  Mutex mu_;
  Clock::time_point window_start_ NDS_GUARDED_BY(mu_){};
  size_t lines_in_window_ NDS_GUARDED_BY(mu_) = 0;
  uint64_t suppressed_ NDS_GUARDED_BY(mu_) = 0;
};

}  // namespace nds
