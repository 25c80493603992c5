// One HTTP/1.1 keep-alive connection from the client to one server, driven synchronously: each
// call runs the caller's io_context until the operation completes or its deadline passes, then
// cancels whatever is left. Used only by Transport (transport.h).
//
// Owned by the Transport; not thread-safe (the Transport's caller serialises).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "client/http_types.h"
#include "client/options.h"
#include "net/maybe_tls_stream.h"
#include "util/status.h"

namespace nds::client {

using Clock = std::chrono::steady_clock;

// What one request on a connection came to.
struct RoundTripOutcome {
  Status status;    // ok when `reply` holds a whole reply
  HttpReply reply;  // valid when status.ok()
  // When !status.ok(): true once the whole request was written, so the server may have acted on
  // it; false when it cannot have (a cut-off request stores nothing: docs/api.md).
  bool request_may_have_arrived = false;
};

class Connection {
 public:
  // `ioc` must outlive the connection and be run by no one else. `tls` is the client TLS context
  // for an https:// server (required then), null for a plain one.
  Connection(boost::asio::io_context& ioc, ServerAddress server,
             std::shared_ptr<net::SslContext> tls = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Resolves and connects, with TCP_NODELAY, before `deadline`; for an https:// server also runs
  // the TLS handshake, verifying the certificate against the CA and the host. Returns
  // kUnavailable with the reason ("connection refused", "connect timed out after N ms", a resolver
  // error, "TLS handshake failed: the server's certificate was refused: ...") on failure.
  Status Connect(Clock::time_point deadline, std::chrono::milliseconds connect_timeout);

  // Sends `call` and reads its whole reply before `deadline`. Precondition: IsOpen(). A reply
  // the server sent early, before it stopped reading the request (a 413), is returned as a reply
  // with request_may_have_arrived false.
  // Failures: kTimeout (deadline passed), kUnavailable (connection lost or refused mid-way),
  // kResourceExhausted (reply larger than the limits of `options`), kIoError (malformed reply).
  // The connection is closed after any failure and after a reply that ends it.
  RoundTripOutcome RoundTrip(const HttpCall& call, Clock::time_point deadline,
                             const ClientOptions& options);

  // Sends `call` and streams a 2xx reply's body to `sink` piece by piece (constant memory): the
  // reply's status and headers are returned, its body left empty. A reply of another status has
  // its body (at most options.reply_header_bytes_max bytes) in the returned reply and nothing
  // goes to the sink. Each read must complete within options.request_timeout (an idle limit, not
  // a limit on the whole transfer). Failures as RoundTrip, or the sink's first error. The
  // connection is closed after the call.
  Result<HttpReply> StreamRoundTrip(const HttpCall& call, const ClientOptions& options,
                                    const std::function<Status(std::string_view)>& sink);

  bool IsOpen() const;
  // True when an open idle connection shows no sign of having been closed by the server (no
  // pending EOF, reset or stray bytes). A check with no waiting: one poll(2).
  bool LooksReusable();
  void Close();
  const ServerAddress& server() const { return server_; }

 private:
  // Runs ioc_ until it has no work or `deadline` passes; in the latter case cancels the socket
  // (and resolver) and drains the aborted handlers. Returns true when the deadline passed.
  bool RunUntil(Clock::time_point deadline);
  Status Handshake(Clock::time_point deadline);

  boost::asio::io_context& ioc_;
  const ServerAddress server_;
  const std::shared_ptr<net::SslContext> tls_;
  net::MaybeTlsStream stream_;
  boost::asio::ip::tcp::resolver resolver_;
  // Bytes read past the end of a reply stay here for the next one (none are expected: the client
  // does not pipeline); non-empty after a reply means the server misbehaved and we close.
  boost::beast::flat_buffer buffer_;
};

}  // namespace nds::client
