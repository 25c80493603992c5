// Watch stream line counting (watch_line_counter.h). The lines' shapes are those that
// api/watch_routes.cc writes: an event starts with {"revision":N,"type":, a progress line is
// {"type":"progress","revision":N}, an error line starts with {"type":"error","error":"NAME".
#include "loadgen/watch_line_counter.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace nds::loadgen {
namespace {

constexpr std::string_view kEventStart = R"({"revision":)";
constexpr std::string_view kProgressStart = R"({"type":"progress","revision":)";
constexpr std::string_view kErrorStart = R"({"type":"error","error":")";

// The decimal number at the start of `text`, or nothing.
bool LeadingNumber(std::string_view text, uint64_t* n) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *n);
  return ec == std::errc() && end != text.data();
}

}  // namespace

void WatchLineCounter::Feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const void* newline = std::memchr(bytes.data(), '\n', bytes.size());
    const size_t line_bytes =
        newline == nullptr ? bytes.size()
                           : static_cast<size_t>(static_cast<const char*>(newline) - bytes.data());
    if (head_.size() < kHeadBytesMax) {
      head_.append(bytes.substr(0, std::min(line_bytes, kHeadBytesMax - head_.size())));
    }
    if (newline == nullptr) return;
    OnLine(head_);
    head_.clear();
    bytes.remove_prefix(line_bytes + 1);
  }
}

void WatchLineCounter::OnLine(std::string_view head) {
  uint64_t revision = 0;
  if (head.starts_with(kEventStart)) {
    ++events_;
    if (LeadingNumber(head.substr(kEventStart.size()), &revision)) {
      revision_ = std::max(revision_, revision);
    }
  } else if (head.starts_with(kProgressStart)) {
    ++progress_;
    if (LeadingNumber(head.substr(kProgressStart.size()), &revision)) {
      revision_ = std::max(revision_, revision);
    }
  } else if (head.starts_with(kErrorStart)) {
    ++errors_;
    const std::string_view name = head.substr(kErrorStart.size());
    last_error_.assign(name.substr(0, name.find('"')));
  } else {
    ++other_;
  }
}

}  // namespace nds::loadgen
