// Lock: first come, first served mutual exclusion through a lease (lease.h).
#include <algorithm>
#include <thread>

#include "client/lease.h"

namespace nds::client {
namespace {

struct Contender {
  uint64_t revision = 0;
  std::string key;
};

// Every key under `prefix` with its revision, lowest revision first. A key that vanishes between
// the listing and its HEAD is left out.
Result<std::vector<Contender>> Contenders(Client* client, const std::string& prefix) {
  std::vector<std::string> keys;
  NDS_RETURN_IF_ERROR(client->ForEachKey(prefix, [&keys](std::string_view key) {
    keys.emplace_back(key);
    return Status::Ok();
  }));
  std::vector<Contender> out;
  for (std::string& key : keys) {
    Result<BlobInfo> info = client->Head(key);
    if (!info.ok() && info.status().code() == StatusCode::kNotFound) continue;
    if (!info.ok()) return info.status();
    out.push_back(Contender{info->revision, std::move(key)});
  }
  std::sort(out.begin(), out.end(),
            [](const Contender& a, const Contender& b) { return a.revision < b.revision; });
  return out;
}

}  // namespace

Result<std::unique_ptr<Lock>> Lock::Acquire(Client* client, const ClientOptions& options,
                                            std::string_view name, const LockOptions& lock) {
  if (name.empty() || name.size() > 512) {
    return InvalidArgument("a lock name is 1 to 512 bytes");
  }
  const auto deadline = std::chrono::steady_clock::now() + lock.wait_max;
  NDS_ASSIGN_OR_RETURN(std::unique_ptr<Lease> lease, Lease::Grant(client, options, lock.ttl));
  const std::string prefix = "locks/" + std::string(name) + "/";
  const std::string mine = prefix + std::to_string(lease->id());
  auto give_up = [&](Status s) {
    (void)lease->Revoke(client);
    return s;
  };
  Result<uint64_t> revision = PutWithLease(client, mine, "", lease->id());
  if (!revision.ok()) return give_up(revision.status());
  auto poll = lock.poll_min;
  while (true) {
    if (lease->lost()) return Unavailable("the lock's lease expired while waiting");
    Result<std::vector<Contender>> all = Contenders(client, prefix);
    if (!all.ok()) return give_up(all.status());
    auto me =
        std::find_if(all->begin(), all->end(), [&](const Contender& c) { return c.key == mine; });
    if (me == all->end()) return give_up(Unavailable("the lock's key vanished while waiting"));
    if (me == all->begin()) break;
    // Wait for the contender just ahead to go, then look at the whole line again (the one
    // ahead may have left without holding the lock).
    const std::string ahead = std::prev(me)->key;
    while (true) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return give_up(Timeout("waited too long for lock " + std::string(name)));
      }
      if (lease->lost()) return Unavailable("the lock's lease expired while waiting");
      Result<BlobInfo> info = client->Head(ahead);
      if (!info.ok() && info.status().code() == StatusCode::kNotFound) break;
      std::this_thread::sleep_for(poll);
      poll = std::min(poll * 2, lock.poll_max);
    }
    poll = lock.poll_min;
  }
  return std::unique_ptr<Lock>(new Lock(client, std::move(lease), *revision));
}

Lock::~Lock() { (void)Release(); }

Status Lock::Release() {
  if (released_) return Status::Ok();
  released_ = true;
  Status s = lease_->Revoke(client_);
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

}  // namespace nds::client
