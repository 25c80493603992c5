// Test-only helpers for net/'s tests: a raw TCP client that writes exact bytes (so malformed
// input can be sent) and reads answers with Beast's parser, every wait bounded by a generous
// upper limit so that a broken server fails a test instead of hanging it; and a Handler whose
// behaviour each test sets. Header-only, included by *_test.cc files alone.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>

#include "net/http.h"

namespace nds::net::testing {

// How long any single wait of a test may take before the test fails (not a timing assertion:
// only a bound against hanging).
inline constexpr std::chrono::seconds kWaitMax{20};

// One answer as the client saw it. (Its implicit assignments may throw where Beast's fields do;
// a throw in a test is a failure, so the noexcept the check expects does not matter.)
struct Reply {                      // NOLINT(bugprone-exception-escape)
  boost::system::error_code error;  // set when no complete answer could be read
  int status = 0;
  boost::beast::http::fields headers;
  std::string body;
  bool ok() const { return !error; }
  std::string Header(std::string_view name) const { return std::string(headers[name]); }
};

// A plain TCP client on its own io_context. Not thread-safe: one test thread uses it.
class RawClient {
 public:
  // Connects to 127.0.0.1:`port`. A non-zero `receive_buffer_bytes` sets SO_RCVBUF first.
  explicit RawClient(uint16_t port, int receive_buffer_bytes = 0) : socket_(ioc_) {
    boost::system::error_code ec;
    socket_.open(boost::asio::ip::tcp::v4(), ec);
    if (receive_buffer_bytes > 0) {
      socket_.set_option(boost::asio::socket_base::receive_buffer_size(receive_buffer_bytes), ec);
    }
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port}, connect_error_);
  }

  const boost::system::error_code& connect_error() const { return connect_error_; }

  // Writes all of `bytes`; returns the error, if any.
  boost::system::error_code Send(std::string_view bytes) {
    boost::system::error_code ec;
    boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()), ec);
    return ec;
  }

  // Reads one answer. `head_request` tells the parser the answer carries no body.
  Reply Read(bool head_request = false) {
    Reply reply;
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.body_limit(256u << 20);
    if (head_request) parser.skip(true);
    reply.error = RunBounded(
        [&](auto done) { boost::beast::http::async_read(socket_, buffer_, parser, done); });
    if (reply.error) return reply;
    auto& message = parser.get();
    reply.status = static_cast<int>(message.result_int());
    reply.headers = message.base();
    reply.body = std::move(message.body());
    return reply;
  }

  // Reads an answer whose body may be huge: `on_body` receives the body's bytes piece by piece
  // (chunked or not) and nothing is kept. Returns the error, if any.
  boost::system::error_code ReadStreamed(Reply* head,
                                         const std::function<void(std::string_view)>& on_body) {
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.body_limit(boost::none);
    auto on_chunk = [&](std::uint64_t, std::string_view data, boost::system::error_code&) {
      on_body(data);
      return data.size();  // consumed here: nothing accumulates in the parser's body
    };
    parser.on_chunk_body(on_chunk);
    boost::system::error_code ec = RunBounded(
        [&](auto done) { boost::beast::http::async_read_header(socket_, buffer_, parser, done); });
    if (ec) return ec;
    head->status = static_cast<int>(parser.get().result_int());
    head->headers = parser.get().base();
    while (!parser.is_done()) {
      ec = RunBounded(
          [&](auto done) { boost::beast::http::async_read_some(socket_, buffer_, parser, done); });
      if (ec) return ec;
      std::string& body = parser.get().body();  // bodies that are not chunked land here
      if (!body.empty()) {
        on_body(body);
        body.clear();
      }
    }
    return {};
  }

  // Reads (and drops) whatever arrives until the server closes the connection. Returns true
  // when it did (end of stream or reset), false if it stayed open kWaitMax.
  bool WaitClosed() {
    char scratch[4096];
    for (int i = 0; i < 100000; ++i) {
      boost::system::error_code ec = RunBounded(
          [&](auto done) { socket_.async_read_some(boost::asio::buffer(scratch), done); });
      if (ec == boost::asio::error::timed_out) return false;
      if (ec) return true;
    }
    return false;
  }

  // The first bytes of the next answer, raw (for interim answers such as 100 Continue).
  std::string ReadRaw(size_t bytes) {
    std::string out(bytes, '\0');
    size_t have = std::min(bytes, buffer_.size());
    boost::asio::buffer_copy(boost::asio::buffer(out.data(), have), buffer_.data());
    buffer_.consume(have);
    if (have < bytes) {
      boost::system::error_code ec = RunBounded([&](auto done) {
        boost::asio::async_read(socket_, boost::asio::buffer(out.data() + have, bytes - have),
                                done);
      });
      if (ec) out.resize(have);
    }
    return out;
  }

  void ShutdownSend() {
    boost::system::error_code ec;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
  }
  void Close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }

 private:
  // Starts an operation through `start(done)` and runs the client's io_context until it
  // completes or kWaitMax passes (then returns timed_out).
  template <typename Start>
  boost::system::error_code RunBounded(Start start) {
    std::optional<boost::system::error_code> result;
    start([&result](boost::system::error_code ec, std::size_t) { result = ec; });
    ioc_.restart();
    ioc_.run_for(kWaitMax);
    if (!result) {
      boost::system::error_code ignored;
      socket_.cancel(ignored);
      ioc_.restart();
      ioc_.run();
      return boost::asio::error::timed_out;
    }
    return *result;
  }

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  boost::system::error_code connect_error_;
};

