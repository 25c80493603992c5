// A history event's GET /watch line, encoded once (watch_event.h).
#include "api/watch_event.h"

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

const std::string& WatchEvent::Line(StringEncoding encoding) const {
  const size_t i = encoding == StringEncoding::kBase64 ? 1 : 0;
  std::call_once(once_[i], [this, i, encoding] { AppendEventLine(&lines_[i], *this, encoding); });
  return lines_[i];
}

}  // namespace nds::api
