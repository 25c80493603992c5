// An incremental parser for the HTTP/1.1 responses the load generator reads: status line,
// headers (Content-Length, Transfer-Encoding: chunked, Connection, ETag, X-Revision), and a body
// framed by length, by chunks (extensions and trailers skipped), or by the end of the connection.
// Bytes may arrive split anywhere; interim 1xx responses are skipped. Everything is bounded by
// ResponseLimits and every malformation is a Status, never a crash.
//
// Not thread-safe: one parser per connection, used by that connection's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace nds::loadgen {

struct ResponseLimits {
  size_t header_bytes_max = 64 << 10;  // status line plus headers
  size_t body_bytes_max = 64 << 20;
  bool keep_body = false;  // otherwise the body is counted, not stored
  // When set, called with the body's bytes as they are parsed (after chunk framing is taken off),
  // on the parser's thread; a watch stream's lines are counted this way without being stored.
  std::function<void(std::string_view)> on_body;
};

struct Response {
  int status_code = 0;
  bool connection_close = false;  // the server will close after this response
  // From X-Revision, else from an ETag of the form "<decimal>".
  std::optional<uint64_t> revision;
  uint64_t body_bytes = 0;
  std::string body;  // only with ResponseLimits::keep_body
};

class ResponseParser {
 public:
  explicit ResponseParser(ResponseLimits limits = {});

  // Consumes bytes of `data` up to the end of one response and returns how many it took (all of
  // them while the response is incomplete; the rest belongs to the next response). Errors:
  // kIoError for a malformed response (naming what), kResourceExhausted when a limit is passed.
  // After an error the parser must be Reset() before further use.
  Result<size_t> Feed(std::string_view data);

  // The peer closed the connection. Completes a body framed by the end of the connection; any
  // other unfinished response gives kUnavailable ("connection closed after N bytes of ...").
  Status FeedEof();

  // True once a whole (final, non-1xx) response has been parsed.
  bool done() const { return state_ == State::kDone; }
  // Valid once done(); stays valid until Reset().
  const Response& response() const { return response_; }

  // Readies the parser for the next response on the same connection, with new limits.
  void Reset(ResponseLimits limits);
  void Reset() { Reset(limits_); }

 private:
  enum class State {
    kHeader,
    kBodyLength,
    kBodyUntilClose,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kDone
  };

  Status ParseHead(std::string_view head);
  Status ParseHeaderLine(std::string_view line, bool* chunked,
                         std::optional<uint64_t>* content_length);
  // Appends body bytes (counted; stored when asked).
  Status TakeBody(std::string_view bytes);
  // Accumulates one CRLF-terminated line into line_; returns bytes used and sets *complete.
  Result<size_t> TakeLine(std::string_view data, size_t line_bytes_max, bool* complete);
  Status OnChunkSizeLine();

  ResponseLimits limits_;
  State state_ = State::kHeader;
  std::string line_;  // the head (kHeader) or the current chunk-size/trailer line; bounded
  uint64_t remaining_bytes_ = 0;  // of the body (kBodyLength) or of the chunk (kChunkData)
  size_t trailer_bytes_ = 0;
  Response response_;
};

}  // namespace nds::loadgen
