// nds::Client: the C++ client library of an nds cluster (docs/api.md is the contract it
// speaks). Used by the `nds` CLI, the bench tool, tests and applications.
//
//   nds::client::ClientOptions options;
//   options.servers = nds::client::ParseServerList("node1:7777,node2:7777").value();
//   NDS_ASSIGN_OR_RETURN(auto client, nds::Client::Create(options));
//   NDS_ASSIGN_OR_RETURN(auto put, client->Put("photos/cat.jpg", bytes));
//   NDS_ASSIGN_OR_RETURN(auto blob, client->Get("photos/cat.jpg"));  // blob.value, .revision
//
// Calls are synchronous and return a Status or Result: 404 -> kNotFound, 409 -> kAlreadyExists,
// 412 -> kFailedPrecondition, 413 -> kResourceExhausted, 400 -> kInvalidArgument, 503 ->
// kUnavailable, 507 -> kNoSpace, no reply in time -> kTimeout, no server reachable or connection
// lost -> kUnavailable (see http_error.h for the full table), each with the server's message.
// Keys and secret ids are any bytes, 1 to kKeyBytesMax of them; values are any bytes.
// Failover and retries follow transport.h: only idempotent calls (Get, Head, List, an
// unconditional Put or Delete, the /set-style routes, cluster reads) are retried after they may
// have arrived; Create, conditional writes, StoreSecret, Join and TransferLeader never are.
//
// Including this header pulls in no Asio or Beast: the transport is behind a pointer.
//
// A Client owns one keep-alive connection. Not thread-safe: use one Client per thread (or
// serialise calls with your own mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/http_types.h"
#include "client/options.h"
#include "client/txn.h"
#include "client/watch.h"
#include "util/status.h"
#include "util/strong_id.h"

namespace nds::client {

class Transport;

struct PutOptions {
  std::string content_type;  // sent as Content-Type when not empty
  // Compare-and-swap: write only if the key's current revision is this one (If-Match).
  std::optional<uint64_t> if_match_revision;
  // Create only: write only if the key does not exist (If-None-Match: *).
  bool if_none_match_star = false;
};

struct PutResult {
  uint64_t revision = 0;
  bool created = false;  // 201: the key did not exist; false for 204 (replaced)
};

struct Blob {
  std::string value;
  uint64_t revision = 0;  // from ETag "N"
  std::string content_type;
};

struct BlobInfo {
  uint64_t size_bytes = 0;  // the blob's Content-Length
  uint64_t revision = 0;
  std::string content_type;
};

struct ListPage {
  std::vector<std::string> keys;    // in byte order, exact bytes
  std::optional<std::string> next;  // pass as `after` for the next page; absent at the end
};

struct NodeStatus {
  NodeId id;
  std::string name;
  std::string cluster_id;
  std::string role;  // "leader", "follower", "candidate", "learner"
  Term term;
  NodeId leader_id;  // kNoNode when no leader is known
  LogIndex commit_index;
  LogIndex applied_index;
  std::string version;
  std::string engine;  // "rocksdb" or "memory"; empty from a node that does not say
};

struct MemberInfo {
  NodeId id;
  std::string name;
  std::string peer_address;
  std::string api_address;
  bool voter = false;                      // false: learner
  std::optional<bool> reachable;           // as the leader sees it, when reported
  std::optional<uint64_t> behind_entries;  // how far behind the leader's log, when reported
};

// What a node asks when it joins (POST /cluster/members). Addresses are HOST:PORT.
struct JoinRequest {
  std::string name;          // 1 to 64 bytes, unique in the cluster
  std::string peer_address;  // where the other members reach its Raft transport; unique
  std::string api_address;   // where clients reach its HTTP API
  // PEM of the certificate (and intermediates) it presents to its peers; empty without peer TLS.
  std::string peer_certificate;
};

struct JoinReply {
  uint64_t id = 0;  // the new member's id
  std::string cluster_id;
  std::vector<MemberInfo> members;  // the answering node's view of the cluster
  // The cluster secret the new member's peer connections prove they hold, base64url; "" when the
  // answering node did not send one (an older version).
  std::string cluster_secret;
};

// One access token as GET /auth/tokens lists it (never its secret or hash).
struct TokenInfo {
  std::string name;
  std::string role;
  std::string prefix;
};

class Client {
 public:
  // Returns kInvalidArgument when options.Validate() fails. Connects lazily, on the first call.
  static Result<std::unique_ptr<Client>> Create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // --- Blobs (/store/{key}) ---
  // PUT. kFailedPrecondition when an If-Match or If-None-Match condition fails.
  Result<PutResult> Put(std::string_view key, std::string_view value,
                        const PutOptions& options = {});
  // POST: creates the key; kAlreadyExists when it exists. Returns the revision. Never retried.
  Result<uint64_t> Create(std::string_view key, std::string_view value,
                          std::string_view content_type = {});
  // GET. kNotFound when missing.
  Result<Blob> Get(std::string_view key);
  // HEAD: size, revision and content type without the value. kNotFound when missing.
  Result<BlobInfo> Head(std::string_view key);
  // DELETE, unconditional or with If-Match. Returns the deleting write's revision (0 when the
  // server did not say). kNotFound when missing, kFailedPrecondition on a revision mismatch.
  Result<uint64_t> Delete(std::string_view key, std::optional<uint64_t> if_match_revision = {});
  // One page of GET /keys: keys > `after` (all when empty) that start with `prefix`, at most
  // `limit` (1 to kListLimitMax; 0 means the server's default). Keys are exact bytes.
  Result<ListPage> List(std::string_view prefix, std::string_view after = {}, size_t limit = 0);
  // Pages through every key starting with `prefix`, calling fn(key) in byte order. Stops early,
  // returning fn's status, when fn returns an error; returns the first failed page's error.
  Status ForEachKey(std::string_view prefix, const std::function<Status(std::string_view)>& fn,
                    size_t page_keys = 1000);