// A Handler whose behaviour the test sets; by default it echoes the request. Thread-safe.
class TestHandler : public Handler {
 public:
  using Fn = std::function<void(HttpRequest, Responder)>;

  // Set before requests arrive.
  void set_behaviour(Fn fn) { behaviour_ = std::move(fn); }

  // Counts the call after a set behaviour has run (so a test that waits for n calls sees what
  // the behaviour did), and before the default echo answers (so a client that has its answer
  // sees the call counted).
  void Handle(HttpRequest request, Responder respond) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_ = request;
    }
    if (behaviour_) {
      behaviour_(std::move(request), std::move(respond));
      CountCall();
      return;
    }
    CountCall();
    HttpResponse response;
    response.SetHeader("X-Method", request.method);
    response.SetHeader("X-Target", request.target);
    response.body = request.body;
    respond(std::move(response));
  }

  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  HttpRequest last() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }
  // Waits until at least `n` requests arrived (bounded by kWaitMax); returns whether they did.
  bool WaitCalls(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWaitMax, [&] { return calls_ >= n; });
  }

 private:
  void CountCall() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
    }
    cv_.notify_all();
  }

  Fn behaviour_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  HttpRequest last_;
};

// Starts a server for `handler` on 127.0.0.1, on a port the kernel picks, with `options` otherwise.
inline Result<std::unique_ptr<HttpServer>> StartLoopbackServer(Handler* handler,
                                                               HttpServerOptions options = {}) {
  options.address = "127.0.0.1";
  options.port = 0;
  return HttpServer::Start(options, handler);
}

// Reads an error answer that the server makes itself and closes after: `status`, a JSON body
// whose "error" is `code`, "Connection: close", and then the close. `out`, when given, receives the
// answer for further checks.
inline ::testing::AssertionResult ReadsRefusal(RawClient& client, int status, std::string_view code,
                                               Reply* out = nullptr) {
  Reply reply = client.Read();
  if (!reply.ok()) return ::testing::AssertionFailure() << "no answer: " << reply.error.message();
  if (reply.status != status) {
    return ::testing::AssertionFailure()
           << "status " << reply.status << " instead of " << status << ": " << reply.body;
  }
  if (reply.Header("Content-Type") != "application/json" ||
      reply.body.find("\"error\": \"" + std::string(code) + "\"") == std::string::npos) {
    return ::testing::AssertionFailure() << "not the JSON error " << code << ": " << reply.body;
  }
  if (reply.Header("Connection") != "close") {
    return ::testing::AssertionFailure() << "no Connection: close with the " << status;
  }
  if (!client.WaitClosed()) return ::testing::AssertionFailure() << "the connection stayed open";
  if (out != nullptr) *out = std::move(reply);
  return ::testing::AssertionSuccess();
}

}  // namespace nds::net::testing
