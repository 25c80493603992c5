// The key-value routes for scripts: /set /get /rm /is /clear (all GET) and the streamed bulk
// routes /getKeys /getValues /getAll.
#include "api/http_errors.h"
#include "api/json_text.h"
#include "api/listing.h"
#include "api/service.h"
#include "store/keyspace.h"
#include "store/scanner.h"

namespace nds::api {
namespace {

net::HttpResponse Ok() {
  net::HttpResponse r;
  r.SetHeader("Content-Type", "text/plain; charset=utf-8");
  return r;
}

// The k parameter of /set /get /rm /is: present, non-empty, and (for /set) at most 64 characters.
Result<std::string> KvKey(const Target& t, bool for_set) {
  auto k = t.Param("k");
  if (!k) return InvalidArgument("the parameter k (the key) is missing");
  if (k->empty()) return InvalidArgument("the key k is empty");
  if (for_set && CodePointCount(*k) > kKvKeyCodePointsMax) {
    return InvalidArgument("the key k is longer than 64 characters");
  }
  NDS_RETURN_IF_ERROR(ValidateKey(*k, "the key k"));
  return std::string(*k);
}

// Streams a JSON array or object of the scanned pairs, a chunk at a time, from one view.
class BulkStream {
 public:
  enum class Shape { kKeys, kValues, kAll };

  BulkStream(std::unique_ptr<engine::View> view, const ListingOptions& opts, Shape shape,
             size_t chunk_bytes)
      : scanner_(std::move(view), opts.scan),
        encoding_(opts.encoding),
        shape_(shape),
        chunk_bytes_(chunk_bytes) {}

  Result<bool> Pull(std::string* out) {
    if (!opened_) {
      out->push_back(shape_ == Shape::kAll ? '{' : '[');
      opened_ = true;
    }
    while (out->size() < chunk_bytes_) {
      NDS_ASSIGN_OR_RETURN(bool more, scanner_.Next());
      if (!more) {
        out->append(shape_ == Shape::kAll ? "}\n" : "]\n");
        return false;
      }
      if (!first_) out->push_back(',');
      first_ = false;
      if (shape_ != Shape::kValues) AppendJsonString(out, scanner_.key(), encoding_);
      if (shape_ == Shape::kAll) out->push_back(':');
      if (shape_ != Shape::kKeys) AppendJsonString(out, scanner_.record().value, encoding_);
    }
    return true;
  }

 private:
  store::Scanner scanner_;
  StringEncoding encoding_;
  Shape shape_;
  size_t chunk_bytes_;
  bool opened_ = false;
  bool first_ = true;
};

}  // namespace

void ApiService::HandleKv(const CallPtr& call, std::string_view name) {
  static constexpr std::pair<std::string_view, Route> kRoutes[] = {{"set", Route::kSet},
                                                                   {"get", Route::kGet},
                                                                   {"rm", Route::kRm},
                                                                   {"is", Route::kIs},
                                                                   {"clear", Route::kClear}};
  for (const auto& [n, r] : kRoutes) {
    if (n == name) call->route = r;
  }
  if (call->request.method != "GET") {
    net::HttpResponse r = ErrorResponse(405, "method_not_allowed", "the key-value routes are GET");
    r.SetHeader("Allow", "GET");
    return Finish(call, std::move(r));
  }
  if (name == "clear") {
    return SubmitThen(call, store::ClearCommand(), [](const store::ApplyResult&) { return Ok(); });
  }
  auto key = KvKey(call->target, name == "set");
  if (!key.ok()) return Finish(call, ErrorResponse(key.status()));
  if (name == "set") {
    auto v = call->target.Param("v");
    if (!v)
      return Finish(call, ErrorResponse(400, "invalid_argument", "the parameter v is missing"));
    if (CodePointCount(*v) > kKvValueCodePointsMax) {
      return Finish(call,
                    ErrorResponse(400, "invalid_argument", "v is longer than 256 characters"));
    }
    auto lease = LeaseParam(call->target);
    if (!lease.ok()) return Finish(call, ErrorResponse(lease.status()));
    auto cmd = store::PutCommand(std::move(key).value(), std::string(*v));
    cmd.lease_id = *lease;
    return SubmitThen(call, std::move(cmd), [](const store::ApplyResult&) { return Ok(); });
  }
  if (name == "rm") {
    return SubmitThen(call, store::DeleteCommand(std::move(key).value()),
                      [](const store::ApplyResult&) { return Ok(); });
  }
  bool want_value = name == "get";
  AfterReadPoint(call, [this, call, key = std::move(key).value(), want_value] {
    auto bytes = node_->engine().Get(store::DataKey(key));
    if (!bytes.ok()) return Finish(call, ErrorResponse(bytes.status()));
    if (!bytes->has_value()) return Finish(call, ErrorResponse(404, "not_found", "no such key"));
    net::HttpResponse r = Ok();
    if (want_value) {
      auto rec = store::DecodeRecord(**bytes);
      if (!rec.ok()) return Finish(call, ErrorResponse(rec.status()));
      r.body.assign(rec->value);
      r.SetHeader("ETag", "\"" + std::to_string(rec->revision) + "\"");
    }
    Finish(call, std::move(r));
  });
}

void ApiService::HandleBulk(const CallPtr& call, std::string_view name) {
  BulkStream::Shape shape = name == "getKeys"     ? BulkStream::Shape::kKeys
                            : name == "getValues" ? BulkStream::Shape::kValues
                                                  : BulkStream::Shape::kAll;
  call->route = shape == BulkStream::Shape::kKeys     ? Route::kGetKeys
                : shape == BulkStream::Shape::kValues ? Route::kGetValues
                                                      : Route::kGetAll;
  if (call->request.method != "GET") {
    net::HttpResponse r = ErrorResponse(405, "method_not_allowed", "the bulk routes are GET");
    r.SetHeader("Allow", "GET");
    return Finish(call, std::move(r));
  }
  auto opts = ParseListing(call->target);
  if (!opts.ok()) return Finish(call, ErrorResponse(opts.status()));
  AfterReadPoint(call, [this, call, opts = std::move(opts).value(), shape] {
    auto stream = std::make_shared<BulkStream>(node_->engine().NewView(), opts, shape,
                                               options_.limits.stream_chunk_bytes);
    net::HttpResponse r;
    r.SetHeader("Content-Type", "application/json");
    r.stream = [stream](std::string* out) { return stream->Pull(out); };
    Finish(call, std::move(r));
  });
}

}  // namespace nds::api
