// The HTTP/1.1 connection state machine: see http_connection.h for the flow and the timeouts.
#include "net/http_connection.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <string_view>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "net/http_wire.h"
#include "net/tls_context.h"
#include "util/ascii.h"
#include "util/log_text.h"

namespace nds::net {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Bytes asked of the socket when waiting for the first byte of a request or lingering.
constexpr size_t kReadChunkBytes = 16 << 10;
// Extra room in the read buffer beyond the header limit, so one read can complete a header.
constexpr size_t kReadBufferSlackBytes = 64 << 10;
// After a server error, how much of the client's remaining upload is read and dropped (and for
// how long) before closing, so that the close does not reset the connection under our answer. A
// body the upload budget refused is read to its declared length, within the same time.
constexpr uint64_t kLingerBytesMax = 1 << 20;
constexpr milliseconds kLingerTime{1000};
// Bytes of progress each body read is granted time for, at body_bytes_per_second_min.
constexpr uint64_t kBodyStepBytes = 64 << 10;

std::string FormatEndpoint(const asio::ip::tcp::endpoint& endpoint) {
  const asio::ip::address address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

bool IsHttpParseError(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// The time allowed to move `bytes` at `bytes_per_second` (at least 1 byte/s).
milliseconds TimeForBytes(uint64_t bytes, size_t bytes_per_second) {
  const uint64_t rate = std::max<uint64_t>(1, bytes_per_second);
  return milliseconds(bytes / rate * 1000 + (bytes % rate) * 1000 / rate);
}
}  // namespace

HttpConnection::HttpConnection(ServerContext* context, asio::ip::tcp::socket socket)
    : context_(context),
      options_(context->options),
      stream_(std::move(socket)),
      read_timer_(stream_.get_executor(), [this] { OnReadDeadline(); }),
      write_timer_(stream_.get_executor(),
                   [this] {
                     if (!closed_) Close();  // the client stopped reading
                   }),
      buffer_(std::max<size_t>(context->options.header_bytes_max, kReadChunkBytes) +
              kReadBufferSlackBytes) {}

void HttpConnection::Start(bool overloaded) {
  registry_id_ = context_->registry.Add(shared_from_this());
  asio::post(stream_.get_executor(), [self = shared_from_this(), overloaded] {
    error_code ec;
    const auto endpoint = self->stream_.socket().remote_endpoint(ec);
    if (!ec) self->remote_ = FormatEndpoint(endpoint);
    self->accepted_at_ = Clock::now();
    self->overloaded_ = overloaded;
    if (self->options_.tls) {
      self->DetectTls();  // the 503 of an overloaded server goes out over TLS, after the handshake
    } else if (overloaded) {
      self->QueueOverloaded();
    } else {
      self->StartRead();
    }
  });
}

void HttpConnection::QueueOverloaded() {
  QueueError(503, "overloaded",
             fmt::format("the server has {} connections open, its limit; retry later",
                         options_.connections_max));
}

void HttpConnection::BeginDrain() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->closed_) return;
    self->draining_ = true;
    if (self->read_state_ == ReadState::kIdle && !self->awaiting_continue_) {
      self->read_stopped_ = true;
    }
    self->MaybeFinish();
  });
}

void HttpConnection::ForceClose() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

// ---- TLS ----

void HttpConnection::DetectTls() {
  // Peek, not read: a handshake record stays in the socket for the TLS layer, and a plain request
  // stays for the linger that follows the refusal.
  read_state_ = ReadState::kHandshake;
  SetReadDeadline(accepted_at_ + options_.header_read_timeout, /*idle=*/false);
  stream_.socket().async_receive(
      asio::buffer(first_byte_), asio::socket_base::message_peek,
      [self = shared_from_this()](error_code ec, size_t bytes) { self->OnTlsDetected(ec, bytes); });
}

void HttpConnection::OnTlsDetected(error_code ec, size_t bytes) {
  read_state_ = ReadState::kIdle;
  ClearReadDeadline();
  if (closed_) return;
  if (ec || bytes == 0) {
    Close();
    return;
  }
  if (static_cast<uint8_t>(first_byte_[0]) != kTlsHandshakeRecordType) {
    QueueError(400, "https_required", "this port speaks HTTPS only: connect with https:// and TLS");
    return;
  }
  tls_context_ = options_.tls->Current();
  stream_.StartTls(*tls_context_);
  read_state_ = ReadState::kHandshake;
  SetReadDeadline(accepted_at_ + options_.header_read_timeout, /*idle=*/false);
  stream_.tls()->async_handshake(
      asio::ssl::stream_base::server,
      [self = shared_from_this()](error_code handshake_ec) { self->OnTlsHandshake(handshake_ec); });
}

