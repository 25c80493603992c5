// WatchEvent: one event of the change history as the watchers of a node share it (watch_hub.h):
// the event, and its line of GET /watch (docs/api.md "Watch") in each string encoding, made once
// on first use. A thousand watchers that each send one event thus encode it once, not a thousand
// times.
//
// Thread-safe: Line may be called from any number of streams at once.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "api/json_text.h"
#include "store/history.h"

namespace nds::api {

class WatchEvent : public store::HistoryEvent {
 public:
  explicit WatchEvent(store::HistoryEvent e) : store::HistoryEvent(std::move(e)) {}
  ~WatchEvent();
  WatchEvent(const WatchEvent&) = delete;
  WatchEvent& operator=(const WatchEvent&) = delete;

  // The event's line, newline included.
  const std::string& Line(StringEncoding encoding) const;

 private:
  static constexpr size_t kEncodings = 2;  // StringEncoding's values
  // Each made on first use and published with a compare-and-swap: streams that race to make the
  // same line each make one, the first wins and the others drop theirs. (std::call_once cost a
  // futex wake per event, as glibc's pthread_once wakes waiters every time.)
  mutable std::array<std::atomic<const std::string*>, kEncodings> lines_{};
};

using SharedEvent = std::shared_ptr<const WatchEvent>;

}  // namespace nds::api
