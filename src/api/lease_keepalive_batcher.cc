// Batched lease keepalives (lease_keepalive_batcher.h).
#include "api/lease_keepalive_batcher.h"

#include <memory>

#include "store/command.h"

namespace nds::api {

namespace {

using Waiters = std::vector<std::vector<KeepAliveBatcher::Done>>;

// One keepalive command for `ids` through the log; answers `waiters` (one list per id) once it
// applied.
void SubmitThroughLog(node::Node* node, const std::vector<uint64_t>& ids,
                      const std::shared_ptr<Waiters>& waiters) {
  node->Submit(store::LeaseKeepAliveCommand(ids), [waiters](const store::ApplyResult& r) {
    for (size_t i = 0; i < waiters->size(); ++i) {
      uint64_t ttl_ms = r.lease_ttls_ms && i < r.lease_ttls_ms->size() ? (*r.lease_ttls_ms)[i] : 0;
      Result<uint64_t> answer =
          !r.status.ok() ? Result<uint64_t>(r.status)
          : ttl_ms == 0  ? Result<uint64_t>(NotFound("no such lease (it expired or was revoked)"))
                         : Result<uint64_t>(ttl_ms);
      for (KeepAliveBatcher::Done& done : (*waiters)[i]) done(answer);
    }
  });
}

}  // namespace

KeepAliveBatcher::KeepAliveBatcher(node::Node* node, KeepAliveBatcherOptions options,
                                   LeaseKeeper* keeper)
    : node_(node), options_(options), keeper_(keeper), thread_([this] { Run(); }) {}

KeepAliveBatcher::~KeepAliveBatcher() {
  std::map<uint64_t, std::vector<Done>> left;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    left.swap(gathered_);
  }
  cv_.notify_all();
  thread_.join();
  for (auto& [id, dones] : left) {
    for (Done& done : dones) done(Cancelled("the node is stopping"));
  }
}

void KeepAliveBatcher::KeepAlive(uint64_t id, Done done) {
  bool first = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      done(Cancelled("the node is stopping"));
      return;
    }
    if (waiting_ >= options_.waiting_max) {
      done(ResourceExhausted("too many lease keepalives are waiting; try again"));
      return;
    }
    ++waiting_;
    first = gathered_.empty();
    gathered_[id].push_back(std::move(done));
  }
  // Only the first keepalive of a window wakes the thread: the others would only wake it to
  // find its window still open (10,000 wake-ups a second for 10,000 leases).
  if (first) cv_.notify_all();
}

void KeepAliveBatcher::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !gathered_.empty(); });
    if (stopping_) return;
    // The window starts with the first keepalive gathered.
    cv_.wait_for(lock, options_.window, [this] { return stopping_; });
    if (stopping_) return;
    std::map<uint64_t, std::vector<Done>> batch;
    batch.swap(gathered_);
    waiting_ = 0;
    lock.unlock();
    Flush(std::move(batch));
    lock.lock();
  }
}

void KeepAliveBatcher::Flush(std::map<uint64_t, std::vector<Done>> batch) {
  auto it = batch.begin();
  while (it != batch.end()) {
    std::vector<uint64_t> ids;
    auto waiters = std::make_shared<Waiters>();
    for (; it != batch.end() && ids.size() < options_.ids_per_command_max; ++it) {
      ids.push_back(it->first);
      waiters->push_back(std::move(it->second));
    }
    if (keeper_ == nullptr) {
      SubmitThroughLog(node_, ids, waiters);
      continue;
    }
    keeper_->KeepAlive(ids, [node = node_, ids, waiters](std::vector<uint64_t> ttls_ms) {
      // Those kept in memory are answered now; the others go through the log together.
      std::vector<uint64_t> logged;
      auto logged_waiters = std::make_shared<Waiters>();
      for (size_t i = 0; i < ids.size(); ++i) {
        if (ttls_ms[i] != 0) {
          for (Done& done : (*waiters)[i]) done(ttls_ms[i]);
        } else {
          logged.push_back(ids[i]);
          logged_waiters->push_back(std::move((*waiters)[i]));
        }
      }
      if (!logged.empty()) SubmitThroughLog(node, logged, logged_waiters);
    });
  }
}

}  // namespace nds::api
