// The process tests' HTTP client.
#include "harness/raw_http.h"

#include <algorithm>
#include <cstdlib>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace nds::test {

RawHttp::RawHttp(uint16_t port, std::chrono::milliseconds timeout)
    : port_(port), timeout_(timeout) {}

RawHttp::~RawHttp() { Close(); }

void RawHttp::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  buf_.clear();
}

bool RawHttp::Connect() {
  if (fd_ >= 0) return true;
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port_);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    Close();
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{};
  tv.tv_sec = timeout_.count() / 1000;
  tv.tv_usec = (timeout_.count() % 1000) * 1000;
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return true;
}

bool RawHttp::SendRaw(const std::string& bytes) {
  if (!Connect()) return false;
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

bool RawHttp::Fill() {
  if (fd_ < 0) return false;
  char tmp[65536];
  ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf_.append(tmp, static_cast<size_t>(n));
  return true;
}

bool RawHttp::ReadLine(std::string* line) {
  for (;;) {
    size_t eol = buf_.find("\r\n");
    if (eol != std::string::npos) {
      *line = buf_.substr(0, eol);
      buf_.erase(0, eol + 2);
      return true;
    }
    if (!Fill()) return false;
  }
}

bool RawHttp::ReadExactly(size_t n, std::string* out) {
  while (buf_.size() < n) {
    if (!Fill()) return false;
  }
  out->append(buf_, 0, n);
  buf_.erase(0, n);
  return true;
}

bool RawHttp::WaitClosed() {
  if (fd_ < 0) return true;
  for (;;) {
    char tmp[4096];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n == 0) return true;
    if (n < 0) return false;  // timeout or error: not closed in time
  }
}

HttpAnswer RawHttp::ReadAnswer(bool head) {
  HttpAnswer a;
  std::string line;
  if (!ReadLine(&line) || line.size() < 12) return a;
  int status = std::atoi(line.substr(9, 3).c_str());
  for (;;) {
    if (!ReadLine(&line)) return a;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    a.headers[name] = value;
  }
  bool no_body = head || status == 204 || status == 304 || status / 100 == 1;
  if (!no_body) {
    if (a.Header("transfer-encoding") == "chunked") {
      for (;;) {
        if (!ReadLine(&line)) return a;
        size_t size = std::strtoull(line.c_str(), nullptr, 16);
        if (size == 0) {
          ReadLine(&line);  // the empty line after the last chunk
          break;
        }
        if (!ReadExactly(size, &a.body) || !ReadLine(&line)) return a;
      }
    } else if (!a.Header("content-length").empty()) {
      size_t n = std::strtoull(a.Header("content-length").c_str(), nullptr, 10);
      if (!ReadExactly(n, &a.body)) return a;
    }
  }
  a.status = status;
  return a;
}

HttpAnswer RawHttp::Request(const std::string& method, const std::string& target,
                            const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) req.append(k).append(": ").append(v).append("\r\n");
  if (!body.empty() || method == "PUT" || method == "POST") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n";
  req += body;
  if (!SendRaw(req)) {
    // A keep-alive connection the server closed: reconnect once.
    Close();
    if (!SendRaw(req)) return {};
  }
  HttpAnswer a = ReadAnswer(method == "HEAD");
  if (a.status == 0) Close();
  if (a.Header("connection") == "close") Close();
  return a;
}

}  // namespace nds::test
