// RespServer: the TCP listener of the RESP front (`nds start --resp ADDR`). It accepts
// connections, parses commands with the limits of protocol.h, hands each to RespService and
// writes the replies back in the order the commands arrived (pipelining), however the node
// completes them. Boost.Asio stays inside server.cc.
//
// Limits: connections (one more gets "-ERR max number of clients reached" and is closed),
// commands parsed ahead of their replies per connection (reading pauses at the limit), bytes of
// one command, and an idle timeout (a connection with no read or write for that long is closed).
// A malformed frame gets "-ERR Protocol error: ..." after the replies owed before it, then the
// connection closes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "resp/protocol.h"
#include "resp/service.h"
#include "util/status.h"

namespace nds::resp {

struct RespServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 6379;  // 0 picks a free port (see RespServer::port())
  size_t threads = 2;
  ParserLimits parser;
  size_t connections_max = 1024;
  size_t pipelined_commands_max = 1024;
  std::chrono::milliseconds idle_timeout{300'000};
};

// The limits of `limits` as the server takes them.
RespServerOptions ServerOptionsFrom(const Limits& limits);

// Owns its io_context and threads. Thread-safe.
class RespServer {
 public:
  virtual ~RespServer() = default;

  // Binds, listens and serves `service`, which must outlive the server. kInvalidArgument for a
  // bad address or option, kUnavailable when the port cannot be bound.
  static Result<std::unique_ptr<RespServer>> Start(const RespServerOptions& options,
                                                   RespService* service);

  virtual uint16_t port() const = 0;
  // Stops accepting, closes every connection (replies still owed are not sent) and joins the
  // threads. Idempotent; call it from any thread but the server's own.
  virtual void Stop() = 0;
};

}  // namespace nds::resp
