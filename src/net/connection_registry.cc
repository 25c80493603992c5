// The connection registry and response gate: see connection_registry.h.
#include "net/connection_registry.h"

#include <utility>

namespace nds::net {

uint64_t ConnectionRegistry::Add(std::shared_ptr<HttpConnection> connection) {
  MutexLock lock(mu_);
  const uint64_t id = next_id_++;
  connections_.emplace(id, std::move(connection));
  return id;
}

void ConnectionRegistry::Remove(uint64_t id) {
  std::shared_ptr<HttpConnection> removed;  // destroyed after the lock is released
  {
    MutexLock lock(mu_);
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    removed = std::move(it->second);
    connections_.erase(it);
    if (connections_.empty()) empty_cv_.notify_all();
  }
}

size_t ConnectionRegistry::Size() const {
  MutexLock lock(mu_);
  return connections_.size();
}

bool ConnectionRegistry::WaitEmptyUntil(std::chrono::steady_clock::time_point deadline) {
  MutexLock lock(mu_);
  while (!connections_.empty()) {
    if (!lock.WaitUntil(empty_cv_, deadline)) return connections_.empty();
  }
  return true;
}

std::vector<std::shared_ptr<HttpConnection>> ConnectionRegistry::Snapshot() const {
  MutexLock lock(mu_);
  std::vector<std::shared_ptr<HttpConnection>> out;
  out.reserve(connections_.size());
  for (const auto& [id, connection] : connections_) out.push_back(connection);
  return out;
}

void ConnectionRegistry::Clear() {
  std::unordered_map<uint64_t, std::shared_ptr<HttpConnection>> dropped;
  {
    MutexLock lock(mu_);
    dropped.swap(connections_);
    empty_cv_.notify_all();
  }
}

}  // namespace nds::net
