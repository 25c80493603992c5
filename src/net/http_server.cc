// HttpServer::Start and the server object: the io threads, the connection limit and the graceful
// stop. Listening and accepting are in acceptor.cc, the per-connection work in http_connection.cc.
#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <fmt/core.h>

#include "net/acceptor.h"
#include "net/http.h"
#include "net/http_connection.h"
#include "net/io_context_pool.h"
#include "util/thread_annotations.h"

namespace nds::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// Beyond connections_max, this many more connections are answered 503; past that, closed at once.
constexpr size_t kOverloadAnswersMax = 64;
// After the grace period, how long Stop waits for forced closes to run before stopping the
// io_context anyway.
constexpr std::chrono::milliseconds kForceCloseWait{1000};
constexpr size_t kThreadsMax = 256;

Status ValidateOptions(const HttpServerOptions& o) {
  if (o.threads == 0 || o.threads > kThreadsMax) {
    return InvalidArgument(fmt::format("threads must be 1..{}, got {}", kThreadsMax, o.threads));
  }
  if (o.header_bytes_max < 256 || o.header_bytes_max > (1u << 30)) {
    return InvalidArgument(
        fmt::format("header_bytes_max must be 256..2^30, got {}", o.header_bytes_max));
  }
  if (o.pipelined_requests_max == 0) return InvalidArgument("pipelined_requests_max must be >= 1");
  if (o.connections_max == 0) return InvalidArgument("connections_max must be >= 1");
  if (o.body_bytes_per_second_min == 0) {
    return InvalidArgument("body_bytes_per_second_min must be >= 1");
  }
  if (o.listen_backlog <= 0) return InvalidArgument("listen_backlog must be >= 1");
  if (o.header_read_timeout.count() <= 0 || o.idle_timeout.count() <= 0) {
    return InvalidArgument("header_read_timeout and idle_timeout must be positive");
  }
  return Status::Ok();
}

// The server. Owned by the caller through unique_ptr<HttpServer>. Thread-safe: port() reads an
// immutable value; Stop serialises on stop_mu_. The acceptor lives on its own strand.
class HttpServerImpl final : public HttpServer {
 public:
  HttpServerImpl(const HttpServerOptions& options, Handler* handler)
      : pool_(options.threads, "nds-http-io"), acceptor_(pool_, "HTTP") {
    context_.options = options;
    context_.upload_budget =
        options.upload_budget ? options.upload_budget : std::make_shared<UploadBudget>();
    context_.upload_budget->set_max_bytes(options.upload_bytes_in_flight_max);
    context_.handler = handler;
  }

  // NOLINTNEXTLINE(bugprone-exception-escape): only a bug throws here; terminate is right.
  ~HttpServerImpl() override { Stop(std::chrono::milliseconds(0)); }

  Status Listen();
  void Run();

  uint16_t port() const override { return acceptor_.port(); }
  void Stop(std::chrono::milliseconds grace) override;

 private:
  void OnAccept(tcp::socket socket);

  // Declared first so that it is destroyed last: connections destroyed with the io_contexts'
  // pending handlers do not touch it, but it must outlive every io thread.
  ServerContext context_;
  IoContextPool pool_;
  Acceptor acceptor_;

  Mutex stop_mu_;
  bool running_ NDS_GUARDED_BY(stop_mu_) = false;  // threads started and Stop not yet called
};

Status HttpServerImpl::Listen() {
  const HttpServerOptions& o = context_.options;
  return acceptor_.Listen(o.address, o.port, o.listen_backlog);
}

void HttpServerImpl::Run() {
  acceptor_.Start([this](tcp::socket socket) { OnAccept(std::move(socket)); });
  MutexLock lock(stop_mu_);
  running_ = true;
  pool_.Run();
}

// On the acceptor's strand.
void HttpServerImpl::OnAccept(tcp::socket socket) {
  const size_t open = context_.registry.Size();
  const size_t limit = context_.options.connections_max;
  if (open >= limit + kOverloadAnswersMax) {
    error_code ec;
    socket.close(ec);  // far over the limit: not even a 503
  } else {
    std::make_shared<HttpConnection>(&context_, std::move(socket))->Start(open >= limit);
  }
}

void HttpServerImpl::Stop(std::chrono::milliseconds grace) {
  MutexLock lock(stop_mu_);
  if (!running_) return;
  running_ = false;
  NDS_CHECK(!pool_.OnIoThread(), "HttpServer::Stop called on an io thread");
  const Clock::time_point grace_end = Clock::now() + grace;

  // Close the acceptor (on its strand, waiting for it), so no connection arrives after the drain
  // starts.
  acceptor_.Stop();

  for (const auto& connection : context_.registry.Snapshot()) connection->BeginDrain();
  if (!context_.registry.WaitEmptyUntil(grace_end)) {
    for (const auto& connection : context_.registry.Snapshot()) connection->ForceClose();
    const bool closed = context_.registry.WaitEmptyUntil(Clock::now() + kForceCloseWait);
    (void)closed;  // whatever is left is closed when the io_contexts are destroyed
  }
  pool_.Stop();
  // From here on, Responders do nothing; then drop the connections the registry still holds.
  context_.gate->Close();
  context_.registry.Clear();
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      Handler* handler) {
  NDS_CHECK(handler != nullptr);
  NDS_RETURN_IF_ERROR(ValidateOptions(options));
  auto server = std::make_unique<HttpServerImpl>(options, handler);
  NDS_RETURN_IF_ERROR(server->Listen());
  server->Run();
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace nds::net