  // --- Key-value routes for scripts (/set, /get, /rm, /is, /clear) ---
  // They share one key space with the blob routes. Keys up to 64 and values up to 256 code
  // points: the server checks and answers 400 (kInvalidArgument).
  // Set: writes `value` under `key`.
  Status Set(std::string_view key, std::string_view value);
  // KvGet: the value; kNotFound when missing.
  Result<std::string> KvGet(std::string_view key);
  // Rm: removes `key`; kNotFound when missing (also, rarely, when a retry follows a removal
  // whose reply was lost).
  Status Rm(std::string_view key);
  // Is: whether `key` exists (404 is false, not an error).
  Result<bool> Is(std::string_view key);
  // Clear: removes every key (not secrets) in one atomic write.
  Status Clear();

  // --- Cluster (the node asked answers; see docs/api.md "Cluster and roles") ---
  // The node's /status. Fields the node leaves out keep their zero defaults; kIoError when the
  // reply is not a JSON object.
  Result<NodeStatus> GetStatus();
  // "goose" on the leader holding a lease, "duck" elsewhere (the body, trimmed).
  Result<std::string> Role();
  // Every member as the node sees it; kIoError for a reply that is not a JSON list.
  Result<std::vector<MemberInfo>> Members();
  // Adds a member with the cluster's join token (sent as Authorization: Bearer). Never retried.
  // kInvalidArgument for an empty token or a body the server refuses (400), and for a missing or
  // wrong token (401, 403); kAlreadyExists when a member has the same name or peer address;
  // kIoError for a reply without a member id.
  Result<JoinReply> Join(const JoinRequest& request, std::string_view token);
  // Removes member `id` from the configuration; kNotFound for an unknown id, kFailedPrecondition
  // when it is the last member, kInvalidArgument for kNoNode.
  Status RemoveMember(NodeId id);
  // Hands leadership to member `to`. Never retried; kInvalidArgument for kNoNode.
  Status TransferLeader(NodeId to);

  // --- Access tokens (/auth/tokens; an admin token; docs/security.md) ---
  // Creates token `name` with `role` ("read", "write", "admin") and key `prefix`; returns the
  // token text, which the cluster never shows again. Never retried. kAlreadyExists when a token
  // has that name; kInvalidArgument for a refused name, role or prefix, or a missing, unknown or
  // too weak token of our own (401, 403).
  Result<std::string> CreateToken(std::string_view name, std::string_view role,
                                  std::string_view prefix);
  // Every token's name, role and prefix, in name order.
  Result<std::vector<TokenInfo>> ListTokens();
  // Revokes token `name`; kNotFound when there is none.
  Status RevokeToken(std::string_view name);

  // --- Transactions (POST /txn) ---
  // Checks request.compare and runs the success or the failure ops, atomically, with one
  // revision (client/txn.h). Never retried (a lost answer may hide an applied transaction).
  // kInvalidArgument for a request the server refuses (400), and for a token that may not (401,
  // 403: a key outside its prefix).
  Result<TxnResult> Txn(const TxnRequest& request);

  // --- Watches (GET /watch; client/watch.h) ---
  // Calls on_event for every change after request.from, in revision order, each once, across
  // the failure of the servers it streams from. Returns on_event's first error; kFailedPrecondition
  // "compacted ..." (end->compact_revision set) when the history it needs is gone; kUnavailable
  // after request.reconnects_max reconnections in a row without a line; kInvalidArgument for a
  // refused request (400, 401, 403). `end` (optional) says how far it got.
  Status Watch(const WatchRequest& request,
               const std::function<Status(const WatchEvent&)>& on_event, WatchEnd* end = nullptr);

  // --- Secrets (/secrets/{id}) ---
  // Returns the key (base64url) that alone can retrieve `plaintext`. Never retried: a retry
  // would store a second copy under a second key.
  Result<std::string> StoreSecret(std::string_view id, std::string_view plaintext);
  // kNotFound for an unknown id or a wrong key (indistinguishable by design); kInvalidArgument
  // for a malformed key.
  Result<std::string> RetrieveSecret(std::string_view id, std::string_view key);

  // Anything else: sends `target` (path and query, already encoded) and returns the reply of any
  // HTTP status; only transport failures are errors. Retried as an idempotent call when the
  // method is GET or HEAD, or PUT or DELETE without If-Match / If-None-Match headers.
  Result<HttpReply> Raw(std::string_view method, std::string_view target,
                        std::string_view body = {}, const HttpHeaders& headers = {});

  // GET `target`, streaming a 2xx body to `sink` in pieces (constant memory; for /snapshot).
  // Returns the reply's status and headers; a non-2xx reply is mapped to its Status. Never
  // retried; each read must arrive within the request timeout.
  Result<HttpReply> Download(std::string_view target,
                             const std::function<Status(std::string_view)>& sink);

  // The server the next call starts with (the one that last answered).
  const ServerAddress& current_server() const;

 private:
  explicit Client(ClientOptions options);
  // Sends and maps a non-2xx reply to its Status.
  Result<HttpReply> Call(HttpCall call);
  // Adds "Authorization: Bearer <auth_token_>" unless the call has an Authorization already.
  void AddAuthorization(HttpCall* call) const;

  std::string auth_token_;  // ClientOptions::auth_token

  std::unique_ptr<Transport> transport_;
};

}  // namespace nds::client

namespace nds {
using Client = client::Client;
}  // namespace nds
