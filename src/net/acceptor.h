// A listening TCP socket and its accept loop: the one acceptor behind the HTTP server
// (http_server.cc), the peer transport (peer_transport.cc) and the RESP server (resp/server.cc).
//
// Listen binds and listens synchronously; Start runs the accept loop on the acceptor's own strand
// and hands each accepted socket, on a new strand of the io_context (or of the pool's next one)
// and with TCP_NODELAY set, to the owner's callback (on the acceptor's strand). A failed accept
// (out of file descriptors, say) is logged and the next one waits kAcceptRetryDelay rather than
// spin. Stop closes the listening socket; once it returns, the callback is not called again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/io_context_pool.h"
#include "util/status.h"

namespace nds::net {

// After a failed accept, how long the acceptor waits before the next.
inline constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

// Owned by its server, beside (and declared after) the io_context it runs on; destroyed only once
// no io thread runs any more (its cancelled accept may still complete until then). Listen, Start
// and Stop are called by the owner from one thread at a time, never from the io threads.
class Acceptor {
 public:
  using OnAccepted = std::function<void(boost::asio::ip::tcp::socket)>;

  // `name` says which listener this is in errors and logs ("HTTP", "peer", "RESP").
  Acceptor(boost::asio::io_context& ioc, std::string name);
  // On the pool's first context; each accepted socket goes to the pool's next context.
  Acceptor(IoContextPool& pool, std::string name);
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // Opens, binds (with SO_REUSEADDR) and listens. kInvalidArgument for an address that does not
  // parse or is not this host's, kUnavailable when the port cannot be bound or listened on.
  Status Listen(const std::string& address, uint16_t port, int backlog);
  // The bound port (the one picked for port 0), once Listen succeeded.
  uint16_t port() const { return port_; }

  // Starts the accept loop: every accepted socket goes to `on_accepted`. Once, after Listen.
  void Start(OnAccepted on_accepted);
  // Closes the listening socket and cancels a pending retry. Once Start ran, this happens on the
  // acceptor's strand and Stop waits for it, so the io threads must still be running (and Stop
  // not be called on one of them). Idempotent.
  void Stop();

 private:
  void StartAccept();
  void OnAccept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  void CloseOnStrand();

  boost::asio::io_context& ioc_;
  IoContextPool* const pool_ = nullptr;  // or every socket on ioc_
  const std::string name_;
  boost::asio::ip::tcp::acceptor acceptor_;  // acceptor strand only, once started
  boost::asio::steady_timer retry_timer_;    // acceptor strand only
  OnAccepted on_accepted_;                   // set by Start, then read-only
  uint16_t port_ = 0;                        // set by Listen, then read-only
  bool started_ = false;                     // the owner's thread only
  bool stopped_ = false;                     // the owner's thread only
  std::atomic<bool> accepting_{false};
};

}  // namespace nds::net
