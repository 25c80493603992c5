// Helpers for putting text that came from outside (a peer, a client) into log lines safely: a
// log line must never be split or forged by a newline or a terminal escape in what a stranger
// sent, and a flood of failures must not flood the log.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "util/thread_annotations.h"

namespace nds {

// `text` with every byte outside printable ASCII (0x20..0x7e) and every backslash written as
// \xNN (\\ for a backslash), cut to `bytes_max` input bytes with "..." appended when longer.
std::string LogSafe(std::string_view text, size_t bytes_max = 256);

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
  std::mutex mu_;
  Clock::time_point window_start_ NDS_GUARDED_BY(mu_){};
  size_t lines_in_window_ NDS_GUARDED_BY(mu_) = 0;
  uint64_t suppressed_ NDS_GUARDED_BY(mu_) = 0;
};

}  // namespace nds
