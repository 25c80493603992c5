// Leases and locks for client programs (docs/api.md "Leases", docs/leases.md).
//
// The lease calls are free functions on a Client. `Lease` is a lease with a thread that keeps it
// alive (a keepalive every third of its TTL, on its own connection) until it is revoked or
// destroyed; for many leases, LeaseKeeper (lease_keeper.h) keeps them all with one thread and one
// connection. `Lock` is a cluster-wide mutual exclusion lock held through a Lease: each contender
// writes `locks/<name>/<lease id>` under its lease; the one whose key has the lowest revision holds
// the lock, the others wait for the key just before theirs to go (first come, first served). The
// holder's key revision is the lock's fencing revision: it grows with every new holder, so a
// resource can refuse a late write from a holder that lost the lock.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "client/options.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace nds::client {

struct LeaseInfo {
  uint64_t id = 0;
  uint64_t ttl_ms = 0;
  uint64_t remaining_ms = 0;      // by the answering node's clock
  std::vector<std::string> keys;  // attached keys, exact bytes
};

// POST /leases: the new lease's id. kInvalidArgument for a TTL outside the cluster's range;
// kResourceExhausted when the cluster holds its most leases. Never retried.
Result<uint64_t> GrantLease(Client* client, std::chrono::milliseconds ttl);
// POST /leases/{id}/keepalive: the lease's TTL in ms; kNotFound once it expired or was revoked.
Result<uint64_t> KeepAliveLease(Client* client, uint64_t id);
// POST /leases/keepalive: keeps every lease of `ids` alive in one request (1 to the cluster's
// --max-keepalive-ids, default 1000; duplicates are answered each). One result per id, in the
// order given: its TTL in ms, or an error whose message is the server's error code (and its
// message after ": " when it gave one): kNotFound "not_found" (expired or revoked),
// kInvalidArgument "permission_denied" (granted for keys outside the token's prefix),
// kUnavailable "unavailable" (the node had too many keepalives waiting; try again), kIoError for
// anything else. The outer error is the request's own: refused as a whole (kInvalidArgument for a
// 400, e.g. too many ids), no answer, or an answer that does not match `ids`.
Result<std::vector<Result<uint64_t>>> KeepAliveMany(Client* client,
                                                    const std::vector<uint64_t>& ids);
// How often a lease of `ttl` is kept alive: every third of its TTL (at least every 1 ms), so that
// two keepalives may fail (a leader change, a slow node) before the lease is in danger.
std::chrono::milliseconds KeepAlivePeriod(std::chrono::milliseconds ttl);
// DELETE /leases/{id}: deletes every key attached; kNotFound when there is no such lease.
Status RevokeLease(Client* client, uint64_t id);
// GET /leases/{id}; kNotFound when there is no such lease.
Result<LeaseInfo> ShowLease(Client* client, uint64_t id);
// PUT /store/{key}?lease=ID: writes `value` attached to lease `id`; returns the revision.
Result<uint64_t> PutWithLease(Client* client, std::string_view key, std::string_view value,
                              uint64_t id);

class Lease {
 public:
  // Grants a lease of `ttl` and starts keeping it alive on a second connection made from
  // `options`. `client` is used only during this call.
  static Result<std::unique_ptr<Lease>> Grant(Client* client, const ClientOptions& options,
                                              std::chrono::milliseconds ttl);
  // Stops the keepalive thread; the lease then expires after its TTL unless revoked.
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  uint64_t id() const { return id_; }
  std::chrono::milliseconds ttl() const { return ttl_; }
  // True once a keepalive found the lease gone (expired or revoked): its keys are gone too.
  bool lost() const { return lost_.load(); }
  // Stops the keepalives and revokes the lease (deleting its keys) through `client`.
  Status Revoke(Client* client);

 private:
  Lease(uint64_t id, std::chrono::milliseconds ttl, std::unique_ptr<Client> keepalive_client);
  void Run();
  void Stop();

  const uint64_t id_;
  const std::chrono::milliseconds ttl_;
  std::unique_ptr<Client> keepalive_client_;
  std::atomic<bool> lost_{false};
  Mutex mu_;
  std::condition_variable cv_;
  bool stopping_ NDS_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

struct LockOptions {
  std::chrono::milliseconds ttl{10'000};  // of the lease that holds the lock
  // How long Acquire waits for the lock at most (then kTimeout; its key is removed).
  std::chrono::milliseconds wait_max{std::chrono::hours(24)};
  // The wait between looks at the key ahead grows from poll_min to poll_max.
  std::chrono::milliseconds poll_min{10};
  std::chrono::milliseconds poll_max{500};
};

class Lock {
 public:
  // Waits until this process holds lock `name` (1 to 512 bytes). `client` must outlive the Lock.
  static Result<std::unique_ptr<Lock>> Acquire(Client* client, const ClientOptions& options,
                                               std::string_view name, const LockOptions& lock);
  // Releases the lock (revokes its lease) if not already released.
  ~Lock();

  // The lock's fencing revision: greater than that of every earlier holder.
  uint64_t revision() const { return revision_; }
  // False once the lease was found gone: another process may hold the lock now.
  bool held() const { return !lease_->lost(); }
  Status Release();

 private:
  Lock(Client* client, std::unique_ptr<Lease> lease, uint64_t revision)
      : client_(client), lease_(std::move(lease)), revision_(revision) {}

  Client* client_;
  std::unique_ptr<Lease> lease_;
  uint64_t revision_;
  bool released_ = false;
};

}  // namespace nds::client
