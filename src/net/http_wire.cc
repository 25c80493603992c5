// Serialisation helpers of the HTTP/1.1 server: see http_wire.h.
#include "net/http_wire.h"

#include <array>
#include <charconv>

#include <boost/beast/http/status.hpp>

namespace nds::net {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool HasForbiddenByte(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

bool IsFramingHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding") ||
         EqualsIgnoreCase(name, "connection");
}

void AppendDecimal(uint64_t v, std::string* out) {
  std::array<char, 24> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out->append(buf.data(), end);
}

}  // namespace

bool StatusHasNoBody(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

bool ResponseAsksClose(const HttpResponse& response) {
  for (const auto& [name, value] : response.headers) {
    if (EqualsIgnoreCase(name, "connection") && EqualsIgnoreCase(value, "close")) return true;
  }
  return false;
}

void AppendResponseHead(const HttpResponse& response, const ResponseHeadOptions& options,
                        std::string* out) {
  int status = response.status;
  if (status < 100 || status > 999) status = 500;
  out->append("HTTP/1.1 ");
  AppendDecimal(static_cast<uint64_t>(status), out);
  out->push_back(' ');
  std::string_view reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  if (reason == "<unknown-status>") reason = "Unknown";
  out->append(reason);
  out->append("\r\n");
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || IsFramingHeader(name) || HasForbiddenByte(name) ||
        HasForbiddenByte(value)) {
      continue;
    }
    out->append(name);
    out->append(": ");
    out->append(value);
    out->append("\r\n");
  }
  out->append("Server: nds\r\n");
  switch (options.framing) {
    case BodyFraming::kContentLength:
      out->append("Content-Length: ");
      AppendDecimal(options.content_length, out);
      out->append("\r\n");
      break;
    case BodyFraming::kChunked:
      out->append("Transfer-Encoding: chunked\r\n");
      break;
    case BodyFraming::kUntilClose:
    case BodyFraming::kNone:
      break;
  }
  if (options.connection_close) {
    out->append("Connection: close\r\n");
  } else if (options.connection_keep_alive) {
    out->append("Connection: keep-alive\r\n");
  }
  out->append("\r\n");
}

void AppendChunkSizeLine(size_t size, std::string* out) {
  std::array<char, 24> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), size, 16);
  out->append(buf.data(), end);
  out->append("\r\n");
}

std::string JsonEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

HttpResponse MakeErrorResponse(int status, std::string_view code, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "application/json");
  response.body =
      "{\"error\": \"" + JsonEscape(code) + "\", \"message\": \"" + JsonEscape(message) + "\"}";
  return response;
}

}  // namespace nds::net
