// Fuzz target: the HTTP/1.1 request path of net/ without a socket. The bytes are one client's
// stream: CheckRequestHead runs on the head (as HttpConnection does), then Beast's request parser
// with the server's limits takes the whole stream, request after request; EscapeForLog runs on the
// request line. Properties: no crash, no sanitizer report, a bounded escape.
#include <optional>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "fuzz/fuzz_check.h"
#include "net/http_wire.h"
#include "util/log_text.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = nds::fuzz::AsView(data, size);
  constexpr size_t kRequestsMax = 16;
  for (size_t n = 0; n < kRequestsMax && !in.empty(); ++n) {
    const size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string_view::npos) return 0;  // the server waits for more
    const std::string_view head = in.substr(0, head_end + 4);
    const std::string logged = nds::EscapeForLog(head.substr(0, head.find("\r\n")), 64);
    FUZZ_CHECK(logged.size() <= 64 * 4 + 32);
    if (std::optional<nds::net::HeadRejection> r = nds::net::CheckRequestHead(head)) {
      FUZZ_CHECK(r->status == 400 || r->status == 501);
      FUZZ_CHECK(!r->message.empty());
      return 0;  // the connection closes
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 << 10);
    parser.body_limit(1 << 20);
    parser.eager(true);
    boost::system::error_code ec;
    size_t used_total = 0;
    while (!parser.is_done()) {
      const std::string_view rest = in.substr(used_total);
      const size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      used_total += used;
      if (ec == http::error::need_more && used_total < in.size() && used > 0) continue;
      if (ec || used == 0) break;
    }
    if (!parser.is_done()) return 0;
    // A request the server would hand over: its framing must match what CheckRequestHead let in.
    const auto& message = parser.get();
    if (message.count(http::field::transfer_encoding) > 0) FUZZ_CHECK(parser.chunked());
    in.remove_prefix(used_total);
    if (!message.keep_alive()) return 0;
  }
  return 0;
}
