// The HTTP/1.1 server's small public surface: plain request and response types, a Handler, and
// the server itself. Boost.Beast stays inside net/'s .cc files so that api/ compiles fast and
// knows nothing of Beast.
//
// Contract: keep-alive; pipelined requests are answered in the order they arrived; limits on
// header bytes, body bytes (413 before the body is read when Content-Length says so), header-read
// and idle timeouts, connections, and request body bytes in flight server-wide (503 with
// Retry-After before the body is read when Content-Length does not fit); chunked request bodies;
// streamed (chunked) responses. A request whose body is cut off never reaches the Handler.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/upload_budget.h"
#include "util/status.h"

namespace nds::net {

class TlsServerContext;  // net/tls_context.h

struct HttpRequest {
  std::string method;  // upper case: "GET", "PUT", ...
  std::string target;  // as sent: path plus query, still percent-encoded
  // Header names lower-cased, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote;  // "ip:port" of the client

  // The first header with that (lower-case) name, or empty.
  std::string_view Header(std::string_view lower_name) const;
  bool HasHeader(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // For HEAD: the Content-Length to report without sending a body.
  std::optional<uint64_t> head_content_length;
  // When set, the body is streamed with chunked encoding instead of `body`: the server calls
  // `stream` again and again, never concurrently, on an io thread, each call appending roughly a
  // chunk of bytes to `out` and returning true while more follows, false after the last bytes.
  // An error ends the connection without the final chunk, so the client sees a cut-off answer.
  std::function<Result<bool>(std::string* out)> stream;
  // For a stream that waits on outside events (GET /watch): when set, a pull that appends nothing
  // while saying more follows makes the server call `stream_wait(resume)` instead of pulling again
  // at once; it pulls again once `resume` is called (at most once, from any thread; calling it
  // after the connection closed does nothing). `resume` holds the connection alive until it is
  // called or destroyed, so the stream's owner must call or drop it within a bounded time.
  std::function<void(std::function<void()> resume)> stream_wait;

  void SetHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// Completes one request. Call it exactly once, from any thread.
using Responder = std::function<void(HttpResponse)>;

// What the server calls for every complete request. Thread-safe: called from several io threads.
// It must not block: long work (waiting for a commit) completes later through `respond`.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual void Handle(HttpRequest request, Responder respond) = 0;
};

struct HttpServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 7777;  // 0 picks a free port (see HttpServer::port())
  size_t threads = 2;
  size_t header_bytes_max = 64 << 10;
  size_t body_bytes_max = 16 << 20;
  // Request body bytes all connections together may hold between the header and the answer
  // (net/upload_budget.h): a request whose Content-Length does not fit gets 503 with Retry-After
  // before its body is read, and a chunked body that outgrows it gets 503 as it does. One body
  // is always admitted when no other is held.
  size_t upload_bytes_in_flight_max = 64 << 20;
  // The budget itself, for a caller that shows its figures (GET /metrics); Start sets its limit
  // to upload_bytes_in_flight_max. Null: the server makes its own.
  std::shared_ptr<UploadBudget> upload_budget;
  std::chrono::milliseconds header_read_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  size_t body_bytes_per_second_min = 64 << 10;
  size_t connections_max = 4096;
  size_t pipelined_requests_max = 64;
  int listen_backlog = 1024;
  // When set, the port speaks HTTPS only: a connection whose first byte is not a TLS handshake
  // gets a plain 400 and is closed; the handshake counts against header_read_timeout. The
  // context may be reloaded while the server runs (new connections use the new one).
  std::shared_ptr<TlsServerContext> tls;
};

// Owns its io threads, an io_context each (net/io_context_pool.h). Thread-safe.
class HttpServer {
 public:
  virtual ~HttpServer() = default;

  // Binds, listens and starts serving `handler`, which must outlive the server. Errors:
  // kInvalidArgument for a bad address, kUnavailable when the port is taken.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   Handler* handler);

  virtual uint16_t port() const = 0;
  // Stops accepting, lets requests in progress finish for up to `grace`, then closes every
  // connection and joins the threads. Idempotent. Any thread except this server's own io
  // threads (a Handler must not call it: it would join itself); a signal-handling thread is fine.
  // After Stop, Responders still held do nothing.
  virtual void Stop(std::chrono::milliseconds grace) = 0;
};

}  // namespace nds::net
