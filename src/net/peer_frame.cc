// The peer frame codec: header encoding and the stream decoder (peer_frame.h,
// docs/formats/peer.md).
#include "net/peer_frame.h"

#include <algorithm>
#include <cstring>

#include <fmt/core.h>

#include "util/check.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace nds::net {
namespace {

// An empty buffer larger than this is freed, so that one long frame does not pin its memory for
// the connection's lifetime.
constexpr size_t kIdleBufferBytesMax = 4 * kPeerReadChunkBytes;

Status ChecksumMismatch(size_t payload_bytes, uint32_t stored_crc, uint32_t actual_crc) {
  return Corruption(
      fmt::format("checksum mismatch on a frame of {} bytes (stored {:08x}, computed {:08x})",
                  payload_bytes, stored_crc, actual_crc));
}

}  // namespace

PeerFrameHeaderBytes EncodePeerFrameHeader(std::string_view payload) {
  NDS_CHECK(payload.size() <= kPeerFramePayloadBytesLimit, "payload of {} bytes", payload.size());
  return EncodePeerFrameHeader(payload.size(), crc32c::Value(payload));
}

PeerFrameHeaderBytes EncodePeerFrameHeader(size_t payload_bytes, uint32_t payload_crc) {
  NDS_CHECK(payload_bytes <= kPeerFramePayloadBytesLimit, "payload of {} bytes", payload_bytes);
  PeerFrameHeaderBytes header;
  std::memcpy(header.data(), kPeerFrameMagic.data(), kPeerFrameMagic.size());
  EncodeFixed32(header.data() + 4, static_cast<uint32_t>(payload_bytes));
  EncodeFixed32(header.data() + 8, payload_crc);
  return header;
}

std::string EncodePeerFrame(std::string_view payload) {
  const PeerFrameHeaderBytes header = EncodePeerFrameHeader(payload);
  std::string frame;
  frame.reserve(header.size() + payload.size());
  frame.append(header.data(), header.size());
  frame.append(payload);
  return frame;
}

Result<PeerFrameHeader> DecodePeerFrameHeader(std::string_view header, size_t payload_bytes_max) {
  if (header.size() < kPeerFrameHeaderBytes) {
    return InvalidArgument(
        fmt::format("a frame header needs {} bytes, got {}", kPeerFrameHeaderBytes, header.size()));
  }
  if (header.substr(0, kPeerFrameMagic.size()) != kPeerFrameMagic) {
    return Corruption("bad frame magic (not an nds peer stream, or lost framing)");
  }
  PeerFrameHeader decoded;
  decoded.payload_bytes = DecodeFixed32(header.data() + 4);
  decoded.payload_crc = DecodeFixed32(header.data() + 8);
  if (decoded.payload_bytes > payload_bytes_max) {
    return ResourceExhausted(fmt::format("frame of {} bytes exceeds the limit of {} bytes",
                                         decoded.payload_bytes, payload_bytes_max));
  }
  return decoded;
}

PeerFrameDecoder::PeerFrameDecoder(size_t payload_bytes_max)
    : payload_bytes_max_(payload_bytes_max) {}

std::span<char> PeerFrameDecoder::WritableSpace() {
  if (direct_.has_value() && direct_->filled < direct_->payload.size()) {
    return {direct_->payload.data() + direct_->filled, direct_->payload.size() - direct_->filled};
  }
  if (begin_ == end_) {
    begin_ = end_ = 0;
    ReleaseIdleBuffer();
  }
  const size_t held = end_ - begin_;
  // Room for one read chunk; for a long frame, room to double what has arrived (bounded by what
  // the frame still needs), so memory follows the bytes received, with O(frame) copying in all.
  size_t free_wanted = kPeerReadChunkBytes;
  if (frame_bytes_ > held) {
    free_wanted = std::max(free_wanted, std::min(frame_bytes_ - held, held));
  }
  // Act only below a low-water mark, so that a stream of short reads moves bytes once per half
  // chunk, not once per read.
  if (capacity_ - end_ < std::min(free_wanted, kPeerReadChunkBytes / 2)) {
    if (capacity_ - held >= free_wanted) {
      std::memmove(buf_.get(), buf_.get() + begin_, held);
    } else {
      const size_t capacity = held + free_wanted;
      auto grown = std::make_unique_for_overwrite<char[]>(capacity);
      if (held > 0) std::memcpy(grown.get(), buf_.get() + begin_, held);
      buf_ = std::move(grown);
      capacity_ = capacity;
    }
    begin_ = 0;
    end_ = held;
  }
  NDS_CHECK(end_ < capacity_);
  return {buf_.get() + end_, capacity_ - end_};
}

