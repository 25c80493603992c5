// One accepted HTTP/1.1 connection: reads and parses requests (Beast's parser), hands each to the
// Handler, and writes the answers back in arrival order. Internal to net/: http.h is the API.
//
// Flow. A read loop parses requests ahead of the answers (up to pipelined_requests_max waiting
// answers, and while the bodies waiting stay under body_bytes_max), pushing one Slot per request
// onto `slots_`, in order. A write loop sends the front slots once their answers are ready,
// several ready answers in one gather write. Streamed answers are pulled one chunk per write, so
// a stream's memory is one chunk however long it runs. Server-made errors (400, 413, 431, 503)
// are queued as ready slots that close the connection once written.
//
// Timeouts, all through two deadline timers (deadline_timer.h): the read timer bounds the idle wait
// between requests (idle_timeout, re-armed while answers are still owed), the header
// (header_read_timeout from its first byte, or from accept for the first request) and the body (it
// must keep arriving at body_bytes_per_second_min after a header_read_timeout allowance); the write
// timer bounds each write the same way (idle_timeout plus bytes at that rate).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/connection_registry.h"
#include "net/deadline_timer.h"
#include "net/http.h"
#include "net/maybe_tls_stream.h"
#include "net/upload_budget.h"

namespace nds::net {

// What all connections of one server share. Owned by the server, outlives every io thread;
// fields are immutable after Start except the thread-safe registry, gate and upload budget.
struct ServerContext {
  HttpServerOptions options;
  Handler* handler = nullptr;
  ConnectionRegistry registry;
  std::shared_ptr<ResponseGate> gate = std::make_shared<ResponseGate>();
  std::shared_ptr<UploadBudget> upload_budget;  // of options.upload_bytes_in_flight_max
};

// Owned by shared_ptr: the registry while open, plus every pending asynchronous operation.
// Runs on its own strand only: every member below is touched on `strand_` alone, except through
// Start/BeginDrain/ForceClose (which post to the strand) and Responders (which post too).
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  // `socket` must be bound to `strand`. `context` must outlive the io threads.
  HttpConnection(ServerContext* context, boost::asio::ip::tcp::socket socket);

  // Registers the connection and starts reading. With `overloaded`, answers 503 and closes
  // instead. Call once, from any thread.
  void Start(bool overloaded);
  // Stop reading new requests; close once the answers owed are written. Any thread.
  void BeginDrain();
  // Close now. Any thread.
  void ForceClose();

 private:
  // One request in arrival order and, once known, its answer.
  struct Slot {
    uint64_t id = 0;
    bool ready = false;        // the answer is in `response`
    bool is_head = false;      // the request was HEAD: no body goes out
    bool is_continue = false;  // an interim "100 Continue", not an answer
    bool http10 = false;       // the request was HTTP/1.0
    bool close_after = false;  // close the connection once this answer is written
    size_t request_bytes = 0;  // the request body's size, counted in pending_body_bytes_
    UploadReservation upload;  // its share of the server's upload budget, held until answered
    HttpResponse response;
    std::string head;  // serialised status line and headers, built when written
  };
  enum class ReadState { kIdle, kHandshake, kFirstByte, kHeader, kBody, kLinger };

  // TLS (when the server has a TLS context): the first byte decides between a handshake and a
  // plain-HTTP refusal (400); the handshake must end within header_read_timeout of the accept.
  void DetectTls();
  void OnTlsDetected(boost::system::error_code ec, size_t bytes);
  void OnTlsHandshake(boost::system::error_code ec);
  // Answers 503 (over connections_max) and closes.
  void QueueOverloaded();

  // Read side.
  void StartRead();
  void OnFirstByte(boost::system::error_code ec, size_t bytes);
  void ReadHeader(std::chrono::steady_clock::time_point deadline);
  void OnHeadRead(boost::system::error_code ec, size_t head_bytes);
  void OnHeader(boost::system::error_code ec);
  void StartBody();
  void ReadBodySome();
  void OnBodySome(boost::system::error_code ec, size_t bytes);
  void DispatchRequest();
  // Hands the oldest parsed request to the handler once the one before it has been answered.
  void DispatchNext();
  // A read is over: no read is in progress any more. Whether its result is to be used (the
  // connection is open and the read succeeded); a failed read is handled here.
  bool ReadCompleted(boost::system::error_code ec);
  void OnReadError(boost::system::error_code ec);
  void QueueError(int status, std::string_view code, std::string_view message);
  // Reserves `bytes` of the server's upload budget for the request being read; false (and the
  // request answered 503, the connection closing) when the budget has no room.
  bool ReserveUpload(uint64_t bytes);
  // The request's Content-Length as far as it was read (0 when absent or not a number).
  uint64_t AnnouncedBodyBytes() const;
  Responder MakeResponder(uint64_t slot_id);
  void OnResponse(uint64_t slot_id, HttpResponse response);

