// Byte-level pieces of the HTTP/1.1 server that need no socket: serialising a response's status
// line and headers, chunk framing for streamed bodies, and the server's own JSON error answers.
// Kept apart from the connection code so that they are unit-tested directly and so that
// http_connection.cc holds only the I/O state machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/http.h"

namespace nds::net {

// How the body of a response travels, chosen by the connection before serialising the head.
enum class BodyFraming {
  kContentLength,  // "Content-Length: n" (n = the body's size, or head_content_length for HEAD)
  kChunked,        // "Transfer-Encoding: chunked" (a streamed body to an HTTP/1.1 client)
  kUntilClose,     // no length: the body ends when the connection closes (streamed, HTTP/1.0)
  kNone,           // no length header at all (1xx, 204, 304)
};

struct ResponseHeadOptions {
  BodyFraming framing = BodyFraming::kContentLength;
  uint64_t content_length = 0;         // used with kContentLength only
  bool connection_close = false;       // adds "Connection: close"
  bool connection_keep_alive = false;  // adds "Connection: keep-alive" (HTTP/1.0 keep-alive)
};

// Appends "HTTP/1.1 <status> <reason>\r\n", the response's headers, "Server: nds", the framing
// and connection headers of `options`, and the blank line to `out`. Headers of `response` named
// Content-Length, Transfer-Encoding or Connection are dropped (the server owns framing), and so
// is any header whose name or value holds CR, LF or NUL (header injection). A status outside
// 100..999 is written as 500.
void AppendResponseHead(const HttpResponse& response, const ResponseHeadOptions& options,
                        std::string* out);

// True when `status` must not carry a body (1xx, 204, 304: RFC 9110 §6.4.1).
bool StatusHasNoBody(int status);

// True when the response's own headers ask to close the connection ("Connection: close").
bool ResponseAsksClose(const HttpResponse& response);

// Appends the chunk-size line "<hex>\r\n" for a chunk of `size` bytes (size > 0) to `out`.
void AppendChunkSizeLine(size_t size, std::string* out);
// The CRLF that ends each chunk's data, and the terminating zero chunk with an empty trailer.
inline constexpr std::string_view kChunkEnd = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// The interim answer to "Expect: 100-continue".
inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

// Why a request head was refused before it was parsed: 400 (bad framing) or 501 (a transfer
// coding the server does not implement), and a message for the client. The connection closes
// after the answer: the request's length is unknown, so the next request cannot be found.
struct HeadRejection {
  int status = 400;
  std::string message;
};

// Checks what Beast's parser lets through but RFC 9112 forbids, on a whole request head (the
// request line through the blank line that ends the header, lines ending in CRLF), before the
// head is parsed. Refused (nullopt when none applies):
// - a bare CR, LF or NUL inside a line; obs-fold (a line starting with SP or HTAB); whitespace
//   between a field name and its colon; a field name that is not a token; a line without a
//   colon (§5.1, §5.2: 400);
// - Content-Length values that are not decimal or that differ from each other (§6.3: 400);
// - Transfer-Encoding with Content-Length, in an HTTP/1.0 request, empty, applying chunked more
//   than once, or not ending in chunked (§6.1, §6.3: 400, so that what follows the header is
//   never read as another request); any coding but chunked before it (§6.1: 501).
// `head` is only read during the call.
std::optional<HeadRejection> CheckRequestHead(std::string_view head);

// A response made by the server itself: `status` with the contract's JSON error body
// {"error": "<code>", "message": "<message>"} and Content-Type application/json. `code` and
// `message` are plain text written by us; they are JSON-escaped anyway.
HttpResponse MakeErrorResponse(int status, std::string_view code, std::string_view message);

// Returns `s` escaped for use inside a JSON string literal (quotes, backslash, control bytes).
std::string JsonEscape(std::string_view s);

}  // namespace nds::net
