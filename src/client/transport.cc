// Failover and retry policy of the client (see transport.h for the rules).
#include "client/transport.h"

#include <algorithm>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "client/http_error.h"

namespace nds::client {
namespace {

// Failures that another attempt cannot fix: the call itself or the reply is at fault.
bool IsPermanent(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument ||
         status.code() == StatusCode::kResourceExhausted || status.code() == StatusCode::kIoError;
}

Status WithUncertainOutcome(const Status& status) {
  return Status(status.code(), status.message() + "; the request may or may not have taken effect");
}

std::string ServerListText(const std::vector<ServerAddress>& servers) {
  std::string text;
  for (const ServerAddress& s : servers) {
    if (!text.empty()) text += ",";
    text += s.ToString();
  }
  return text;
}

}  // namespace

Transport::Transport(ClientOptions options) : options_(std::move(options)) {
  NDS_CHECK(options_.Validate().ok(), "{}", options_.Validate().ToString());
}

Transport::~Transport() = default;

void Transport::MoveToNextServer() {
  connection_.reset();
  current_ = (current_ + 1) % options_.servers.size();
}

Result<std::shared_ptr<net::SslContext>> Transport::TlsContext() {
  if (!tls_context_) {
    const ClientTlsOptions& o = options_.tls;
    NDS_ASSIGN_OR_RETURN(tls_context_,
                         net::MakeClientTlsContext({o.ca_file, o.cert_file, o.key_file}));
  }
  return tls_context_;
}

Status Transport::EnsureConnected(std::vector<bool>& unreachable) {
  if (connection_ && connection_->IsOpen()) {
    if (connection_->LooksReusable()) return Status::Ok();
    connection_->Close();
  }
  const size_t n = options_.servers.size();
  std::string last_reason;
  for (size_t tried = 0; tried < n; ++tried) {
    if (!unreachable[current_]) {
      const ServerAddress& server = options_.servers[current_];
      if (!connection_) {
        std::shared_ptr<net::SslContext> tls;
        if (server.tls) {
          NDS_ASSIGN_OR_RETURN(tls, TlsContext());
        }
        connection_ = std::make_unique<Connection>(ioc_, server, std::move(tls));
      }
      const Status connected =
          connection_->Connect(Clock::now() + options_.connect_timeout, options_.connect_timeout);
      if (connected.ok()) return Status::Ok();
      unreachable[current_] = true;
      last_reason = fmt::format("{}: {}", server.ToString(), connected.message());
      if (n == 1) last_reason = connected.message();
    }
    MoveToNextServer();
  }
  if (n == 1) {
    return Unavailable(
        fmt::format("{}{} ({})", kCannotReachPrefix, options_.servers[0].ToString(), last_reason));
  }
  return Unavailable(fmt::format("{}any of {} (last: {})", kCannotReachPrefix,
                                 ServerListText(options_.servers), last_reason));
}

Result<HttpReply> Transport::Send(const HttpCall& call) {
  const Clock::time_point retry_end = Clock::now() + options_.retry_deadline;
  std::vector<bool> unreachable(options_.servers.size(), false);
  Status last_failure = Unavailable("no attempt made");
  std::optional<HttpReply> last_reply;
  for (size_t attempt = 1; attempt <= options_.attempts_max; ++attempt) {
    if (Status connected = EnsureConnected(unreachable); !connected.ok()) {
      if (last_reply) return std::move(*last_reply);
      return connected;
    }
    RoundTripOutcome out =
        connection_->RoundTrip(call, Clock::now() + options_.request_timeout, options_);
    const bool more_allowed = attempt < options_.attempts_max && Clock::now() < retry_end;
    if (out.status.ok()) {
      if (out.reply.status != 503 || !call.idempotent || !more_allowed) return std::move(out.reply);
      const auto asked = RetryAfter(out.reply).value_or(std::chrono::seconds(0));
      const auto delay = std::min<std::chrono::milliseconds>(asked, options_.retry_delay_max);
      last_reply = std::move(out.reply);
      if (Clock::now() + delay >= retry_end) break;
      std::this_thread::sleep_for(delay);
      MoveToNextServer();
      continue;
    }
    if (IsPermanent(out.status)) return out.status;
    if (out.request_may_have_arrived && !call.idempotent) return WithUncertainOutcome(out.status);
    last_failure = out.status;
    last_reply.reset();
    if (!more_allowed) break;
    // A request that cannot have arrived (a write on a connection the server had just closed) is
    // retried on the same server; one that may have arrived goes to the next server.
    if (out.request_may_have_arrived) MoveToNextServer();
  }
  if (last_reply) return std::move(*last_reply);
  return last_failure;
}

Result<HttpReply> Transport::Stream(const HttpCall& call,
                                    const std::function<Status(std::string_view)>& sink,
                                    std::optional<std::chrono::milliseconds> read_timeout) {
  std::vector<bool> unreachable(options_.servers.size(), false);
  NDS_RETURN_IF_ERROR(EnsureConnected(unreachable));
  if (!read_timeout) return connection_->StreamRoundTrip(call, options_, sink);
  ClientOptions options = options_;
  options.request_timeout = *read_timeout;
  return connection_->StreamRoundTrip(call, options, sink);
}

}  // namespace nds::client