  // Write side.
  void StartWrite();
  void PullAndWriteChunk();
  void OnWritten(boost::system::error_code ec, size_t slots_done, bool close_after);
  void OnChunkWritten(boost::system::error_code ec, bool last);
  void FinishFrontSlots(size_t count);
  void MaybeFinish();
  void PrepareHead(Slot& slot);

  // Timers and closing. A deadline set costs no timer syscall unless it comes earlier than the
  // pending wait (deadline_timer.h).
  void SetReadDeadline(std::chrono::steady_clock::time_point deadline, bool idle);
  void ClearReadDeadline() { read_timer_.Clear(); }
  void OnReadDeadline();
  void SetWriteDeadline(size_t bytes);
  void ClearWriteDeadline() { write_timer_.Clear(); }
  void LingerThenClose();
  void ReadLinger();
  void OnLingerRead(boost::system::error_code ec, size_t bytes);
  void Close();
  bool owes_answers() const { return !slots_.empty() || writing_; }

  ServerContext* const context_;
  const HttpServerOptions& options_;
  MaybeTlsStream stream_;
  std::shared_ptr<SslContext> tls_context_;  // the context of this connection's handshake
  std::array<char, 1> first_byte_{};         // peeked to tell TLS from plain HTTP
  DeadlineTimer read_timer_;
  bool read_deadline_idle_ = false;  // an idle wait: extended while answers are still owed
  DeadlineTimer write_timer_;
  std::string remote_;
  uint64_t registry_id_ = 0;  // 0 until registered
  bool overloaded_ = false;   // over connections_max at accept: answered 503 and closed

  // Read side: `parser_` holds the request being read; `buffer_` bytes read but not parsed yet
  // (bounded by header_bytes_max plus one read); `pending_body_bytes_` sums the bodies of the
  // slots not yet answered, and pauses reading ahead when over body_bytes_max.
  ReadState read_state_ = ReadState::kIdle;
  bool read_stopped_ = false;  // no further request is read (close, EOF, error, drain)
  bool first_request_ = true;
  bool awaiting_continue_ = false;  // the body waits until "100 Continue" is written
  std::chrono::steady_clock::time_point accepted_at_;
  std::chrono::steady_clock::time_point body_started_at_;
  uint64_t body_bytes_read_ = 0;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  size_t pending_body_bytes_ = 0;
  UploadReservation upload_;  // the budget held by the request being read
  uint64_t linger_bytes_ = 0;
  // A body refused before it was read may be read and dropped whole while lingering (still
  // within the linger's time): a client that sent it without "Expect: 100-continue" is still
  // writing it, and a close before it is done resets the connection under the 503.
  uint64_t linger_body_bytes_ = 0;

  // Write side: `slots_` in arrival order; ids are consecutive, front first.
  std::deque<Slot> slots_;
  uint64_t next_slot_id_ = 1;
  // Requests parsed ahead but not yet given to the handler. Pipelined requests are executed one
  // at a time, in order (RFC 9112 §9.3.2: only safe methods may run in parallel, and /set is a
  // GET that writes): a request reaches the handler once the one before it has its answer.
  std::deque<std::pair<uint64_t, HttpRequest>> undispatched_;
  bool handler_busy_ = false;  // a request is with the handler and not yet answered
  bool writing_ = false;
  bool streaming_ = false;         // the front slot's body is being streamed
  std::string stream_prefix_;      // the head (first chunk only) and the chunk-size line
  std::string stream_data_;        // the chunk pulled from the stream, being written
  size_t stream_empty_pulls_ = 0;  // consecutive pulls that gave no bytes
  std::vector<boost::asio::const_buffer> write_buffers_;

  bool draining_ = false;
  bool closed_ = false;
};

}  // namespace nds::net
