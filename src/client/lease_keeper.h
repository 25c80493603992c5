// LeaseKeeper: many leases kept alive by one thread over one connection (docs/client.md
// "Many leases: LeaseKeeper").
//
// `Lease` (lease.h) keeps one lease alive with a thread and a connection of its own and one
// request per keepalive. A LeaseKeeper keeps any number of leases (up to `max_leases`) alive with
// one thread and one Client: it wakes when the earliest lease is due (a third of its TTL after
// its last keepalive was sent), and sends every lease then due, or due soon (`batch_slack`), in
// `POST /leases/keepalive` requests of at most `max_ids_per_request` ids (KeepAliveMany). Leases
// granted close together thus share requests, and keep sharing them. A lease the server answers
// `not_found` for (expired, or revoked elsewhere) is lost: no longer sent, Lost() is true. Any
// other failure of a lease, or of a whole request, is retried after a backoff that starts at
// `retry_delay_min`, doubles with each failure in a row and never exceeds a quarter of the
// lease's keepalive period.
//
// Thread-safe: every call may come from any thread. Grant and Revoke use the keeper's Client, so
// they may wait for a keepalive request in flight (at most the client's request_timeout).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "client/client.h"
#include "client/options.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace nds::client {

struct LeaseKeeperOptions {
  // Lease ids in one POST /leases/keepalive, 1 to 100,000. Must not exceed the cluster's
  // --max-keepalive-ids (default 1000): a longer list is refused as a whole (and retried).
  size_t max_ids_per_request = 1000;
  // Leases held at most, 1 to 10,000,000: those kept alive plus those lost and not yet
  // forgotten. Grant and Keep of one more are kResourceExhausted.
  size_t max_leases = 100'000;
  // When the keeper sends a lease that is due, it also sends every lease due within this much
  // (and within a quarter of that lease's own keepalive period), 0 to 1 hour.
  std::chrono::milliseconds batch_slack{1'000};
  // The first wait before a failed keepalive is tried again (doubled with each failure in a row,
  // at most a quarter of the lease's keepalive period), 1 ms to 1 hour.
  std::chrono::milliseconds retry_delay_min{100};

  // kInvalidArgument naming the field out of its range.
  Status Validate() const;
};

class LeaseKeeper {
 public:
  // A keeper with its own Client made from `client_options` (it connects on its first request)
  // and its own thread. kInvalidArgument for invalid options of either kind.
  static Result<std::unique_ptr<LeaseKeeper>> Create(const ClientOptions& client_options,
                                                     const LeaseKeeperOptions& options = {});
  // Stops the thread (after the request in flight, if any: at most the client's request_timeout)
  // without revoking anything: the leases then expire after their TTL.
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // POST /leases through the keeper's client, then keeps the new lease alive (its first keepalive
  // a third of `ttl` after the grant was sent). GrantLease's errors; kInvalidArgument for a TTL
  // outside 1 ms to 365 days and kResourceExhausted when the keeper holds max_leases leases
  // (nothing is granted then).
  Result<uint64_t> Grant(std::chrono::milliseconds ttl);
  // Keeps lease `id` (granted elsewhere, with `ttl`) alive, starting with a keepalive at once: the
  // keeper cannot know when it was last kept alive. A lease already held is kept again with this
  // TTL (and is no longer lost). kInvalidArgument for id 0 or a TTL outside 1 ms to 365 days;
  // kResourceExhausted when the keeper holds max_leases leases.
  Status Keep(uint64_t id, std::chrono::milliseconds ttl);
  // Stops keeping lease `id` (a keepalive already in flight still arrives); it then expires after
  // its TTL. Frees its place, lost or not. Nothing for a lease not held.
  void Forget(uint64_t id);
  // Forgets lease `id`, then revokes it (DELETE /leases/{id}, deleting its keys) through the
  // keeper's client: RevokeLease's status (kNotFound when the cluster has no such lease).
  Status Revoke(uint64_t id);
  // True once a keepalive of lease `id` was answered not_found (expired, or revoked elsewhere):
  // its keys are gone and it is no longer sent. False for a lease not held.
  bool Lost(uint64_t id) const;
  // Leases being kept alive (held and not lost).
  size_t size() const;

 private:
  using Clock = std::chrono::steady_clock;

  struct Entry {
    std::chrono::milliseconds ttl{0};
    uint64_t generation = 0;  // tells a result for this entry from one for an earlier Keep
    Clock::time_point due{};  // when `scheduled`
    bool scheduled = false;   // in schedule_; false while in flight and once lost
    bool lost = false;
    uint32_t failures = 0;  // keepalives failed in a row (not_found aside)
  };
  // The ids of one request, with the generation of each entry when it was taken.
  struct Batch {
    std::vector<uint64_t> ids;
    std::vector<uint64_t> generations;
  };

  LeaseKeeper(std::unique_ptr<Client> client, const LeaseKeeperOptions& options);
  void Run() NDS_EXCLUDES(mu_, client_mu_);
  // Adds (or replaces) lease `id`, due at `due`; kResourceExhausted when no place is left.
  Status Add(uint64_t id, std::chrono::milliseconds ttl, Clock::time_point due) NDS_REQUIRES(mu_);
  void Schedule(uint64_t id, Entry* entry, Clock::time_point due) NDS_REQUIRES(mu_);
  void Unschedule(uint64_t id, Entry* entry) NDS_REQUIRES(mu_);
  void Retry(uint64_t id, Entry* entry, Clock::time_point now) NDS_REQUIRES(mu_);
  // Takes the leases due at `now` (with the slack) off the schedule, at most
  // max_ids_per_request, earliest first.
  Batch TakeDue(Clock::time_point now) NDS_REQUIRES(mu_);
  void Apply(const Batch& batch, Clock::time_point sent_at,
             const Result<std::vector<Result<uint64_t>>>& results) NDS_REQUIRES(mu_);

  const LeaseKeeperOptions options_;
  // Held for each request of the keeper's client (the thread's keepalives, Grant, Revoke), never
  // together with mu_.
  Mutex client_mu_;
  std::unique_ptr<Client> client_ NDS_GUARDED_BY(client_mu_);

  mutable Mutex mu_;
  std::condition_variable cv_;  // the schedule's first entry changed, or stopping_
  bool stopping_ NDS_GUARDED_BY(mu_) = false;
  std::unordered_map<uint64_t, Entry> leases_ NDS_GUARDED_BY(mu_);
  // (due, id) of every lease waiting for its next keepalive, earliest first.
  std::set<std::pair<Clock::time_point, uint64_t>> schedule_ NDS_GUARDED_BY(mu_);
  size_t kept_ NDS_GUARDED_BY(mu_) = 0;      // entries of leases_ not lost
  size_t reserved_ NDS_GUARDED_BY(mu_) = 0;  // places held for grants in progress
  uint64_t next_generation_ NDS_GUARDED_BY(mu_) = 1;
  std::thread thread_;
};

}  // namespace nds::client
