// A tiny HTTP/1.1 server for loadgen_test: listens on 127.0.0.1 on a free port, serves each
// keep-alive connection on its own thread with blocking Asio calls, and answers every request
// with what the test's handler returns (or nothing, to provoke timeouts). It counts the requests
// it received so that a test can compare with what the load generator counted.
//
// Owned by one test; Stop() (or the destructor) unblocks and joins every thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <sys/socket.h>

#include "util/thread_annotations.h"

namespace nds::loadgen {

struct TestRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

class TestHttpServer {
 public:
  // Returns the whole response to send, or nullopt to send nothing for this request.
  using Handler = std::function<std::optional<std::string>(const TestRequest&)>;

  explicit TestHttpServer(Handler handler) : handler_(std::move(handler)), acceptor_(ioc_) {
    using boost::asio::ip::tcp;
    boost::system::error_code ec;
    const tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol(), ec);
    acceptor_.bind(endpoint, ec);
    acceptor_.listen(1024, ec);
    port_ = acceptor_.local_endpoint(ec).port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~TestHttpServer() { Stop(); }

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  uint64_t requests() const { return requests_.load(); }
  std::vector<TestRequest> first_requests() const {
    MutexLock lock(mu_);
    return first_requests_;
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes the blocked accept
    accept_thread_.join();
    std::vector<std::thread> threads;
    {
      MutexLock lock(mu_);
      for (auto& s : sockets_) ::shutdown(s->native_handle(), SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  void AcceptLoop() {
    while (!stopped_) {
      auto socket = std::make_shared<boost::asio::ip::tcp::socket>(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec) break;
      MutexLock lock(mu_);
      sockets_.push_back(socket);
      threads_.emplace_back([this, socket] { Serve(*socket); });
    }
  }

  // Reads requests (Content-Length bodies only) and answers each in turn.
  void Serve(boost::asio::ip::tcp::socket& socket) {
    std::string buffer;
    char chunk[16 << 10];
    while (true) {
      const size_t head_end = buffer.find("\r\n\r\n");
      if (head_end == std::string::npos) {
        if (!ReadMore(socket, chunk, sizeof chunk, &buffer)) return;
        continue;
      }
      TestRequest request = ParseHead(buffer.substr(0, head_end));
      const size_t body_bytes = std::stoul(
          request.headers["content-length"].empty() ? "0" : request.headers["content-length"]);
      while (buffer.size() < head_end + 4 + body_bytes) {
        if (!ReadMore(socket, chunk, sizeof chunk, &buffer)) return;
      }
      request.body = buffer.substr(head_end + 4, body_bytes);
      buffer.erase(0, head_end + 4 + body_bytes);
      ++requests_;
      const std::optional<std::string> response = handler_(request);
      {
        MutexLock lock(mu_);
        if (first_requests_.size() < 16) first_requests_.push_back(request);
      }
      if (!response) continue;
      boost::system::error_code ec;
      boost::asio::write(socket, boost::asio::buffer(*response), ec);
      if (ec) return;
      if (response->find("Connection: close") != std::string::npos) {
        socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
        return;
      }
    }
  }

  static bool ReadMore(boost::asio::ip::tcp::socket& socket, char* chunk, size_t size,
                       std::string* buffer) {
    boost::system::error_code ec;
    const size_t n = socket.read_some(boost::asio::buffer(chunk, size), ec);
    if (ec) return false;
    buffer->append(chunk, n);
    return true;
  }

  static TestRequest ParseHead(const std::string& head) {
    TestRequest r;
    size_t line_end = head.find("\r\n");
    const std::string first = head.substr(0, line_end);
    const size_t sp1 = first.find(' ');
    const size_t sp2 = first.find(' ', sp1 + 1);
    r.method = first.substr(0, sp1);
    r.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      line_end = head.find("\r\n", pos);
      if (line_end == std::string::npos) line_end = head.size();
      const std::string line = head.substr(pos, line_end - pos);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const size_t value_at = line.find_first_not_of(' ', colon + 1);
        r.headers[name] = value_at == std::string::npos ? "" : line.substr(value_at);
      }
      pos = line_end + 2;
    }
    return r;
  }

  const Handler handler_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread accept_thread_;
  std::atomic<bool> stopped_{false};
  std::atomic<uint64_t> requests_{0};
  mutable Mutex mu_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_ NDS_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ NDS_GUARDED_BY(mu_);
  std::vector<TestRequest> first_requests_ NDS_GUARDED_BY(mu_);
};

}  // namespace nds::loadgen
