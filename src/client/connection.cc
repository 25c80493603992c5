// One synchronous HTTP/1.1 connection (see connection.h). The request head is written by hand
// (after validating every byte that goes into it) and sent with the body in one gathered write,
// so a 16 MiB value is never copied; the reply is parsed by Beast's response parser with limits.
#include "client/connection.h"

#include <array>
#include <cctype>
#include <poll.h>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>

#include "client/encoding.h"

namespace nds::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

#ifndef NDS_VERSION
#define NDS_VERSION "unknown"
#endif

bool IsTokenChar(unsigned char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// A header value may hold any visible byte, space and tab, but no CR, LF or other control byte
// (which would let a caller inject headers).
bool IsFieldValue(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
  }
  return true;
}

bool IsTarget(std::string_view s) {
  if (s.empty() || s.front() != '/') return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7F) return false;
  }
  return true;
}

// Builds the request line and headers, or kInvalidArgument naming the bad part.
Result<std::string> BuildHead(const HttpCall& call, const ServerAddress& server) {
  if (!IsToken(call.method)) return InvalidArgument("bad HTTP method");
  if (!IsTarget(call.target)) {
    return InvalidArgument(
        fmt::format("bad request target '{}': it must start with '/' and be "
                    "percent-encoded",
                    EscapeForMessage(call.target)));
  }
  std::string head = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: nds-client/{}\r\n",
                                 call.method, call.target, server.HostPort(), NDS_VERSION);
  for (const auto& [name, value] : call.headers) {
    if (!IsToken(name) || !IsFieldValue(value)) {
      return InvalidArgument(fmt::format("bad header '{}'", EscapeForMessage(name)));
    }
    head += fmt::format("{}: {}\r\n", name, value);
  }
  const bool body_expected =
      call.method == "POST" || call.method == "PUT" || call.method == "PATCH";
  if (!call.body.empty() || body_expected) {
    head += fmt::format("Content-Length: {}\r\n", call.body.size());
  }
  head += "\r\n";
  return head;
}

std::string LowerCase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Turns a failed read of the reply into a Status naming the server.
Status ReadFailure(const error_code& ec, const ServerAddress& server,
                   const ClientOptions& options) {
  if (ec == http::error::body_limit) {
    return ResourceExhausted(fmt::format("reply from {} is larger than {} bytes", server.ToString(),
                                         options.reply_body_bytes_max));
  }
  if (ec == http::error::header_limit) {
    return ResourceExhausted(fmt::format("reply headers from {} are larger than {} bytes",
                                         server.ToString(), options.reply_header_bytes_max));
  }
  if (ec.category() == make_error_code(http::error::body_limit).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return IoError(fmt::format("malformed reply from {} ({})", server.ToString(), ec.message()));
  }
  return Unavailable(fmt::format("connection to {} lost before the whole reply arrived ({})",
                                 server.ToString(), ec.message()));
}

}  // namespace

Connection::Connection(asio::io_context& ioc, ServerAddress server,
                       std::shared_ptr<net::SslContext> tls)
    : ioc_(ioc), server_(std::move(server)), tls_(std::move(tls)), stream_(ioc), resolver_(ioc) {
  NDS_CHECK(!server_.tls || tls_ != nullptr, "an https:// server needs a TLS context");
}

Connection::~Connection() { Close(); }

bool Connection::IsOpen() const { return stream_.socket().is_open(); }

void Connection::Close() {
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  stream_.ResetTls();
  buffer_.clear();
}

bool Connection::LooksReusable() {
  if (!stream_.socket().is_open() || buffer_.size() != 0) return false;
  pollfd pfd{};
  pfd.fd = stream_.socket().native_handle();
  pfd.events = POLLIN;
  // Readable on an idle connection means EOF, a reset or bytes nobody asked for: all unusable.
  return ::poll(&pfd, 1, 0) == 0;
}

bool Connection::RunUntil(Clock::time_point deadline) {
  ioc_.restart();
  ioc_.run_until(deadline);
  if (ioc_.stopped()) return false;  // out of work: every operation completed
  resolver_.cancel();
  error_code ignored;
  stream_.socket().cancel(ignored);
  stream_.socket().close(ignored);
  ioc_.restart();
  ioc_.run();  // drains the aborted handlers; they only record their error
  return true;
}

Status Connection::Connect(Clock::time_point deadline, std::chrono::milliseconds connect_timeout) {
  Close();
  error_code result = asio::error::would_block;
  resolver_.async_resolve(
      server_.host, std::to_string(server_.port),
      [this, &result](const error_code& ec, const tcp::resolver::results_type& endpoints) {
        if (ec) {
          result = ec;
          return;
        }
        asio::async_connect(
            stream_.socket(), endpoints,
            [&result](const error_code& cec, const tcp::endpoint&) { result = cec; });
      });
  if (RunUntil(deadline)) {
    return Unavailable(fmt::format("connect timed out after {} ms", connect_timeout.count()));
  }
  if (result) {
    Close();
    std::string reason = result.message();
    if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(reason[0]));
    return Unavailable(reason);
  }
  error_code ec;
  stream_.socket().set_option(tcp::no_delay(true), ec);
  if (ec) {
    Close();
    return Unavailable(fmt::format("cannot set TCP_NODELAY ({})", ec.message()));
  }
  if (server_.tls) return Handshake(deadline);
  return Status::Ok();
}

