// A history event's GET /watch line, encoded once (watch_event.h).
#include "api/watch_event.h"

#include <memory>

namespace nds::api {
namespace {

void AppendEventLine(std::string* out, const store::HistoryEvent& e, StringEncoding encoding) {
  *out += "{\"revision\":" + std::to_string(e.revision) + ",\"type\":";
  *out += e.type == store::HistoryEventType::kPut ? "\"put\"" : "\"delete\"";
  *out += ",\"key\":";
  AppendJsonString(out, e.key, encoding);
  if (e.type == store::HistoryEventType::kPut) {
    *out += ",\"value\":";
    AppendJsonString(out, e.value, encoding);
    *out += ",\"content_type\":";
    AppendJsonString(out, e.content_type.empty() ? "application/octet-stream" : e.content_type,
                     StringEncoding::kLossyUtf8);
  }
  *out += "}\n";
}

}  // namespace

WatchEvent::~WatchEvent() {
  for (auto& line : lines_) delete line.load(std::memory_order_acquire);
}

const std::string& WatchEvent::Line(StringEncoding encoding) const {
  const size_t i = encoding == StringEncoding::kBase64 ? 1 : 0;
  const std::string* line = lines_[i].load(std::memory_order_acquire);
  if (line != nullptr) return *line;
  auto made = std::make_unique<std::string>();
  AppendEventLine(made.get(), *this, encoding);
  if (lines_[i].compare_exchange_strong(line, made.get(), std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
    return *made.release();
  }
  return *line;  // another stream made it first: `line` now holds that one
}

}  // namespace nds::api
