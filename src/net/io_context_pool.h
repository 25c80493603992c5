// The io threads of a server: one io_context per thread, each run by its own thread, with the
// connections handed out to them in turn (the HTTP and RESP servers).
//
// One io_context shared by every io thread makes the threads meet on its queue's lock and wake
// each other for every handler posted: on two cores, a fifth of the time a small request took
// (futex waits and wakes in a profile of GET /healthz). With a context per thread, a connection
// lives on one thread from its accept to its close; the threads share nothing but the listening
// socket's acceptor, on the first context.
//
// Thread-safety: Next and stopped are thread-safe; Run and Stop are called by the owner, one at
// a time, never from an io thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace nds::net {

class IoContextPool {
 public:
  // `threads` >= 1 (the servers check their option before); `thread_name` names each thread
  // (util/thread_name.h).
  IoContextPool(size_t threads, std::string thread_name);
  ~IoContextPool();
  IoContextPool(const IoContextPool&) = delete;
  IoContextPool& operator=(const IoContextPool&) = delete;

  // The context of the acceptor and of whatever belongs to the server as a whole.
  boost::asio::io_context& first() { return *contexts_.front(); }
  // The context for the next connection: each in turn.
  boost::asio::io_context& Next();

  // Starts one thread per context. Once.
  void Run();
  // Stops every context and joins the threads; handlers not yet run are dropped (destroyed with
  // the pool). Idempotent.
  void Stop();
  bool stopped() const { return contexts_.front()->stopped(); }
  // Whether the calling thread is one of the pool's (which must not call Stop).
  bool OnIoThread() const;

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::optional<WorkGuard>> work_;
  const std::string thread_name_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_{0};
};

}  // namespace nds::net
