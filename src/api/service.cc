// Request dispatch, metrics, and the helpers shared by every route.
#include "api/service.h"

#include <fmt/format.h>

#include "api/http_errors.h"
#include "store/auth_state.h"

namespace nds::api {

Status ValidateKey(std::string_view key, std::string_view what) {
  if (key.empty()) return InvalidArgument(std::string(what) + " is empty");
  if (key.size() > kKeyBytesMax) {
    return InvalidArgument(std::string(what) + " of " + std::to_string(key.size()) +
                           " bytes is longer than " + std::to_string(kKeyBytesMax) + " bytes");
  }
  return Status::Ok();
}

ApiService::ApiService(node::Node* node, ApiOptions options)
    : node_(node),
      options_(std::move(options)),
      keepalives_(std::make_unique<KeepAliveBatcher>(
          node_, KeepAliveBatcherOptions{options_.limits.lease_keepalive_batch},
          options_.lease_keeper.get())) {}

void ApiService::Handle(net::HttpRequest request, net::Responder respond) {
  auto call = std::make_shared<Call>();
  call->started = std::chrono::steady_clock::now();
  call->request = std::move(request);
  call->respond = std::move(respond);
  auto target = ParseTarget(call->request.target);
  if (!target.ok()) {
    Finish(call, ErrorResponse(target.status()));
    return;
  }
  call->target = std::move(target).value();
  if (!Authorize(call)) return;
  Dispatch(call);
}

void ApiService::Finish(const CallPtr& call, net::HttpResponse response) {
  metrics_.Observe(call->route, response.status, std::chrono::steady_clock::now() - call->started);
  call->respond(std::move(response));
}

void ApiService::Dispatch(const CallPtr& call) {
  std::string_view path = call->target.path;
  constexpr std::string_view kStore = "/store/";
  constexpr std::string_view kSecrets = "/secrets/";
  const bool data_route = path.starts_with(kStore) || path == "/keys" ||
                          path.starts_with(kSecrets) || path == "/set" || path == "/get" ||
                          path == "/rm" || path == "/is" || path == "/clear" ||
                          path == "/getKeys" || path == "/getValues" || path == "/getAll" ||
                          path == "/watch" || path == "/leases" || path.starts_with("/leases/");
  // A removed node's data is no longer kept up to date: not even stale reads are served.
  if (data_route && node_->GetStatus().role == node::Role::kRemoved) {
    return Finish(call, ErrorResponse(Removed(std::string(node::kRemovedMessage))));
  }
  if (path.starts_with(kStore)) return HandleStore(call, path.substr(kStore.size()));
  if (path == "/keys") return HandleKeys(call);
  if (path.starts_with(kSecrets)) return HandleSecret(call, path.substr(kSecrets.size()));
  if (path == "/set" || path == "/get" || path == "/rm" || path == "/is" || path == "/clear") {
    return HandleKv(call, path.substr(1));
  }
  if (path == "/getKeys" || path == "/getValues" || path == "/getAll") {
    return HandleBulk(call, path.substr(1));
  }
  if (path == "/snapshot") return HandleSnapshot(call);
  if (HandleCluster(call, path)) return;
  if (path == "/ui" || path.starts_with("/ui/")) return HandleUi(call, path);
  if (path == "/txn") return HandleTxn(call);
  if (path == "/watch") return HandleWatch(call);
  if (path == "/leases" || path.starts_with("/leases/")) return HandleLeases(call, path);
  if (path == "/auth/tokens" || path.starts_with("/auth/tokens/")) return HandleAuth(call, path);
  if (path == "/" && (call->request.method == "GET" || call->request.method == "HEAD")) {
    // A person who points a browser at a node learns where to go (no data, no state shown).
    net::HttpResponse r;
    r.SetHeader("Content-Type", "text/plain; charset=utf-8");
    r.body = fmt::format(
        "nds {}: a replicated key-value and blob store.\nThe dashboard is at /ui/; try also "
        "GET /status, /cluster/members, /metrics; every route is listed in docs/api.md.\n",
        options_.version);
    return Finish(call, std::move(r));
  }
  Finish(call,
         ErrorResponse(404, "not_found",
                       "no route " + std::string(path) + "; every route is listed in docs/api.md"));
}

void ApiService::AfterReadPoint(const CallPtr& call, std::function<void()> then) {
  auto consistency = call->target.Param("consistency");
  if (consistency && *consistency == "stale") {
    then();
    return;
  }
  if (consistency && *consistency != "linearizable") {
    Finish(call, ErrorResponse(400, "invalid_argument",
                               "consistency must be 'linearizable' (the default) or 'stale'"));
    return;
  }
  node_->WaitForReadPoint([this, call, then = std::move(then)](const Status& s) {
    if (!s.ok()) {
      Finish(call, ErrorResponse(s));
      return;
    }
    // A token revoked before this read point no longer reads (docs/security.md "Revocation").
    if (!StillAuthorized(call)) return;
    then();
  });
}

void ApiService::SubmitThen(const CallPtr& call, store::Command cmd,
                            std::function<net::HttpResponse(const store::ApplyResult&)> on_ok,
                            std::function<net::HttpResponse(const Status&)> on_error) {
  // A write a token allowed applies only while the token's record is still the one it was
  // allowed with, on every node (docs/security.md "Revocation").
  if (!call->auth_name.empty() && store::IsUserWrite(cmd.type)) {
    cmd.authorized_by = store::Command::Authorization{call->auth_name, call->auth_digest};
  }
  node_->Submit(std::move(cmd), [this, call, on_ok = std::move(on_ok),
                                 on_error = std::move(on_error)](const store::ApplyResult& r) {
    if (r.status.ok()) {
      net::HttpResponse resp = on_ok(r);
      resp.SetHeader("X-Revision", std::to_string(r.revision));
      Finish(call, std::move(resp));
    } else if (r.token_refused) {
      // Refused when applied: the token was revoked after this node accepted the write.
      net::HttpResponse resp = ErrorResponse(401, "unauthenticated", "unknown or revoked token");
      resp.SetHeader("WWW-Authenticate", "Bearer");
      Finish(call, std::move(resp));
    } else {
      Finish(call, on_error ? on_error(r.status) : ErrorResponse(r.status));
    }
  });
}

}  // namespace nds::api
