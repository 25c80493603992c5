// The blob routes: /store/{location} with every method and conditional request, and /keys.
#include <charconv>

#include "api/http_errors.h"
#include "api/json_text.h"
#include "api/listing.h"
#include "api/service.h"
#include "store/keyspace.h"
#include "store/scanner.h"

namespace nds::api {
namespace {

constexpr size_t kContentTypeBytesMax = 256;

std::string ETag(uint64_t revision) { return "\"" + std::to_string(revision) + "\""; }

// Parses one entity tag: "123" (or W/"123" when `allow_weak`) into a revision.
Result<uint64_t> ParseETag(std::string_view tag, bool allow_weak) {
  if (allow_weak && tag.starts_with("W/")) tag.remove_prefix(2);
  if (tag.size() < 3 || tag.front() != '"' || tag.back() != '"') {
    return InvalidArgument("an entity tag must look like \"<revision>\"");
  }
  std::string_view digits = tag.substr(1, tag.size() - 2);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || p != digits.data() + digits.size()) {
    return InvalidArgument("an entity tag must hold a revision number");
  }
  return v;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// If-None-Match on GET/HEAD: true when the current revision matches one listed tag (or *).
Result<bool> NoneMatchHits(std::string_view header, uint64_t revision) {
  header = Trim(header);
  if (header == "*") return true;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view one = Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (one.empty()) continue;
    NDS_ASSIGN_OR_RETURN(uint64_t r, ParseETag(one, /*allow_weak=*/true));
    if (r == revision) return true;
  }
  return false;
}

net::HttpResponse MethodNotAllowed(std::string_view allow) {
  net::HttpResponse r =
      ErrorResponse(405, "method_not_allowed", "this route allows " + std::string(allow));
  r.SetHeader("Allow", std::string(allow));
  return r;
}

// The write precondition a request's If-Match / If-None-Match headers ask for.
struct WritePrecondition {
  store::Precondition pre = store::Precondition::kNone;
  uint64_t revision = 0;
};

Result<WritePrecondition> ParseWritePrecondition(const net::HttpRequest& req,
                                                 bool allow_none_match) {
  WritePrecondition w;
  if (req.HasHeader("if-match")) {
    std::string_view v = Trim(req.Header("if-match"));
    if (v == "*") {
      w.pre = store::Precondition::kMustExist;
    } else {
      NDS_ASSIGN_OR_RETURN(w.revision, ParseETag(v, /*allow_weak=*/false));
      w.pre = store::Precondition::kRevisionEquals;
    }
  }
  if (req.HasHeader("if-none-match")) {
    if (!allow_none_match || Trim(req.Header("if-none-match")) != "*") {
      return InvalidArgument("If-None-Match on a write must be '*' (create only)");
    }
    if (w.pre != store::Precondition::kNone) {
      return InvalidArgument("If-Match and If-None-Match cannot be combined");
    }
    w.pre = store::Precondition::kMustNotExist;
  }
  return w;
}

}  // namespace

void ApiService::HandleStore(const CallPtr& call, std::string_view encoded_key) {
  const std::string& m = call->request.method;
  if (m == "GET")
    call->route = Route::kStoreGet;
  else if (m == "HEAD")
    call->route = Route::kStoreHead;
  else if (m == "PUT")
    call->route = Route::kStorePut;
  else if (m == "POST")
    call->route = Route::kStorePost;
  else if (m == "DELETE")
    call->route = Route::kStoreDelete;
  else
    return Finish(call, MethodNotAllowed("GET, HEAD, PUT, POST, DELETE"));

  auto key = PercentDecode(encoded_key, /*plus_is_space=*/false);
  if (!key.ok()) return Finish(call, ErrorResponse(key.status()));
  if (Status s = ValidateKey(*key, "the key"); !s.ok()) return Finish(call, ErrorResponse(s));
  if (m == "GET" || m == "HEAD") return StoreRead(call, std::move(key).value(), m == "HEAD");
  if (m == "DELETE") return StoreDelete(call, std::move(key).value());
  StoreWrite(call, std::move(key).value());
}

void ApiService::StoreRead(const CallPtr& call, std::string key, bool head) {
  if (auto revision = call->target.Param("revision")) {
    return StoreReadAt(call, std::move(key), head, *revision);
  }
  AfterReadPoint(call, [this, call, key = std::move(key), head] {
    auto bytes = node_->engine().Get(store::DataKey(key));
    if (!bytes.ok()) return Finish(call, ErrorResponse(bytes.status()));
    if (!bytes->has_value()) return Finish(call, ErrorResponse(404, "not_found", "no such key"));
    auto rec = store::DecodeRecord(**bytes);
    if (!rec.ok()) return Finish(call, ErrorResponse(rec.status()));
    net::HttpResponse r;
    r.SetHeader("ETag", ETag(rec->revision));
    if (call->request.HasHeader("if-none-match")) {
      auto hit = NoneMatchHits(call->request.Header("if-none-match"), rec->revision);
      if (!hit.ok()) return Finish(call, ErrorResponse(hit.status()));
      if (*hit) {
        r.status = 304;
        return Finish(call, std::move(r));
      }
    }
    r.SetHeader("Content-Type", rec->content_type.empty() ? std::string("application/octet-stream")
                                                          : std::string(rec->content_type));
    if (head) {
      r.head_content_length = rec->value.size();
    } else {
      r.body.assign(rec->value);
    }
    Finish(call, std::move(r));
  });
}