void HttpConnection::OnTlsHandshake(error_code ec) {
  read_state_ = ReadState::kIdle;
  ClearReadDeadline();
  if (closed_) return;
  if (ec) {
    // A client that does not trust our certificate, has none when one is required, or speaks no
    // TLS we accept: nothing can be said to it in HTTP.
    Close();
    return;
  }
  if (overloaded_) {
    QueueOverloaded();
  } else {
    StartRead();
  }
}

// ---- Read side ----

void HttpConnection::StartRead() {
  if (closed_ || read_stopped_ || read_state_ != ReadState::kIdle || awaiting_continue_) return;
  if (draining_) {
    read_stopped_ = true;
    MaybeFinish();
    return;
  }
  // Read ahead only while the answers owed and the bodies held stay bounded; FinishFrontSlots
  // calls back here as answers go out.
  if (slots_.size() >= options_.pipelined_requests_max ||
      pending_body_bytes_ > options_.body_bytes_max) {
    return;
  }
  if (buffer_.size() > 0) {
    ReadHeader(Clock::now() + options_.header_read_timeout);
    return;
  }
  // Wait for the request's first byte: a new connection within header_read_timeout of its
  // accept, a kept-alive one within idle_timeout. Until then the connection holds no partial
  // request, so a drain may close it at once.
  read_state_ = ReadState::kFirstByte;
  if (first_request_) {
    SetReadDeadline(accepted_at_ + options_.header_read_timeout, /*idle=*/false);
  } else {
    SetReadDeadline(Clock::now() + options_.idle_timeout, /*idle=*/true);
  }
  stream_.async_read_some(
      buffer_.prepare(kReadChunkBytes),
      [self = shared_from_this()](error_code ec, size_t bytes) { self->OnFirstByte(ec, bytes); });
}

void HttpConnection::OnFirstByte(error_code ec, size_t bytes) {
  if (!ReadCompleted(ec)) return;
  buffer_.commit(bytes);
  if (draining_) {
    read_stopped_ = true;
    MaybeFinish();
    return;
  }
  ReadHeader(first_request_ ? accepted_at_ + options_.header_read_timeout
                            : Clock::now() + options_.header_read_timeout);
}

void HttpConnection::ReadHeader(Clock::time_point deadline) {
  first_request_ = false;
  read_state_ = ReadState::kHeader;
  SetReadDeadline(deadline, /*idle=*/false);
  // The whole head is read before Beast parses it, so that CheckRequestHead sees its raw bytes.
  // The buffer's size limit ends the wait with not_found once the head cannot fit.
  asio::async_read_until(stream_, buffer_, "\r\n\r\n",
                         [self = shared_from_this()](error_code ec, size_t head_bytes) {
                           self->OnHeadRead(ec, head_bytes);
                         });
}

void HttpConnection::OnHeadRead(error_code ec, size_t head_bytes) {
  if (ec == asio::error::not_found || (!ec && head_bytes > options_.header_bytes_max)) {
    ec = http::error::header_limit;
  }
  if (!ReadCompleted(ec)) return;
  const std::string_view head(static_cast<const char*>(buffer_.cdata().data()), head_bytes);
  if (std::optional<HeadRejection> rejected = CheckRequestHead(head)) {
    // The request line is the client's text: escaped, so that it cannot forge log lines.
    spdlog::debug("http: {} from {}: {} (request line: {})", rejected->status, remote_,
                  rejected->message, EscapeForLog(head.substr(0, head.find("\r\n"))));
    QueueError(rejected->status, rejected->status == 501 ? "not_implemented" : "bad_request",
               rejected->message);
    return;
  }
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(
      std::min<size_t>(options_.header_bytes_max, std::numeric_limits<uint32_t>::max())));
  parser_->body_limit(options_.body_bytes_max);
  // The head is complete in the buffer: one put parses it all (the parser is not eager, so it
  // stops at the end of the header and leaves the body in the buffer).
  const size_t used = parser_->put(buffer_.cdata(), ec);
  buffer_.consume(used);
  if (!ec && !parser_->is_header_done()) ec = http::error::need_more;  // answered 400
  // A body that does not fit the server's upload budget is refused before any of it is read
  // (and before a "100 Continue" invites it). A chunked body reserves as it grows (OnBodySome).
  if (!ec) {
    upload_ = UploadReservation(context_->upload_budget.get());
    if (const auto length = parser_->content_length(); length && *length > 0) {
      if (!ReserveUpload(*length)) return;
    }
  }
  OnHeader(ec);
}

