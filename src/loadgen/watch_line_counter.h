// Counts the lines of a `GET /watch` stream (docs/api.md "Watch and history") as its body bytes
// arrive, for the watchers that `nds bench --hold-watchers` keeps open: events, progress lines and
// error lines, and the highest revision seen. Only the first bytes of each line are looked at and
// kept, so a line of any length costs a bounded amount of memory.
//
// Not thread-safe: one counter per stream, fed by the stream's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nds::loadgen {

class WatchLineCounter {
 public:
  // Feeds body bytes (chunk framing already removed), split anywhere.
  void Feed(std::string_view bytes);

  uint64_t events() const { return events_; }      // put and delete lines
  uint64_t progress() const { return progress_; }  // {"type":"progress",...} lines
  uint64_t errors() const { return errors_; }      // {"type":"error",...} lines (a stream's last)
  uint64_t other() const { return other_; }        // lines of no known shape
  // Every change up to this revision has been received (the highest event or progress revision).
  uint64_t revision() const { return revision_; }
  // The error name of the last error line ("too_slow", "compacted", ...), empty when none.
  const std::string& last_error() const { return last_error_; }

 private:
  void OnLine(std::string_view head);

  // The first bytes of the line being read: enough for its type and revision, and for an error
  // line's name.
  static constexpr size_t kHeadBytesMax = 96;
  std::string head_;
  uint64_t events_ = 0;
  uint64_t progress_ = 0;
  uint64_t errors_ = 0;
  uint64_t other_ = 0;
  uint64_t revision_ = 0;
  std::string last_error_;
};

}  // namespace nds::loadgen