void ApiService::StoreWrite(const CallPtr& call, std::string key) {
  const net::HttpRequest& req = call->request;
  bool post = req.method == "POST";
  if (req.body.size() > options_.limits.value_bytes_max) {
    return Finish(call,
                  ErrorResponse(413, "too_large", "the value is larger than --max-value-bytes"));
  }
  std::string content_type(req.Header("content-type"));
  if (content_type.size() > kContentTypeBytesMax) {
    return Finish(call,
                  ErrorResponse(400, "invalid_argument", "Content-Type is longer than 256 bytes"));
  }
  WritePrecondition w;
  if (post) {
    if (req.HasHeader("if-match") || req.HasHeader("if-none-match")) {
      return Finish(call, ErrorResponse(400, "invalid_argument",
                                        "POST creates only; use PUT for conditional writes"));
    }
    w.pre = store::Precondition::kMustNotExist;
  } else {
    auto parsed = ParseWritePrecondition(req, /*allow_none_match=*/true);
    if (!parsed.ok()) return Finish(call, ErrorResponse(parsed.status()));
    w = *parsed;
  }
  auto lease = LeaseParam(call->target);
  if (!lease.ok()) return Finish(call, ErrorResponse(lease.status()));
  std::string location = "/store/" + PercentEncodePath(key);
  // The body moves into the command: the value is not copied on its way to the proposal.
  auto cmd = store::PutCommand(std::move(key), std::move(call->request.body),
                               std::move(content_type), w.pre, w.revision);
  cmd.lease_id = *lease;
  SubmitThen(
      call, std::move(cmd),
      [location](const store::ApplyResult& r) {
        net::HttpResponse resp;
        resp.status = r.created ? 201 : 204;
        resp.SetHeader("ETag", ETag(r.revision));
        if (r.created) resp.SetHeader("Location", location);
        return resp;
      },
      [post](const Status& s) {
        // On PUT every failed precondition is 412 (If-Match on a missing key, If-None-Match: *
        // on an existing one); POST's only precondition failing is 409.
        if (!post &&
            (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kAlreadyExists)) {
          return ErrorResponse(412, "failed_precondition", s.message());
        }
        return ErrorResponse(s);
      });
}

void ApiService::StoreDelete(const CallPtr& call, std::string key) {
  auto parsed = ParseWritePrecondition(call->request, /*allow_none_match=*/false);
  if (!parsed.ok()) return Finish(call, ErrorResponse(parsed.status()));
  WritePrecondition w = *parsed;
  if (w.pre == store::Precondition::kNone) w.pre = store::Precondition::kMustExist;
  bool conditional = call->request.HasHeader("if-match");
  SubmitThen(
      call, store::DeleteCommand(std::move(key), w.pre, w.revision),
      [](const store::ApplyResult&) {
        net::HttpResponse resp;
        resp.status = 204;
        return resp;
      },
      [conditional](const Status& s) {
        if (conditional && s.code() == StatusCode::kNotFound) {
          return ErrorResponse(412, "failed_precondition", "the key does not exist");
        }
        return ErrorResponse(s);
      });
}

void ApiService::HandleKeys(const CallPtr& call) {
  call->route = Route::kKeys;
  if (call->request.method != "GET") return Finish(call, MethodNotAllowed("GET"));
  auto opts = ParseListing(call->target);
  if (!opts.ok()) return Finish(call, ErrorResponse(opts.status()));
  AfterReadPoint(call, [this, call, opts = std::move(opts).value()]() mutable {
    size_t limit = opts.scan.limit == 0 ? kListLimitDefault : opts.scan.limit;
    opts.scan.limit = limit;
    store::Scanner scanner(node_->engine().NewView(), opts.scan);
    net::HttpResponse r;
    r.SetHeader("Content-Type", "application/json");
    r.body = "{\"keys\":[";
    std::string last;
    bool first = true;
    for (;;) {
      auto more = scanner.Next();
      if (!more.ok()) return Finish(call, ErrorResponse(more.status()));
      if (!*more) break;
      if (!first) r.body.push_back(',');
      first = false;
      AppendJsonString(&r.body, scanner.key(), opts.encoding);
      last.assign(scanner.key());
    }
    r.body += "]";
    if (scanner.more()) {
      r.body += ",\"next\":";
      AppendJsonString(&r.body, last, opts.encoding);
    }
    r.body += "}\n";
    Finish(call, std::move(r));
  });
}

}  // namespace nds::api
