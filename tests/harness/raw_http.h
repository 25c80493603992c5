// A deliberately small HTTP/1.1 client for process tests: one keep-alive connection to
// 127.0.0.1:<port>, blocking with a receive timeout, able to send raw bytes (cut-off bodies,
// pipelined requests) and to read Content-Length, chunked, HEAD and no-body answers.
// Not thread-safe: one per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace nds::test {

struct HttpAnswer {
  int status = 0;  // 0: no answer (connection failed, closed or timed out)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& lower) const {
    auto it = headers.find(lower);
    return it == headers.end() ? std::string() : it->second;
  }
};

class RawHttp {
 public:
  explicit RawHttp(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~RawHttp();
  RawHttp(const RawHttp&) = delete;
  RawHttp& operator=(const RawHttp&) = delete;

  HttpAnswer Request(const std::string& method, const std::string& target,
                     const std::string& body = {},
                     const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Sends bytes as they are. False when the connection failed.
  bool SendRaw(const std::string& bytes);
  // Reads one answer; `head` when it answers a HEAD request.
  HttpAnswer ReadAnswer(bool head = false);
  // True when the server closed the connection (a read returns 0) within the timeout.
  bool WaitClosed();
  void Close();

 private:
  bool Connect();
  bool Fill();  // reads more bytes into buf_; false on close, error or timeout
  bool ReadLine(std::string* line);
  bool ReadExactly(size_t n, std::string* out);

  uint16_t port_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buf_;
};

}  // namespace nds::test
