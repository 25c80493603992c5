// The client's transport: sends one HttpCall to the cluster with failover and bounded retries,
// over one reused keep-alive connection (docs/api.md: any node serves every route).
//
// Policy, per call:
// - The transport stays with the server that last answered. A server that cannot be reached
//   (resolve or connect failure or timeout) is skipped for the rest of the call; nothing was sent
//   to it, so this holds for every method. When every server fails to connect, the call fails
//   with kUnavailable "cannot reach A (reason)" (kCannotReachPrefix).
// - After a request may have arrived (a timeout, a connection lost while waiting, a 503 reply),
//   the call moves to the next server and tries again only when HttpCall::idempotent is set, at
//   most options.attempts_max attempts and never starting one after options.retry_deadline. A 503
//   waits min(Retry-After, options.retry_delay_max) first.
// - An idle pooled connection that the server has closed is noticed before reuse and replaced.
//
// Owned by a Client; not thread-safe: the caller serialises (one Client per thread).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "client/connection.h"
#include "client/http_types.h"
#include "client/options.h"
#include "util/status.h"

namespace nds::client {

class Transport {
 public:
  // Precondition: options.Validate() is ok.
  explicit Transport(ClientOptions options);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Sends `call` following the policy above and returns the reply of whatever HTTP status
  // (error statuses are the caller's to map), or the transport failure: kUnavailable (no server
  // reachable, connection lost), kTimeout (no reply within request_timeout), kInvalidArgument (a
  // method, target or header that cannot be sent), kResourceExhausted (reply over the limits),
  // kIoError (malformed reply).
  Result<HttpReply> Send(const HttpCall& call);

  // Sends `call` once, to the first server that accepts a connection, streaming a 2xx reply's
  // body to `sink` (Connection::StreamRoundTrip). Never retried: the sink may have seen bytes.
  // `read_timeout` (when set) replaces options.request_timeout as the limit on each read.
  Result<HttpReply> Stream(const HttpCall& call,
                           const std::function<Status(std::string_view)>& sink,
                           std::optional<std::chrono::milliseconds> read_timeout = std::nullopt);

  // Drops the connection and makes the next server in the list the one the next call starts with
  // (a watch that lost its server, client/watch.h).
  void MoveToNextServer();

  const ClientOptions& options() const { return options_; }
  // The server currently used (the next call starts there).
  const ServerAddress& current_server() const { return options_.servers[current_]; }

 private:
  // Makes `connection_` an open connection to the first server at or after current_ that is not
  // marked in `unreachable`, marking those that fail. Returns the last connect failure (prefixed
  // with kCannotReachPrefix) when every server is marked.
  Status EnsureConnected(std::vector<bool>& unreachable);
  // The TLS context for https:// servers, built from options_.tls on first use.
  Result<std::shared_ptr<net::SslContext>> TlsContext();

  const ClientOptions options_;
  boost::asio::io_context ioc_;
  // Index into options_.servers of the server in use; connection_ (when set) is to it.
  size_t current_ = 0;
  std::unique_ptr<Connection> connection_;
  std::shared_ptr<net::SslContext> tls_context_;
};

}  // namespace nds::client
