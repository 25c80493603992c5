// Client::Watch: one GET /watch stream at a time, resumed on the next server after a failure
// (client/watch.h).
#include <thread>

#include <nlohmann/json.hpp>

#include "client/client.h"
#include "client/encoding.h"
#include "client/http_error.h"
#include "client/transport.h"

namespace nds::client {
namespace {

// Where a watch stands between streams.
struct WatchCursor {
  // Every event up to this revision was delivered (the revision to resume after).
  std::optional<uint64_t> complete;
  // The revision whose events are being delivered, and how many of them were.
  uint64_t partial_revision = 0;
  size_t partial_count = 0;
  // Events of partial_revision to skip after a resume (already delivered).
  size_t skip = 0;
};

std::string WatchTarget(const WatchRequest& request, const WatchCursor& cursor) {
  std::string target = "/watch?encoding=base64";
  if (!request.key.empty()) {
    target += "&key=" + FormEncode(request.key);
  } else {
    target += "&prefix=" + FormEncode(request.prefix);
  }
  if (cursor.complete) target += "&from=" + std::to_string(*cursor.complete);
  return target;
}

Result<std::string> Base64Field(const nlohmann::json& line, const char* name) {
  auto it = line.find(name);
  if (it == line.end()) return std::string();
  if (!it->is_string()) return IoError(std::string("watch line with a non-string ") + name);
  return Base64Decode(it->get<std::string>());
}

// One line of the stream. `ended` is set by a last line; `fatal` for a compaction or refusal.
struct LineOutcome {
  Status status;  // on_event's error, or why the watch must stop
  bool stream_over = false;
};

}  // namespace

Status Client::Watch(const WatchRequest& request,
                     const std::function<Status(const WatchEvent&)>& on_event, WatchEnd* end) {
  WatchEnd local_end;
  WatchEnd& out = end != nullptr ? *end : local_end;
  WatchCursor cursor;
  cursor.complete = request.from;
  size_t failures_in_a_row = 0;
  std::string pending;  // bytes of a line not yet complete
  Status stop;          // set when the watch must end
  auto handle_line = [&](std::string_view text) -> Status {
    failures_in_a_row = 0;
    nlohmann::json line = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!line.is_object()) return IoError("a watch line that is not a JSON object");
    const std::string type = line.value("type", "");
    const uint64_t revision = line.value("revision", uint64_t{0});
    if (type == "error") {
      const std::string error = line.value("error", "");
      if (error == "compacted") {
        out.compact_revision = line.value("compact_revision", uint64_t{0});
        stop = FailedPrecondition(
            "compacted: the history after revision " + std::to_string(cursor.complete.value_or(0)) +
            " is gone (compacted up to " + std::to_string(*out.compact_revision) + ")");
      } else if (error == "unauthenticated") {
        stop = InvalidArgument(line.value("message", "the token was revoked"));
      }
      return Unavailable("the watch stream ended: " + line.value("message", error));
    }
    if (type == "progress") {
      // Every event up to `revision` has been sent: a half-delivered revision is complete.
      if (!cursor.complete || revision > *cursor.complete) cursor.complete = revision;
      // A progress line below the revision in progress (a resumed stream's first line, say)
      // completes nothing: its delivered events must still be skipped when they come again.
      if (revision >= cursor.partial_revision) {
        cursor.partial_count = 0;
        cursor.skip = 0;
      }
      out.revision = *cursor.complete;
      if (!request.progress) return Status::Ok();
      WatchEvent e;
      e.type = WatchEvent::Type::kProgress;
      e.revision = revision;
      // An error of on_event ends the watch (not a reason to resume on another server).
      Status s = on_event(e);
      if (!s.ok()) stop = s;
      return s;
    }
    if (revision != cursor.partial_revision) {
      // A new revision: the one before it is complete.
      if (cursor.partial_revision != 0) cursor.complete = cursor.partial_revision;
      cursor.partial_revision = revision;
      cursor.partial_count = 0;
    }
    if (cursor.skip > 0 && revision == cursor.partial_revision) {
      --cursor.skip;
      ++cursor.partial_count;
      return Status::Ok();
    }
    cursor.skip = 0;
    WatchEvent e;
    e.type = type == "delete" ? WatchEvent::Type::kDelete : WatchEvent::Type::kPut;
    e.revision = revision;
    NDS_ASSIGN_OR_RETURN(e.key, Base64Field(line, "key"));
    NDS_ASSIGN_OR_RETURN(e.value, Base64Field(line, "value"));
    e.content_type = line.value("content_type", "");
    ++cursor.partial_count;
    Status s = on_event(e);
    if (!s.ok()) stop = s;
    return s;
  };
  auto sink = [&](std::string_view bytes) -> Status {
    pending.append(bytes);
    size_t start = 0;
    for (size_t nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n', start)) {
      Status s = handle_line(std::string_view(pending).substr(start, nl - start));
      start = nl + 1;
      if (!s.ok()) {
        pending.clear();
        return s;
      }
    }
    pending.erase(0, start);
    return Status::Ok();
  };
  while (true) {
    HttpCall call;
    call.method = "GET";
    call.target = WatchTarget(request, cursor);
    AddAuthorization(&call);
    // Events of the revision in progress that were delivered are skipped when resending.
    if (cursor.partial_count > 0) {
      cursor.skip = cursor.partial_count;
      cursor.partial_count = 0;
    }
    pending.clear();
    Result<HttpReply> reply = transport_->Stream(call, sink, request.silence_max);
    if (!stop.ok()) {
      out.revision = cursor.complete.value_or(0);
      return stop;
    }
    if (reply.ok() && reply->status == 410) {
      auto body = nlohmann::json::parse(reply->body, nullptr, false);
      out.compact_revision =
          body.is_object() ? body.value("compact_revision", uint64_t{0}) : uint64_t{0};
      out.revision = cursor.complete.value_or(0);
      return FailedPrecondition("compacted: the history after revision " +
                                std::to_string(out.revision) + " is gone (compacted up to " +
                                std::to_string(*out.compact_revision) + ")");
    }
    if (reply.ok() && reply->status >= 400 && reply->status < 500) return StatusFromReply(*reply);
    // The stream ended (the node stopped or failed, cut us off, or went silent): resume on the
    // next server after the last complete revision.
    if (++failures_in_a_row > request.reconnects_max) {
      out.revision = cursor.complete.value_or(0);
      return Unavailable(
          "the watch could not be resumed: " +
          (reply.ok() ? "HTTP " + std::to_string(reply->status) : reply.status().ToString()));
    }
    ++out.reconnects;
    transport_->MoveToNextServer();
    if (failures_in_a_row > 1) {
      std::this_thread::sleep_for(
          std::min(transport_->options().retry_delay_max, std::chrono::milliseconds(100)));
    }
  }
}

}  // namespace nds::client
