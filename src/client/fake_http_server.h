// Test-only (included by *_test.cc, never by the library): a scripted HTTP/1.1 server on
// 127.0.0.1 and a free port, so that the client's tests check exact bytes on the wire without a
// real nds node. It records every request (method, target, headers, body, connection), counts
// connections, and answers each request with what the test's script returns: a reply, a close
// without reply, no reply at all (for timeouts), or raw bytes (for malformed replies).
//
// Owned by the test. Its io_context runs on one thread of its own; the script runs there too.
// The accessors are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>

#include "client/http_types.h"
#include "client/options.h"
#include "util/thread_annotations.h"

namespace nds::client::testing {

struct RecordedRequest {
  std::string method;
  std::string target;
  HttpHeaders headers;  // names lower-cased
  std::string body;
  size_t connection = 0;  // 1-based number of the connection it came on

  std::string Header(std::string_view lower_name) const {
    for (const auto& [n, v] : headers) {
      if (n == lower_name) return v;
    }
    return {};
  }
  bool HasHeader(std::string_view lower_name) const {
    for (const auto& [n, v] : headers) {
      if (n == lower_name) return true;
    }
    return false;
  }
};

struct FakeReply {
  enum class Action { kReply, kCloseWithoutReply, kNeverReply, kRawBytes };
  Action action = Action::kReply;
  int status = 200;
  HttpHeaders headers;
  std::string body;
  // Content-Length to send instead of body.size() (for HEAD replies).
  std::optional<uint64_t> content_length;
  bool close_after = false;  // close the connection after the reply (without saying so)
  std::string raw;           // for kRawBytes: written as is, then the connection is closed

  static FakeReply Status(int status, std::string body = {}) {
    FakeReply r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static FakeReply Of(Action action) {
    FakeReply r;
    r.action = action;
    return r;
  }
  FakeReply& With(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

using FakeScript = std::function<FakeReply(const RecordedRequest&)>;

class FakeHttpServer {
 public:
  // With `answer_after_header`, the script sees each request as soon as its header has arrived
  // (body empty) and the server closes the connection after its reply without reading the body,
  // as a server does that refuses a body over its limit with 413.
  explicit FakeHttpServer(FakeScript script, bool answer_after_header = false)
      : script_(std::move(script)), answer_after_header_(answer_after_header), acceptor_(ioc_) {
    namespace asio = boost::asio;
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~FakeHttpServer() {
    ioc_.stop();
    thread_.join();
  }

  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  ServerAddress address() const { return ServerAddress{"127.0.0.1", port_}; }
  uint16_t port() const { return port_; }

  size_t connections_accepted() const {
    MutexLock lock(mu_);
    return connections_accepted_;
  }
  std::vector<RecordedRequest> requests() const {
    MutexLock lock(mu_);
    return requests_;
  }
  RecordedRequest last_request() const {
    MutexLock lock(mu_);
    return requests_.empty() ? RecordedRequest{} : requests_.back();
  }
  // Blocks until the server has closed `count` connections itself (an event, not a sleep).
  void WaitForServerClosed(size_t count) {
    MutexLock lock(mu_);
    while (server_closed_ < count) lock.Wait(closed_cv_);
  }

 private:
  struct Session {
    explicit Session(boost::asio::io_context& ioc) : socket(ioc) {}
    boost::asio::ip::tcp::socket socket;
    boost::beast::flat_buffer buffer;
    std::unique_ptr<boost::beast::http::request_parser<boost::beast::http::string_body>> parser;
    std::string out;
    size_t number = 0;
  };

  void Accept() {
    auto session = std::make_shared<Session>(ioc_);
    acceptor_.async_accept(session->socket, [this, session](boost::system::error_code ec) {
      if (ec) return;
      {
        MutexLock lock(mu_);
        session->number = ++connections_accepted_;
        sessions_.push_back(session);  // kept until the server stops (kNeverReply needs it)
      }
      Read(session);
      Accept();
    });
  }

  void Read(const std::shared_ptr<Session>& s) {
    namespace http = boost::beast::http;
    s->parser = std::make_unique<http::request_parser<http::string_body>>();
    s->parser->body_limit(uint64_t{1} << 30);
    auto on_read = [this, s](boost::system::error_code ec, size_t) {
      if (ec) return;  // the client closed, or sent garbage
      OnRequest(s);
    };
    if (answer_after_header_) {
      http::async_read_header(s->socket, s->buffer, *s->parser, on_read);
    } else {
      http::async_read(s->socket, s->buffer, *s->parser, on_read);
    }
  }

  void OnRequest(const std::shared_ptr<Session>& s) {
    namespace http = boost::beast::http;
    http::request<http::string_body> message =
        answer_after_header_ ? http::request<http::string_body>(s->parser->get().base())
                             : s->parser->release();
    RecordedRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.connection = s->number;
    {
      MutexLock lock(mu_);
      requests_.push_back(request);
    }
    const FakeReply reply = script_(request);
    switch (reply.action) {
      case FakeReply::Action::kNeverReply:
        return;
      case FakeReply::Action::kCloseWithoutReply:
        CloseByServer(s);
        return;
      case FakeReply::Action::kRawBytes:
        s->out = reply.raw;
        break;
      case FakeReply::Action::kReply:
        s->out = Serialize(reply);
        break;
    }
    const bool close =
        reply.close_after || reply.action == FakeReply::Action::kRawBytes || answer_after_header_;
    boost::asio::async_write(s->socket, boost::asio::buffer(s->out),
                             [this, s, close](boost::system::error_code ec, size_t) {
                               if (ec) return;
                               if (close) {
                                 CloseByServer(s);
                               } else {
                                 Read(s);
                               }
                             });
  }

  static std::string Serialize(const FakeReply& reply) {
    std::string out = fmt::format("HTTP/1.1 {} Scripted\r\n", reply.status);
    for (const auto& [name, value] : reply.headers) out += fmt::format("{}: {}\r\n", name, value);
    out +=
        fmt::format("Content-Length: {}\r\n\r\n", reply.content_length.value_or(reply.body.size()));
    out += reply.body;
    return out;
  }

  void CloseByServer(const std::shared_ptr<Session>& s) {
    boost::system::error_code ignored;
    s->socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    s->socket.close(ignored);
    MutexLock lock(mu_);
    ++server_closed_;
    closed_cv_.notify_all();
  }

  FakeScript script_;
  const bool answer_after_header_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;

  mutable Mutex mu_;
  std::condition_variable closed_cv_;
  size_t connections_accepted_ NDS_GUARDED_BY(mu_) = 0;
  size_t server_closed_ NDS_GUARDED_BY(mu_) = 0;
  std::vector<RecordedRequest> requests_ NDS_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<Session>> sessions_ NDS_GUARDED_BY(mu_);
};

// A port on 127.0.0.1 where nothing listens (bound, then released), for "connection refused".
inline uint16_t ClosedPort() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(
      ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

}  // namespace nds::client::testing