Status Connection::Handshake(Clock::time_point deadline) {
  stream_.StartTls(*tls_);
  SSL* ssl = stream_.tls()->native_handle();
  if (Status s = net::SetTlsPeerHost(ssl, server_.host); !s.ok()) {
    Close();
    return s;
  }
  error_code result = asio::error::would_block;
  stream_.tls()->async_handshake(asio::ssl::stream_base::client,
                                 [&result](const error_code& ec) { result = ec; });
  if (RunUntil(deadline)) {
    Close();
    return Unavailable("TLS handshake timed out");
  }
  if (result) {
    std::string reason = net::DescribeTlsFailure(ssl, result);
    if (SSL_get_verify_result(ssl) != X509_V_OK) {
      reason += "; give the CA that signed it with --cacert (NDS_CACERT)";
    }
    Close();
    return Unavailable(fmt::format("TLS handshake failed: {}", reason));
  }
  return Status::Ok();
}

RoundTripOutcome Connection::RoundTrip(const HttpCall& call, Clock::time_point deadline,
                                       const ClientOptions& options) {
  NDS_CHECK(IsOpen());
  RoundTripOutcome outcome;
  Result<std::string> head = BuildHead(call, server_);
  if (!head.ok()) {
    outcome.status = head.status();
    return outcome;
  }
  http::response_parser<http::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(options.reply_header_bytes_max));
  parser.body_limit(options.reply_body_bytes_max);
  if (call.method == "HEAD") parser.skip(true);

  error_code write_ec = asio::error::would_block;
  error_code read_ec = asio::error::would_block;
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(*head), asio::buffer(call.body)};
  asio::async_write(stream_, buffers, [&](const error_code& ec, size_t) {
    write_ec = ec;
    if (ec == asio::error::operation_aborted) return;  // the deadline passed
    // Read even after a failed write: a server may answer early (413 for a body over its limit)
    // and close without reading the rest, and that answer is the one worth reporting.
    http::async_read(stream_, buffer_, parser,
                     [&read_ec](const error_code& rec, size_t) { read_ec = rec; });
  });
  const bool timed_out = RunUntil(deadline);
  outcome.request_may_have_arrived = !write_ec;
  if (timed_out) {
    Close();
    outcome.status = Timeout(fmt::format("no reply from {} within {} ms", server_.ToString(),
                                         options.request_timeout.count()));
    return outcome;
  }
  if (write_ec && read_ec) {
    Close();
    outcome.status = Unavailable(fmt::format("connection to {} lost while sending ({})",
                                             server_.ToString(), write_ec.message()));
    return outcome;
  }
  if (read_ec) {
    Close();
    outcome.status = ReadFailure(read_ec, server_, options);
    return outcome;
  }
  http::response<http::string_body> message = parser.release();
  outcome.reply.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    outcome.reply.headers.emplace_back(LowerCase(field.name_string()), std::string(field.value()));
  }
  outcome.reply.body = std::move(message.body());
  // After an early answer to a request not wholly sent, the connection is out of step.
  if (write_ec || !message.keep_alive() || buffer_.size() != 0) Close();
  return outcome;
}

Result<HttpReply> Connection::StreamRoundTrip(const HttpCall& call, const ClientOptions& options,
                                              const std::function<Status(std::string_view)>& sink) {
  NDS_CHECK(IsOpen());
  NDS_ASSIGN_OR_RETURN(std::string head, BuildHead(call, server_));
  http::response_parser<http::buffer_body> parser;
  parser.header_limit(static_cast<uint32_t>(options.reply_header_bytes_max));
  parser.body_limit(boost::none);  // the body goes to the sink, never into memory
  error_code ec = asio::error::would_block;
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(call.body)};
  asio::async_write(stream_, buffers, [&](const error_code& wec, size_t) {
    ec = wec;
    if (wec) return;
    http::async_read_header(stream_, buffer_, parser,
                            [&ec](const error_code& rec, size_t) { ec = rec; });
  });
  auto timed_out = [&] {
    Close();
    return Timeout(fmt::format("no reply from {} within {} ms", server_.ToString(),
                               options.request_timeout.count()));
  };
  if (RunUntil(Clock::now() + options.request_timeout)) return timed_out();
  if (ec) {
    Close();
    return ReadFailure(ec, server_, options);
  }
  HttpReply reply;
  reply.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    reply.headers.emplace_back(LowerCase(field.name_string()), std::string(field.value()));
  }
  const bool ok = reply.status >= 200 && reply.status < 300;
  // Beast reads at most what the buffer has room for: without room it reads 512 bytes a time.
  buffer_.reserve(256 << 10);
  std::vector<char> buf(256 << 10);
  for (size_t reads = 0; !parser.is_done(); ++reads) {
    parser.get().body().data = buf.data();
    parser.get().body().size = buf.size();
    ec = asio::error::would_block;
    http::async_read_some(stream_, buffer_, parser,
                          [&ec](const error_code& rec, size_t) { ec = rec; });
    if (RunUntil(Clock::now() + options.request_timeout)) return timed_out();
    if (ec && ec != http::error::need_buffer) {
      Close();
      return ReadFailure(ec, server_, options);
    }
    const size_t n = buf.size() - parser.get().body().size;
    if (ok) {
      if (Status s = sink(std::string_view(buf.data(), n)); !s.ok()) {
        Close();
        return s;
      }
    } else if (reply.body.size() + n <= options.reply_header_bytes_max) {
      reply.body.append(buf.data(), n);
    }
  }
  Close();
  return reply;
}

}  // namespace nds::client