void PeerFrameDecoder::Commit(size_t bytes) {
  if (direct_.has_value() && direct_->filled < direct_->payload.size()) {
    const size_t missing = direct_->payload.size() - direct_->filled;
    NDS_CHECK(bytes <= missing, "commit of {} bytes, {} missing", bytes, missing);
    direct_->filled += bytes;
    return;
  }
  NDS_CHECK(bytes <= capacity_ - end_, "commit of {} bytes, {} free", bytes, capacity_ - end_);
  end_ += bytes;
}

Result<std::optional<std::string>> PeerFrameDecoder::Next() {
  if (direct_.has_value()) return NextDirect();
  const size_t held = end_ - begin_;
  if (held < kPeerFrameHeaderBytes) return std::optional<std::string>();
  const std::string_view header(buf_.get() + begin_, kPeerFrameHeaderBytes);
  NDS_ASSIGN_OR_RETURN(const PeerFrameHeader decoded,
                       DecodePeerFrameHeader(header, payload_bytes_max_));
  if (decoded.payload_bytes >= kPeerFrameDirectPayloadBytesMin) {
    StartDirect(decoded);
    return NextDirect();
  }
  frame_bytes_ = kPeerFrameHeaderBytes + decoded.payload_bytes;
  if (held < frame_bytes_) return std::optional<std::string>();

  const std::string_view payload(buf_.get() + begin_ + kPeerFrameHeaderBytes,
                                 decoded.payload_bytes);
  const uint32_t actual_crc = crc32c::Value(payload);
  if (actual_crc != decoded.payload_crc) {
    return ChecksumMismatch(decoded.payload_bytes, decoded.payload_crc, actual_crc);
  }
  std::optional<std::string> frame(std::in_place, payload);
  begin_ += frame_bytes_;
  frame_bytes_ = 0;
  return frame;
}

void PeerFrameDecoder::StartDirect(const PeerFrameHeader& header) {
  NDS_CHECK(!direct_.has_value());
  NDS_CHECK(header.payload_bytes <= payload_bytes_max_);
  NDS_CHECK(end_ - begin_ >= kPeerFrameHeaderBytes);
  begin_ += kPeerFrameHeaderBytes;
  // The header was checked against payload_bytes_max_, the limit set after authentication: this
  // is the one allocation at an announced size (see the class comment).
  DirectFrame& direct = direct_.emplace(DirectFrame{
      .payload = std::string(header.payload_bytes, '\0'), .payload_crc = header.payload_crc});
  direct.filled = std::min(end_ - begin_, direct.payload.size());
  if (direct.filled > 0) std::memcpy(direct.payload.data(), buf_.get() + begin_, direct.filled);
  begin_ += direct.filled;
  frame_bytes_ = 0;
  // While the frame is incomplete the buffer is empty and unused; do not pin a large one.
  if (begin_ == end_) {
    begin_ = end_ = 0;
    ReleaseIdleBuffer();
  }
}

Result<std::optional<std::string>> PeerFrameDecoder::NextDirect() {
  NDS_CHECK(direct_.has_value());
  if (direct_->filled < direct_->payload.size()) return std::optional<std::string>();
  const uint32_t actual_crc = crc32c::Value(direct_->payload);
  if (actual_crc != direct_->payload_crc) {
    return ChecksumMismatch(direct_->payload.size(), direct_->payload_crc, actual_crc);
  }
  std::optional<std::string> frame(std::move(direct_->payload));
  direct_.reset();
  return frame;
}

void PeerFrameDecoder::ReleaseIdleBuffer() {
  NDS_CHECK(begin_ == end_);
  if (capacity_ > kIdleBufferBytesMax) {
    buf_.reset();
    capacity_ = 0;
    begin_ = end_ = 0;
  }
}

}  // namespace nds::net