void HttpConnection::OnHeader(error_code ec) {
  if (!ReadCompleted(ec)) return;
  if (parser_->is_done()) {
    DispatchRequest();
    return;
  }
  const auto& message = parser_->get();
  if (message.version() >= 11 && EqualsIgnoreCase(message[http::field::expect], "100-continue")) {
    // The size check already passed (a Content-Length over the limit failed the header read).
    // The interim answer takes its place in the answer order; the body is read once it is out.
    Slot slot;
    slot.id = next_slot_id_++;
    slot.ready = true;
    slot.is_continue = true;
    slots_.push_back(std::move(slot));
    awaiting_continue_ = true;
    StartWrite();
    return;
  }
  StartBody();
}

void HttpConnection::StartBody() {
  body_started_at_ = Clock::now();
  body_bytes_read_ = 0;
  parser_->eager(true);
  ReadBodySome();
}

void HttpConnection::ReadBodySome() {
  read_state_ = ReadState::kBody;
  // The body must keep coming at body_bytes_per_second_min, after a header_read_timeout allowance.
  SetReadDeadline(
      body_started_at_ + options_.header_read_timeout +
          TimeForBytes(body_bytes_read_ + kBodyStepBytes, options_.body_bytes_per_second_min),
      /*idle=*/false);
  http::async_read_some(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, size_t bytes) { self->OnBodySome(ec, bytes); });
}

void HttpConnection::OnBodySome(error_code ec, size_t bytes) {
  if (!ReadCompleted(ec)) return;
  body_bytes_read_ += bytes;
  if (!parser_->content_length() && !ReserveUpload(parser_->get().body().size())) return;
  if (parser_->is_done()) {
    DispatchRequest();
  } else {
    ReadBodySome();
  }
}

void HttpConnection::DispatchRequest() {
  auto& message = parser_->get();
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(AsciiLower(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  request.remote = remote_;

  Slot slot;
  slot.id = next_slot_id_++;
  slot.is_head = message.method() == http::verb::head;
  slot.http10 = message.version() < 11;
  slot.close_after = !message.keep_alive();
  slot.request_bytes = request.body.size();
  slot.upload = std::move(upload_);
  pending_body_bytes_ += slot.request_bytes;
  if (slot.close_after) read_stopped_ = true;
  const uint64_t slot_id = slot.id;
  slots_.push_back(std::move(slot));
  parser_.reset();

  undispatched_.emplace_back(slot_id, std::move(request));
  DispatchNext();
  StartRead();
}

void HttpConnection::DispatchNext() {
  if (closed_ || handler_busy_ || undispatched_.empty()) return;
  auto [slot_id, request] = std::move(undispatched_.front());
  undispatched_.pop_front();
  handler_busy_ = true;
  context_->handler->Handle(std::move(request), MakeResponder(slot_id));
}

bool HttpConnection::ReadCompleted(error_code ec) {
  read_state_ = ReadState::kIdle;
  ClearReadDeadline();
  if (closed_) return false;
  if (ec) {
    OnReadError(ec);
    return false;
  }
  return true;
}

void HttpConnection::OnReadError(error_code ec) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    QueueError(431, "header_too_large",
               fmt::format("the request header exceeds {} bytes", options_.header_bytes_max));
  } else if (ec == http::error::body_limit) {
    // The client may still be sending the body it announced: read and drop it while lingering
    // (bounded by kLingerTime), so that closing with unread bytes does not reset the connection
    // before the client has read this answer.
    linger_body_bytes_ = AnnouncedBodyBytes();
    QueueError(413, "body_too_large",
               fmt::format("the request body exceeds {} bytes", options_.body_bytes_max));
  } else if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
             ec == asio::error::eof) {
    // The client finished sending (or was cut off mid-request, which is then dropped): the
    // answers already owed still go out, then the connection closes.
    read_stopped_ = true;
    parser_.reset();
    MaybeFinish();
  } else if (IsHttpParseError(ec)) {
    QueueError(400, "bad_request", fmt::format("malformed HTTP request: {}", ec.message()));
  } else {
    Close();  // reset, aborted by a timeout, or another socket error
  }
}

uint64_t HttpConnection::AnnouncedBodyBytes() const {
  // Read from the field: the parser refuses a Content-Length over the limit while it finishes the
  // header, before it counts the header as done (and content_length() may be asked).
  if (!parser_) return 0;
  const auto& fields = parser_->get();
  auto it = fields.find(http::field::content_length);
  if (it == fields.end()) return 0;
  uint64_t bytes = 0;
  std::string_view text(it->value().data(), it->value().size());
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  return ec == std::errc() && end == text.data() + text.size() ? bytes : 0;
}

