// LeaseKeeper: many leases kept alive by one thread over one connection (lease_keeper.h).
#include "client/lease_keeper.h"

#include <algorithm>
#include <string>

#include "client/lease.h"

namespace nds::client {
namespace {

using std::chrono::milliseconds;

constexpr size_t kIdsPerRequestMax = 100'000;
constexpr size_t kLeasesMax = 10'000'000;
constexpr milliseconds kDelayMax = std::chrono::hours(1);
// Far above any TTL a cluster grants (--max-lease-ttl-ms, default 1 day), far below the ~292 years
// a steady_clock time point can add.
constexpr milliseconds kTtlMax = std::chrono::hours(24 * 365);

Status CheckTtl(milliseconds ttl) {
  if (ttl < milliseconds(1) || ttl > kTtlMax) {
    return InvalidArgument("a lease's TTL must be 1 ms to 365 days");
  }
  return Status::Ok();
}

// How much earlier than due a lease of `ttl` may be sent along with a lease that is due: at most
// a quarter of its period, so that it is never sent more than 4/3 as often as it should.
milliseconds Slack(milliseconds ttl, milliseconds batch_slack) {
  return std::min(batch_slack, KeepAlivePeriod(ttl) / 4);
}

// The wait before the keepalive of a lease of `ttl` that failed `failures` times in a row (at
// least 1) is tried again: `first`, doubled with each failure, at most a quarter of the period
// (so well before the lease is in danger), at least 1 ms (never a busy loop).
milliseconds RetryDelay(milliseconds ttl, uint32_t failures, milliseconds first) {
  const milliseconds cap = std::max(KeepAlivePeriod(ttl) / 4, milliseconds(1));
  const uint32_t doublings = std::min<uint32_t>(failures - 1, 20);
  return std::min(first * (int64_t{1} << doublings), cap);
}

Status Full(size_t max_leases) {
  return ResourceExhausted("the lease keeper holds its most leases (" + std::to_string(max_leases) +
                           ")");
}

}  // namespace

Status LeaseKeeperOptions::Validate() const {
  if (max_ids_per_request < 1 || max_ids_per_request > kIdsPerRequestMax) {
    return InvalidArgument("max_ids_per_request must be 1 to " + std::to_string(kIdsPerRequestMax));
  }
  if (max_leases < 1 || max_leases > kLeasesMax) {
    return InvalidArgument("max_leases must be 1 to " + std::to_string(kLeasesMax));
  }
  if (batch_slack < milliseconds(0) || batch_slack > kDelayMax) {
    return InvalidArgument("batch_slack must be 0 to 1 hour");
  }
  if (retry_delay_min < milliseconds(1) || retry_delay_min > kDelayMax) {
    return InvalidArgument("retry_delay_min must be 1 ms to 1 hour");
  }
  return Status::Ok();
}

Result<std::unique_ptr<LeaseKeeper>> LeaseKeeper::Create(const ClientOptions& client_options,
                                                         const LeaseKeeperOptions& options) {
  NDS_RETURN_IF_ERROR(options.Validate());
  NDS_ASSIGN_OR_RETURN(std::unique_ptr<Client> client, Client::Create(client_options));
  return std::unique_ptr<LeaseKeeper>(new LeaseKeeper(std::move(client), options));
}

LeaseKeeper::LeaseKeeper(std::unique_ptr<Client> client, const LeaseKeeperOptions& options)
    : options_(options), client_(std::move(client)) {
  thread_ = std::thread([this] { Run(); });
}

LeaseKeeper::~LeaseKeeper() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Result<uint64_t> LeaseKeeper::Grant(milliseconds ttl) {
  NDS_RETURN_IF_ERROR(CheckTtl(ttl));
  {
    MutexLock lock(mu_);
    if (leases_.size() + reserved_ >= options_.max_leases) return Full(options_.max_leases);
    ++reserved_;
  }
  const Clock::time_point sent_at = Clock::now();
  Result<uint64_t> id = [&] {
    MutexLock lock(client_mu_);
    return GrantLease(client_.get(), ttl);
  }();
  MutexLock lock(mu_);
  --reserved_;
  if (!id.ok()) return id.status();
  // The place reserved above is this lease's: Add cannot refuse it.
  NDS_RETURN_IF_ERROR(Add(*id, ttl, sent_at + KeepAlivePeriod(ttl)));
  return *id;
}

Status LeaseKeeper::Keep(uint64_t id, milliseconds ttl) {
  if (id == 0) return InvalidArgument("lease id 0 does not exist");
  NDS_RETURN_IF_ERROR(CheckTtl(ttl));
  MutexLock lock(mu_);
  return Add(id, ttl, Clock::now());
}

Status LeaseKeeper::Add(uint64_t id, milliseconds ttl, Clock::time_point due) {
  auto it = leases_.find(id);
  if (it == leases_.end()) {
    // Places reserved by grants in progress count as taken. A Grant that gave its place back
    // just before always finds one: leases_.size() + reserved_ never exceeds max_leases.
    if (leases_.size() + reserved_ + 1 > options_.max_leases) return Full(options_.max_leases);
    it = leases_.emplace(id, Entry{}).first;
    ++kept_;
  } else if (it->second.lost) {
    ++kept_;
  }
  Entry& entry = it->second;
  entry.ttl = ttl;
  entry.generation = next_generation_++;
  entry.lost = false;
  entry.failures = 0;
  Schedule(id, &entry, due);
  return Status::Ok();
}

void LeaseKeeper::Forget(uint64_t id) {
  MutexLock lock(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return;
  Unschedule(id, &it->second);
  if (!it->second.lost) --kept_;
  leases_.erase(it);
}

Status LeaseKeeper::Revoke(uint64_t id) {
  Forget(id);
  MutexLock lock(client_mu_);
  return RevokeLease(client_.get(), id);
}

bool LeaseKeeper::Lost(uint64_t id) const {
  MutexLock lock(mu_);
  auto it = leases_.find(id);
  return it != leases_.end() && it->second.lost;
}

size_t LeaseKeeper::size() const {
  MutexLock lock(mu_);
  return kept_;
}

void LeaseKeeper::Schedule(uint64_t id, Entry* entry, Clock::time_point due) {
  Unschedule(id, entry);
  entry->due = due;
  entry->scheduled = true;
  auto it = schedule_.emplace(due, id).first;
  // Only a new first entry can make the thread wake earlier than it planned.
  if (it == schedule_.begin()) cv_.notify_all();
}

void LeaseKeeper::Unschedule(uint64_t id, Entry* entry) {
  if (!entry->scheduled) return;
  schedule_.erase({entry->due, id});
  entry->scheduled = false;
}

void LeaseKeeper::Retry(uint64_t id, Entry* entry, Clock::time_point now) {
  ++entry->failures;
  Schedule(id, entry, now + RetryDelay(entry->ttl, entry->failures, options_.retry_delay_min));
}

LeaseKeeper::Batch LeaseKeeper::TakeDue(Clock::time_point now) {
  Batch batch;
  // Only leases due before now + batch_slack can be within their own slack.
  const Clock::time_point horizon = now + options_.batch_slack;
  auto it = schedule_.begin();
  while (it != schedule_.end() && it->first <= horizon &&
         batch.ids.size() < options_.max_ids_per_request) {
    const uint64_t id = it->second;
    Entry& entry = leases_.at(id);
    if (it->first > now + Slack(entry.ttl, options_.batch_slack)) {
      ++it;
      continue;
    }
    it = schedule_.erase(it);
    entry.scheduled = false;
    batch.ids.push_back(id);
    batch.generations.push_back(entry.generation);
  }
  return batch;
}

void LeaseKeeper::Apply(const Batch& batch, Clock::time_point sent_at,
                        const Result<std::vector<Result<uint64_t>>>& results) {
  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < batch.ids.size(); ++i) {
    const uint64_t id = batch.ids[i];
    auto it = leases_.find(id);
    // Forgotten, or kept again (by Keep) while the request was in flight: not this result's.
    if (it == leases_.end() || it->second.generation != batch.generations[i]) continue;
    Entry& entry = it->second;
    if (!results.ok()) {
      Retry(id, &entry, now);
      continue;
    }
    const Result<uint64_t>& result = (*results)[i];
    if (result.ok()) {
      // The server's TTL is the lease's; its clock restarted after the request was sent.
      if (*result > 0) {
        entry.ttl = milliseconds(std::min<uint64_t>(*result, kTtlMax.count()));
      }
      entry.failures = 0;
      Schedule(id, &entry, sent_at + KeepAlivePeriod(entry.ttl));
    } else if (result.status().code() == StatusCode::kNotFound) {
      entry.lost = true;
      --kept_;
    } else {
      Retry(id, &entry, now);
    }
  }
}

void LeaseKeeper::Run() {
  while (true) {
    Batch batch;
    Clock::time_point sent_at;
    {
      MutexLock lock(mu_);
      while (!stopping_) {
        if (schedule_.empty()) {
          lock.Wait(cv_);
          continue;
        }
        const Clock::time_point first = schedule_.begin()->first;
        if (first <= Clock::now()) break;
        lock.WaitUntil(cv_, first);
      }
      if (stopping_) return;
      sent_at = Clock::now();
      batch = TakeDue(sent_at);
    }
    Result<std::vector<Result<uint64_t>>> results = [&] {
      MutexLock lock(client_mu_);
      return KeepAliveMany(client_.get(), batch.ids);
    }();
    MutexLock lock(mu_);
    Apply(batch, sent_at, results);
  }
}

}  // namespace nds::client
