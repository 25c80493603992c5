// Serialisation helpers of the HTTP/1.1 server: see http_wire.h.
#include "net/http_wire.h"

#include <array>
#include <charconv>
#include <vector>

#include <boost/beast/http/status.hpp>

#include "util/ascii.h"
#include "util/hex.h"

namespace nds::net {
namespace {

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

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// Calls `element(text)` for each comma-separated element of a list field value, trimmed (RFC
// 9110 §5.6.1), empty ones included so that the caller decides about them.
template <typename F>
void ForEachListElement(std::string_view value, F&& element) {
  while (true) {
    const size_t comma = value.find(',');
    element(TrimBlanks(value.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    value.remove_prefix(comma + 1);
  }
}

// A coding name from outside, cut for an error message.
std::string Quoted(std::string_view s) {
  constexpr size_t kShownBytesMax = 40;
  std::string out = "'";
  for (char c : s.substr(0, kShownBytesMax)) out.push_back(IsTokenChar(c) ? c : '?');
  if (s.size() > kShownBytesMax) out += "...";
  return out + "'";
}

// What the header fields of one request say about its framing.
struct Framing {
  bool http10 = false;
  bool has_content_length = false;
  std::optional<uint64_t> content_length;  // set once a valid value was seen
  bool has_transfer_encoding = false;
  std::vector<std::string_view> codings;  // in order, over every Transfer-Encoding field
};

HeadRejection Bad(std::string message) { return HeadRejection{400, std::move(message)}; }

std::optional<HeadRejection> AddContentLength(std::string_view value, Framing* f) {
  std::optional<HeadRejection> bad;
  f->has_content_length = true;
  ForEachListElement(value, [&](std::string_view v) {
    if (bad) return;
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || v.front() == '+') {
      bad = Bad("Content-Length is not a decimal number");
    } else if (f->content_length && *f->content_length != n) {
      bad = Bad("Content-Length values differ");
    } else {
      f->content_length = n;
    }
  });
  return bad;
}

// One header field line (without its CRLF).
std::optional<HeadRejection> CheckField(std::string_view line, Framing* f) {
  if (IsBlank(line.front())) return Bad("obsolete line folding (obs-fold) is not accepted");
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return Bad("a header line has no colon");
  const std::string_view name = line.substr(0, colon);
  if (name.empty()) return Bad("a header field has an empty name");
  if (IsBlank(name.back())) return Bad("whitespace between a header field name and its colon");
  for (char c : name) {
    if (!IsTokenChar(c)) return Bad("a header field name holds a character that is not allowed");
  }
  const std::string_view value = TrimBlanks(line.substr(colon + 1));
  if (EqualsIgnoreCase(name, "content-length")) return AddContentLength(value, f);
  if (EqualsIgnoreCase(name, "transfer-encoding")) {
    f->has_transfer_encoding = true;
    ForEachListElement(value, [&](std::string_view v) {
      if (!v.empty()) f->codings.push_back(v);
    });
  }
  return std::nullopt;
}

std::optional<HeadRejection> CheckTransferEncoding(const Framing& f) {
  if (!f.has_transfer_encoding) return std::nullopt;
  if (f.http10) return Bad("Transfer-Encoding is not allowed in an HTTP/1.0 request");
  if (f.has_content_length)
    return Bad("a request may not have both Transfer-Encoding and Content-Length");
  if (f.codings.empty()) return Bad("Transfer-Encoding names no coding");
  if (!EqualsIgnoreCase(f.codings.back(), "chunked")) {
    return Bad("Transfer-Encoding must end in chunked");
  }
  for (size_t i = 0; i + 1 < f.codings.size(); ++i) {
    if (EqualsIgnoreCase(f.codings[i], "chunked")) {
      return Bad("Transfer-Encoding applies chunked more than once");
    }
  }
  if (f.codings.size() > 1) {
    return HeadRejection{501, "transfer coding " + Quoted(f.codings.front()) +
                                  " is not supported (only chunked is)"};
  }
  return std::nullopt;
}

void AppendDecimal(uint64_t v, std::string* out) {
  std::array<char, 24> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out->append(buf.data(), end);
}

}  // namespace

std::optional<HeadRejection> CheckRequestHead(std::string_view head) {
  Framing framing;
  bool request_line_seen = false;
  while (!head.empty()) {
    const size_t end = head.find("\r\n");
    const std::string_view line = head.substr(0, end);
    head.remove_prefix(end == std::string_view::npos ? head.size() : end + 2);
    if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      return Bad("a bare CR, LF or NUL in the request head");
    }
    if (!request_line_seen) {
      if (line.empty()) continue;  // empty lines before the request line (RFC 9112 §2.2)
      request_line_seen = true;
      framing.http10 = line.ends_with(" HTTP/1.0");
      continue;
    }
    if (line.empty()) break;  // the end of the header
    if (auto bad = CheckField(line, &framing)) return bad;
  }
  return CheckTransferEncoding(framing);
}

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
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out.append("\\u00");
      AppendHexByte(&out, u);
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
