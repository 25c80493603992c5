// ApiService: the HTTP routes of docs/api.md on top of node::Node (and nothing below it).
// It validates each request, builds store commands or reads, and answers through the Responder.
//
// Thread-safe: Handle() runs on any io thread; completions from the node run on its threads and
// only touch the request's own state. Owns nothing but its metrics; the node outlives it.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "api/lease_keepalive_batcher.h"
#include "api/metrics.h"
#include "api/uri.h"
#include "api/watch_hub.h"
#include "net/http.h"
#include "net/peer_tls.h"
#include "node/node.h"
#include "util/limits.h"

namespace nds::api {

class LeaseKeeper;

struct ApiOptions {
  Limits limits;
  // Access tokens a cluster may hold (POST /auth/tokens answers 409 beyond it).
  size_t auth_tokens_max = 1000;
  std::string version = NDS_VERSION;
  // The cluster secret peers prove they hold: handed only to a joiner whose join token checked
  // out (POST /cluster/members), never shown by any other route. Empty: joins are refused.
  std::string cluster_secret;
  // The data directory, for the dashboard's disk figures (GET /ui/data); empty: not shown.
  std::string data_dir;
  // With --peer-tls-*: a joiner must show a peer certificate the peer CA signed (POST
  // /cluster/members); without, a joiner that shows one is refused (its peers would not speak TLS).
  std::shared_ptr<net::PeerTls> peer_tls;
  // Serves GET /watch (api/watch_hub.h); null: /watch answers 503. Started and stopped by the
  // composition root (cli/start_command.cc), which also feeds it the node's applied revisions.
  std::shared_ptr<WatchHub> watch_hub;
  // This node's lease keeper, for the time a lease has left (GET /leases/{id}) and the keepalives
  // the leader keeps in memory; null: the TTL, and every keepalive goes through the log.
  std::shared_ptr<LeaseKeeper> lease_keeper;
  // The HTTP server's budget of request bodies in flight, for GET /metrics; null: not shown.
  std::shared_ptr<const net::UploadBudget> upload_budget;
};

class ApiService final : public net::Handler {
 public:
  // `node` must outlive the service.
  ApiService(node::Node* node, ApiOptions options);

  void Handle(net::HttpRequest request, net::Responder respond) override;

 private:
  // One request in flight: what every route handler gets.
  struct Call {
    net::HttpRequest request;
    Target target;
    Route route = Route::kOther;
    std::chrono::steady_clock::time_point started;
    net::Responder respond;
    // With authentication on: the name of the token the request was allowed with and its record
    // as stored then, for the re-check at the read point (empty when no token was needed).
    std::string auth_name;
    std::string auth_record;
    std::string auth_digest;  // store::TokenRecordDigest(auth_record)
    // The token was not found (or did not match) in this node's applied state and the check waits
    // for, or has passed, a linearizable read point: a token created on another node a moment ago
    // may not have reached this one yet.
    bool auth_waited = false;
  };
  using CallPtr = std::shared_ptr<Call>;

  void Dispatch(const CallPtr& call);
  // auth_routes.cc: with authentication on, checks the bearer token against this node's applied
  // state and the route's needs (access.h). True when the request may go on; otherwise the
  // request has been answered (401, 403, or 503 while this node does not know the cluster's mode),
  // or, for a token this node does not know yet, the check runs again after a linearizable read
  // point and dispatches the request itself when it passes.
  bool Authorize(const CallPtr& call);
  // Whether the token the request was allowed with is still stored unchanged (not revoked).
  bool StillAuthorized(const CallPtr& call);
  enum class AuthMode { kUnknown, kOff, kOn };
  Result<AuthMode> CurrentAuthMode();
  void HandleAuth(const CallPtr& call, std::string_view path);
  void CreateToken(const CallPtr& call);
  void ListTokens(const CallPtr& call);
  void RevokeToken(const CallPtr& call, std::string_view encoded_name);
  void Finish(const CallPtr& call, net::HttpResponse response);
  // Runs `then` once a read may be served: at once for ?consistency=stale, else after the node's
  // linearizable read point; answers the error itself otherwise.
  void AfterReadPoint(const CallPtr& call, std::function<void()> then);
  // Submits `cmd` and answers with `on_ok` (given the result) or the error.
  void SubmitThen(const CallPtr& call, store::Command cmd,
                  std::function<net::HttpResponse(const store::ApplyResult&)> on_ok,
                  std::function<net::HttpResponse(const Status&)> on_error = nullptr);

  // store_routes.cc
  void HandleStore(const CallPtr& call, std::string_view encoded_key);
  void StoreRead(const CallPtr& call, std::string key, bool head);
  void StoreWrite(const CallPtr& call, std::string key);
  void StoreDelete(const CallPtr& call, std::string key);
  void HandleKeys(const CallPtr& call);
  // kv_routes.cc
  void HandleKv(const CallPtr& call, std::string_view name);
  void HandleBulk(const CallPtr& call, std::string_view name);
  // secret_routes.cc
  void HandleSecret(const CallPtr& call, std::string_view encoded_id);
  // snapshot_route.cc: GET /snapshot.
  void HandleSnapshot(const CallPtr& call);
  // cluster_routes.cc
  bool HandleCluster(const CallPtr& call, std::string_view path);
  void JoinCluster(const CallPtr& call);                             // POST /cluster/members
  void RemoveMember(const CallPtr& call, std::string_view id_text);  // DELETE /cluster/members/{id}
  void TransferLeader(const CallPtr& call);                          // POST /cluster/leader
  std::string StatusJson() const;
  // watch_routes.cc: GET /watch, and GET /store/{k}?revision=R.
  void HandleWatch(const CallPtr& call);
  void StoreReadAt(const CallPtr& call, std::string key, bool head, std::string_view revision);
  // txn_routes.cc: POST /txn
  void HandleTxn(const CallPtr& call);
  // lease_routes.cc: /leases, /leases/{id}, /leases/{id}/keepalive, /leases/keepalive.
  void HandleLeases(const CallPtr& call, std::string_view path);
  void GrantLease(const CallPtr& call);
  void KeepAliveLease(const CallPtr& call, uint64_t id);
  // POST /leases/keepalive {"ids": [...]}: each id through the same batcher as KeepAliveLease;
  // answered once every id has its entry.
  void KeepAliveLeases(const CallPtr& call);
  void ShowLease(const CallPtr& call, uint64_t id);
  // The prefix of the request's token (empty: no token, or an unprefixed one).
  std::string TokenPrefix(const CallPtr& call) const;
  // ui_routes.cc: the dashboard's files and its live figures.
  void HandleUi(const CallPtr& call, std::string_view path);
  std::string UiDataJson() const;
  std::string MembersJson() const;
  // metrics_routes.cc: the body of GET /metrics.
  std::string MetricsText() const;

  node::Node* node_;
  const ApiOptions options_;
  Metrics metrics_;
  std::unique_ptr<KeepAliveBatcher> keepalives_;
  // Once true, stays true: no command turns authentication off (store/auth_state.h).
  std::atomic<bool> auth_on_{false};
  // The member table was seen non-empty with no auth mode in the same engine view: the cluster
  // was made without --auth (the mode is recorded before the first member).
  std::atomic<bool> seeded_without_auth_{false};
};

// The ?lease=ID of a write (lease_routes.cc): 0 when absent; kInvalidArgument when malformed.
Result<uint64_t> LeaseParam(const Target& target);

// Validates a decoded key: 1 to 1024 bytes (API.md). kInvalidArgument naming its length.
Status ValidateKey(std::string_view key, std::string_view what);

}  // namespace nds::api
