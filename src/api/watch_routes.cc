// GET /watch (a chunked stream of changes, one JSON object per line) and reads at a revision,
// GET /store/{k}?revision=R (docs/api.md "Watch and history").
#include <charconv>

#include "api/http_errors.h"
#include "api/json_text.h"
#include "api/service.h"
#include "store/auth_state.h"
#include "store/history.h"

namespace nds::api {
namespace {

Result<uint64_t> ParseRevision(std::string_view text, std::string_view name) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return InvalidArgument(std::string(name) + " must be a whole number (a revision)");
  }
  return v;
}

net::HttpResponse Compacted(uint64_t compact_revision) {
  net::HttpResponse r;
  r.status = 410;
  r.SetHeader("Content-Type", "application/json");
  r.body = "{\"error\":\"compacted\",\"compact_revision\":" + std::to_string(compact_revision) +
           ",\"message\":\"this revision is older than the history kept "
           "(--history-revisions, --history-bytes)\"}\n";
  return r;
}

void AppendFailureLine(std::string* out, const Watcher::Failure& f) {
  *out += "{\"type\":\"error\",\"error\":";
  AppendJsonString(out, f.error, StringEncoding::kLossyUtf8);
  if (f.error == "compacted") *out += ",\"compact_revision\":" + std::to_string(f.compact_revision);
  *out += ",\"message\":";
  AppendJsonString(out, f.message, StringEncoding::kLossyUtf8);
  *out += "}\n";
}

// One open watch: removes its watcher from the hub when the connection lets go of the stream.
struct WatchSession {
  std::shared_ptr<WatchHub> hub;
  std::shared_ptr<Watcher> watcher;
  StringEncoding encoding = StringEncoding::kLossyUtf8;
  // Whether the request's token still stands (checked with each progress line).
  std::function<bool()> still_allowed;
  bool ended = false;

  ~WatchSession() { hub->Remove(watcher.get()); }

  Result<bool> Pull(std::string* out) {
    if (ended) return false;
    const WatchHubOptions& o = hub->options();
    Watcher::Step step =
        watcher->Next(*hub->engine(), hub->dispatched(), o.progress_interval, o.page_bytes);
    for (const SharedEvent& e : step.events) *out += e->Line(encoding);
    if (step.progress) {
      if (still_allowed && !still_allowed()) {
        AppendFailureLine(out, {"unauthenticated", "the token was revoked", 0});
        ended = true;
        return true;
      }
      *out += "{\"type\":\"progress\",\"revision\":" + std::to_string(*step.progress) + "}\n";
    }
    if (step.failure) {
      AppendFailureLine(out, *step.failure);
      ended = true;
    }
    return true;
  }
};

}  // namespace

void ApiService::HandleWatch(const CallPtr& call) {
  call->route = Route::kOther;
  if (call->request.method != "GET") {
    net::HttpResponse r = ErrorResponse(405, "method_not_allowed", "this route allows GET");
    r.SetHeader("Allow", "GET");
    return Finish(call, std::move(r));
  }
  if (!options_.watch_hub) {
    return Finish(call, ErrorResponse(503, "unavailable", "this node does not serve watches"));
  }
  const Target& t = call->target;
  auto key = t.Param("key");
  auto prefix = t.Param("prefix");
  if (key && prefix) {
    return Finish(call, ErrorResponse(400, "invalid_argument", "give key or prefix, not both"));
  }
  WatchFilter filter;
  if (key) {
    if (Status s = ValidateKey(*key, "key"); !s.ok()) return Finish(call, ErrorResponse(s));
    filter = WatchFilter{std::string(*key), true};
  } else if (prefix) {
    if (prefix->size() > kKeyBytesMax) {
      return Finish(call, ErrorResponse(400, "invalid_argument", "prefix is longer than a key"));
    }
    filter = WatchFilter{std::string(*prefix), false};
  }
  std::optional<uint64_t> from;
  if (auto f = t.Param("from")) {
    auto parsed = ParseRevision(*f, "from");
    if (!parsed.ok()) return Finish(call, ErrorResponse(parsed.status()));
    from = *parsed;
  }
  StringEncoding encoding = StringEncoding::kLossyUtf8;
  if (auto e = t.Param("encoding")) {
    if (*e == "base64") {
      encoding = StringEncoding::kBase64;
    } else if (*e != "utf8") {
      return Finish(call,
                    ErrorResponse(400, "invalid_argument", "encoding must be 'base64' or 'utf8'"));
    }
  }
  uint64_t compact_revision = 0;
  auto watcher = options_.watch_hub->Add(std::move(filter), from, &compact_revision);
  if (!watcher.ok()) {
    if (watcher.status().code() == StatusCode::kNotFound) {
      return Finish(call, Compacted(compact_revision));
    }
    const bool full = watcher.status().code() == StatusCode::kResourceExhausted;
    return Finish(
        call, ErrorResponse(full ? 503 : HttpStatusFor(watcher.status().code()),
                            full ? "too_many_watches" : "unavailable", watcher.status().message()));
  }
  auto session = std::make_shared<WatchSession>();
  session->hub = options_.watch_hub;
  session->watcher = std::move(watcher).value();
  session->encoding = encoding;
  if (!call->auth_name.empty()) {
    const node::Node* node = node_;
    session->still_allowed = [node, name = call->auth_name, record = call->auth_record] {
      auto stored = node->engine().Get(store::SystemKey(store::TokenKeyName(name)));
      return stored.ok() && stored->has_value() && **stored == record;
    };
  }
  net::HttpResponse r;
  r.SetHeader("Content-Type", "application/x-ndjson");
  r.SetHeader("Cache-Control", "no-store");
  r.stream = [session](std::string* out) { return session->Pull(out); };
  r.stream_wait = [session](std::function<void()> resume) {
    session->watcher->Wait(std::move(resume), session->hub->options().progress_interval);
  };
  Finish(call, std::move(r));
}

void ApiService::StoreReadAt(const CallPtr& call, std::string key, bool head,
                             std::string_view revision_text) {
  auto revision = ParseRevision(revision_text, "revision");
  if (!revision.ok()) return Finish(call, ErrorResponse(revision.status()));
  AfterReadPoint(call, [this, call, key = std::move(key), head, revision = *revision] {
    std::unique_ptr<engine::View> view = node_->engine().NewView();
    if (revision > view->applied_index().value) {
      return Finish(call, ErrorResponse(400, "invalid_argument",
                                        "revision " + std::to_string(revision) +
                                            " is after the current revision " +
                                            std::to_string(view->applied_index().value)));
    }
    auto floor = store::ReadCompactRevision(*view);
    if (!floor.ok()) return Finish(call, ErrorResponse(floor.status()));
    if (revision < *floor) return Finish(call, Compacted(*floor));
    auto rec = store::ReadAtRevision(*view, key, revision);
    if (!rec.ok()) return Finish(call, ErrorResponse(rec.status()));
    if (!rec->has_value()) {
      return Finish(call, ErrorResponse(404, "not_found", "no such key at that revision"));
    }
    const store::Record& r = **rec;
    net::HttpResponse resp;
    resp.SetHeader("ETag", "\"" + std::to_string(r.revision) + "\"");
    resp.SetHeader("X-Revision", std::to_string(revision));
    resp.SetHeader("Content-Type", r.content_type.empty() ? std::string("application/octet-stream")
                                                          : r.content_type);
    if (head) {
      resp.head_content_length = r.value.size();
    } else {
      resp.body = r.value;
    }
    Finish(call, std::move(resp));
  });
}

}  // namespace nds::api
