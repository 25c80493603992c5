// The write side of the HTTP/1.1 connection state machine (http_connection.h has the flow):
// answers go out in arrival order, ready ones gathered into one write, streams a chunk at a time.
#include <array>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "net/http_connection.h"
#include "net/http_wire.h"

namespace nds::net {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// How many ready answers go out in one gather write.
constexpr size_t kWriteBatchSlotsMax = 64;
// A stream that keeps returning no bytes while saying more follows is broken after this many.
constexpr size_t kStreamEmptyPullsMax = 1000;

// True when the answer in `slot`-like terms carries a streamed body.
bool StreamsBody(const HttpResponse& response, bool is_head) {
  return response.stream && !is_head && !StatusHasNoBody(response.status);
}

}  // namespace

void HttpConnection::PrepareHead(Slot& slot) {
  const HttpResponse& response = slot.response;
  if (ResponseAsksClose(response)) slot.close_after = true;
  ResponseHeadOptions head;
  if (StatusHasNoBody(response.status)) {
    head.framing = BodyFraming::kNone;
  } else if (slot.is_head) {
    head.framing = (response.stream && !response.head_content_length) ? BodyFraming::kNone
                                                                      : BodyFraming::kContentLength;
    head.content_length = response.head_content_length.value_or(response.body.size());
  } else if (response.stream) {
    // HTTP/1.0 has no chunked encoding: the body then ends with the connection.
    head.framing = slot.http10 ? BodyFraming::kUntilClose : BodyFraming::kChunked;
    if (slot.http10) slot.close_after = true;
  } else {
    head.content_length = response.body.size();
  }
  head.connection_close = slot.close_after;
  head.connection_keep_alive = slot.http10 && !slot.close_after;
  slot.head.clear();
  AppendResponseHead(response, head, &slot.head);
}

void HttpConnection::StartWrite() {
  if (closed_ || writing_) return;
  if (slots_.empty() || !slots_.front().ready) {
    MaybeFinish();
    return;
  }
  Slot& front = slots_.front();
  if (front.is_continue) {
    writing_ = true;
    SetWriteDeadline(kContinueResponse.size());
    asio::async_write(stream_, asio::buffer(kContinueResponse),
                      [self = shared_from_this()](error_code ec, size_t /*bytes*/) {
                        self->OnWritten(ec, 1, false);
                      });
    return;
  }
  if (StreamsBody(front.response, front.is_head)) {
    writing_ = true;
    streaming_ = true;
    stream_empty_pulls_ = 0;
    PrepareHead(front);
    stream_prefix_ = std::move(front.head);
    PullAndWriteChunk();
    return;
  }
  // Every consecutive ready answer goes out in one gather write.
  write_buffers_.clear();
  size_t count = 0;
  size_t bytes = 0;
  bool close_after = false;
  for (Slot& slot : slots_) {
    if (!slot.ready || slot.is_continue || count == kWriteBatchSlotsMax ||
        StreamsBody(slot.response, slot.is_head)) {
      break;
    }
    PrepareHead(slot);
    write_buffers_.push_back(asio::buffer(slot.head));
    bytes += slot.head.size();
    if (!slot.is_head && !StatusHasNoBody(slot.response.status) && !slot.response.body.empty()) {
      write_buffers_.push_back(asio::buffer(slot.response.body));
      bytes += slot.response.body.size();
    }
    ++count;
    if (slot.close_after) {
      close_after = true;
      break;
    }
  }
  writing_ = true;
  SetWriteDeadline(bytes);
  asio::async_write(stream_, write_buffers_,
                    [self = shared_from_this(), count, close_after](error_code ec, size_t) {
                      self->OnWritten(ec, count, close_after);
                    });
}

void HttpConnection::OnWritten(error_code ec, size_t slots_done, bool close_after) {
  writing_ = false;
  ClearWriteDeadline();
  if (closed_) return;
  if (ec) {
    Close();
    return;
  }
  const bool was_continue = slots_.front().is_continue;
  FinishFrontSlots(slots_done);
  if (close_after) {
    LingerThenClose();
    return;
  }
  if (was_continue && awaiting_continue_) {
    awaiting_continue_ = false;
    StartBody();
  }
  StartWrite();
  StartRead();
}

void HttpConnection::PullAndWriteChunk() {
  Slot& slot = slots_.front();
  stream_data_.clear();
  Result<bool> more = slot.response.stream(&stream_data_);
  if (!more.ok()) {
    Close();  // the client sees a cut-off answer: no terminating chunk
    return;
  }
  const bool last = !*more;
  if (stream_data_.empty() && !last && slot.response.stream_wait) {
    stream_empty_pulls_ = 0;
    slot.response.stream_wait([self = shared_from_this()] {
      asio::post(self->stream_.get_executor(), [self] {
        if (!self->closed_) self->PullAndWriteChunk();
      });
    });
    return;
  }
  if (stream_data_.empty() && !last) {
    if (++stream_empty_pulls_ > kStreamEmptyPullsMax) {
      Close();
      return;
    }
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->closed_) self->PullAndWriteChunk();
    });
    return;
  }
  stream_empty_pulls_ = 0;
  std::string_view suffix;
  if (!slot.http10) {
    if (!stream_data_.empty()) AppendChunkSizeLine(stream_data_.size(), &stream_prefix_);
    if (stream_data_.empty()) {
      suffix = kLastChunk;
    } else if (last) {
      suffix = "\r\n0\r\n\r\n";
    } else {
      suffix = kChunkEnd;
    }
  }
  std::array<asio::const_buffer, 3> buffers = {asio::buffer(stream_prefix_),
                                               asio::buffer(stream_data_), asio::buffer(suffix)};
  SetWriteDeadline(stream_prefix_.size() + stream_data_.size() + suffix.size());
  asio::async_write(stream_, buffers, [self = shared_from_this(), last](error_code ec, size_t) {
    self->OnChunkWritten(ec, last);
  });
}

void HttpConnection::OnChunkWritten(error_code ec, bool last) {
  ClearWriteDeadline();
  if (closed_) {
    writing_ = false;
    return;
  }
  if (ec) {
    writing_ = false;
    Close();
    return;
  }
  stream_prefix_.clear();
  if (!last) {
    PullAndWriteChunk();
    return;
  }
  writing_ = false;
  streaming_ = false;
  stream_data_ = std::string();
  const bool close_after = slots_.front().close_after;
  FinishFrontSlots(1);
  if (close_after) {
    LingerThenClose();
    return;
  }
  StartWrite();
  StartRead();
}

void HttpConnection::FinishFrontSlots(size_t count) {
  for (size_t i = 0; i < count && !slots_.empty(); ++i) {
    pending_body_bytes_ -= slots_.front().request_bytes;
    slots_.pop_front();
  }
}

void HttpConnection::MaybeFinish() {
  if (closed_ || owes_answers()) return;
  const bool read_done = read_state_ == ReadState::kIdle && read_stopped_ && !awaiting_continue_;
  // Idle between requests, or only waiting for the client's close, while stopping.
  const bool idle_while_draining =
      draining_ && (read_state_ == ReadState::kFirstByte || read_state_ == ReadState::kLinger ||
                    read_state_ == ReadState::kHandshake);
  if (read_done || idle_while_draining) Close();
}

}  // namespace nds::net
