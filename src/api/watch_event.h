// WatchEvent: one event of the change history as the watchers of a node share it (watch_hub.h):
// the event, and its line of GET /watch (docs/api.md "Watch") in each string encoding, made once
// on first use. A thousand watchers that each send one event thus encode it once, not a thousand
// times.
//
// Thread-safe: Line may be called from any number of streams at once.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>

#include "api/json_text.h"
#include "store/history.h"

namespace nds::api {

class WatchEvent : public store::HistoryEvent {
 public:
  explicit WatchEvent(store::HistoryEvent e) : store::HistoryEvent(std::move(e)) {}

  // The event's line, newline included.
  const std::string& Line(StringEncoding encoding) const;

 private:
  static constexpr size_t kEncodings = 2;  // StringEncoding's values
  mutable std::array<std::once_flag, kEncodings> once_;
  mutable std::array<std::string, kEncodings> lines_;
};

using SharedEvent = std::shared_ptr<const WatchEvent>;

}  // namespace nds::api
