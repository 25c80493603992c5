// The open HTTP connections of one server, and the gate that lets answers reach them only while
// the server's io_context exists. Internal to net/ (http_server.cc, http_connection.cc).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "util/thread_annotations.h"

namespace nds::net {

class HttpConnection;

// Lets responders post to connections only while the io_context exists. Shared by the server
// and every Responder it made; thread-safe. The server closes it after joining its threads and
// before destroying the io_context, so a Responder called later does nothing.
class ResponseGate {
 public:
  // Runs `post` under the gate's lock when still open; returns whether it ran.
  template <typename F>
  bool RunIfOpen(F&& post) {
    MutexLock lock(mu_);
    if (!open_) return false;
    post();
    return true;
  }
  void Close() {
    MutexLock lock(mu_);
    open_ = false;
  }

 private:
  Mutex mu_;
  bool open_ NDS_GUARDED_BY(mu_) = true;
};

// The open connections. Owned by the server's context; thread-safe. Holds each connection
// strongly until it closes, so that a connection waiting only for Handler answers stays alive.
class ConnectionRegistry {
 public:
  // Adds `connection` and returns its id, used by Remove.
  uint64_t Add(std::shared_ptr<HttpConnection> connection);
  // Removes the connection `id` (no-op when absent) and wakes WaitEmptyUntil.
  void Remove(uint64_t id);
  size_t Size() const;
  // Waits until no connection is registered or `deadline` passes; returns whether empty.
  bool WaitEmptyUntil(std::chrono::steady_clock::time_point deadline);
  // A copy of the registered connections, to post to each.
  std::vector<std::shared_ptr<HttpConnection>> Snapshot() const;
  // Drops every connection (after the io threads are joined).
  void Clear();

 private:
  mutable Mutex mu_;
  std::condition_variable empty_cv_;
  uint64_t next_id_ NDS_GUARDED_BY(mu_) = 1;
  std::unordered_map<uint64_t, std::shared_ptr<HttpConnection>> connections_ NDS_GUARDED_BY(mu_);
};

}  // namespace nds::net