bool HttpConnection::ReserveUpload(uint64_t bytes) {
  if (upload_.GrowTo(bytes)) return true;
  context_->upload_budget->CountRefusal();
  linger_body_bytes_ = bytes;
  spdlog::debug(
      "http: 503 to {}: a body of {} bytes does not fit the upload budget ({} of {} "
      "bytes held)",
      remote_, bytes, context_->upload_budget->in_flight(), context_->upload_budget->max_bytes());
  QueueError(503, "overloaded",
             fmt::format("request bodies in flight on this node exceed "
                         "--max-upload-bytes-in-flight={}; retry later",
                         context_->upload_budget->max_bytes()));
  return false;
}

void HttpConnection::QueueError(int status, std::string_view code, std::string_view message) {
  read_stopped_ = true;
  parser_.reset();
  upload_.Reset();
  Slot slot;
  slot.id = next_slot_id_++;
  slot.ready = true;
  slot.close_after = true;
  slot.response = MakeErrorResponse(status, code, message);
  if (status == 503) slot.response.SetHeader("Retry-After", "1");
  slots_.push_back(std::move(slot));
  StartWrite();
}

Responder HttpConnection::MakeResponder(uint64_t slot_id) {
  return [weak = weak_from_this(), gate = context_->gate, slot_id](HttpResponse response) {
    // Under the gate's lock the io_context is alive; the local `self` is dropped before the
    // lock is released, so a connection is never destroyed after its io_context.
    gate->RunIfOpen([&] {
      std::shared_ptr<HttpConnection> self = weak.lock();
      if (!self) return;
      asio::post(self->stream_.get_executor(),
                 [self, slot_id, response = std::move(response)]() mutable {
                   self->OnResponse(slot_id, std::move(response));
                 });
    });
  };
}

void HttpConnection::OnResponse(uint64_t slot_id, HttpResponse response) {
  if (closed_ || slots_.empty() || slot_id < slots_.front().id) return;
  const uint64_t index = slot_id - slots_.front().id;
  if (index >= slots_.size()) return;
  Slot& slot = slots_[index];
  if (slot.ready) return;  // a second call for the same request is ignored
  slot.response = std::move(response);
  slot.ready = true;
  handler_busy_ = false;
  DispatchNext();
  if (index == 0) StartWrite();
}

// ---- Timers ----

void HttpConnection::SetReadDeadline(Clock::time_point deadline, bool idle) {
  read_deadline_idle_ = idle;
  read_timer_.Set(deadline, *this);
}

void HttpConnection::OnReadDeadline() {
  if (closed_) return;
  if (read_deadline_idle_ && owes_answers()) {
    // Idle only counts once nothing is owed to the client: a slow Handler is not idleness.
    read_timer_.Set(Clock::now() + options_.idle_timeout, *this);
    return;
  }
  Close();
}

void HttpConnection::SetWriteDeadline(size_t bytes) {
  write_timer_.Set(Clock::now() + options_.idle_timeout +
                       TimeForBytes(bytes, options_.body_bytes_per_second_min),
                   *this);
}

// ---- Closing ----

void HttpConnection::LingerThenClose() {
  if (closed_) return;
  read_stopped_ = true;
  if (read_state_ != ReadState::kIdle) {
    Close();
    return;
  }
  error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) {
    Close();
    return;
  }
  read_state_ = ReadState::kLinger;
  linger_bytes_ = 0;
  buffer_.consume(buffer_.size());
  SetReadDeadline(Clock::now() + kLingerTime, /*idle=*/false);
  ReadLinger();
}

void HttpConnection::ReadLinger() {
  stream_.async_read_some(
      buffer_.prepare(kReadChunkBytes),
      [self = shared_from_this()](error_code ec, size_t bytes) { self->OnLingerRead(ec, bytes); });
}

void HttpConnection::OnLingerRead(error_code ec, size_t bytes) {
  if (closed_) return;
  linger_bytes_ += bytes;
  if (ec || linger_bytes_ > std::max(kLingerBytesMax, linger_body_bytes_)) {
    read_state_ = ReadState::kIdle;
    Close();
    return;
  }
  ReadLinger();
}

void HttpConnection::Close() {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  read_timer_.Cancel();
  write_timer_.Cancel();
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
  // The budget goes back at once; the bodies themselves are freed as their handlers finish.
  upload_.Reset();
  for (Slot& slot : slots_) slot.upload.Reset();
  // Slots, buffers and the parser stay until the object dies: operations still completing
  // (cancelled by the close) may reference them.
  context_->registry.Remove(registry_id_);
}

}  // namespace nds::net
