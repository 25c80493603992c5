// The plain request and reply types the client's transport carries: no Beast in them, so that
// code using the client (the CLI, tests, the bench tool) compiles without Boost.Beast.
// Plain value types.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nds::client {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpCall {
  std::string method;  // "GET", "PUT", ... (upper case)
  std::string target;  // path and query, already percent/form-encoded
  // Sent with Content-Length (also when empty, for POST and PUT). Not owned: the bytes must stay
  // valid until the call that sends it returns (calls are synchronous).
  std::string_view body;
  HttpHeaders headers;  // extra headers; Host, User-Agent and Content-Length are added
  // True when sending it twice does no harm, so that the transport may retry it on another server
  // after it may have arrived once (a timeout, a lost connection, a 503).
  bool idempotent = false;
};

struct HttpReply {
  int status = 0;
  HttpHeaders headers;  // names lower-cased, in arrival order
  std::string body;     // empty for HEAD

  // The first header with that lower-case name, or empty. Valid while the reply lives.
  std::string_view Header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return value;
    }
    return {};
  }
  bool HasHeader(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return true;
    }
    return false;
  }
};

}  // namespace nds::client
