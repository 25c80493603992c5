// The peer transport's frame format (docs/formats/peer.md), shared by the writer (outbound
// connections) and the reader (inbound connections) in peer_transport.cc:
//
//     frame = magic:"NDP1" payload_bytes:u32le payload_crc:u32le payload:payload_bytes*u8
//
// payload_crc is the CRC32C of the payload. PeerFrameDecoder turns a byte stream read from a
// socket into frame payloads and reports every kind of damage as a Status (the bytes come from
// the network: nothing here may crash on them).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "util/status.h"

namespace nds::net {

inline constexpr std::string_view kPeerFrameMagic = "NDP1";  // "1": format version 1
inline constexpr size_t kPeerFrameHeaderBytes = 12;          // magic, payload_bytes, payload_crc
// The largest frame_bytes_max a transport accepts (the length field is 32 bits; 1 GiB keeps the
// arithmetic on it far from overflow).
inline constexpr size_t kPeerFramePayloadBytesLimit = size_t{1} << 30;
// The hello is read before the connection is authenticated, so it has its own small limit: an
// unknown dialer cannot make the reader buffer more than this.
inline constexpr size_t kPeerHelloBytesMax = 64 << 10;
// How much the decoder asks a read to fill at least (many small frames per read).
inline constexpr size_t kPeerReadChunkBytes = 64 << 10;
// A frame whose payload is at least this long is read straight into its own string (see
// PeerFrameDecoder). Below it, the read buffer's copies are cheap and it packs many frames per
// read; above it, growing the buffer by doubling and then copying the payload out would cost
// about two copies of the payload and three times its size in memory (a follower receiving a
// 16 MiB entry).
inline constexpr size_t kPeerFrameDirectPayloadBytesMin = size_t{1} << 20;

static_assert(kPeerFrameMagic.size() == 4);
static_assert(kPeerFrameHeaderBytes == kPeerFrameMagic.size() + 4 + 4);
static_assert(kPeerHelloBytesMax <= kPeerFramePayloadBytesLimit);
// No frame read before the hello is accepted is long enough to be read directly, whatever its
// header announces: a stranger cannot make the reader allocate at the announced size.
static_assert(kPeerHelloBytesMax < kPeerFrameDirectPayloadBytesMin);
static_assert(kPeerReadChunkBytes < kPeerFrameDirectPayloadBytesMin);
static_assert(kPeerFramePayloadBytesLimit <= UINT32_MAX);

using PeerFrameHeaderBytes = std::array<char, kPeerFrameHeaderBytes>;

// Returns the header of a frame carrying `payload`. Precondition: payload.size() <=
// kPeerFramePayloadBytesLimit (checked).
PeerFrameHeaderBytes EncodePeerFrameHeader(std::string_view payload);
// The same for a payload of `payload_bytes` bytes whose CRC32C is `payload_crc` (a payload in
// pieces, net/peer_payload.h). Same precondition.
PeerFrameHeaderBytes EncodePeerFrameHeader(size_t payload_bytes, uint32_t payload_crc);

// Returns header + payload as one string (tests, tools; the transport writes the two parts with
// one gather write instead of copying).
std::string EncodePeerFrame(std::string_view payload);

struct PeerFrameHeader {
  uint32_t payload_bytes = 0;
  uint32_t payload_crc = 0;
};

// Decodes the kPeerFrameHeaderBytes at the start of `header`. kCorruption for a bad magic,
// kResourceExhausted for a payload longer than `payload_bytes_max`, kInvalidArgument when
// `header` is shorter than a header.
Result<PeerFrameHeader> DecodePeerFrameHeader(std::string_view header, size_t payload_bytes_max);

// Splits a byte stream into frame payloads. Use: write into WritableSpace(), Commit() what was
// written, then call Next() until it returns no frame.
//
// Two ways of holding a frame:
// - A frame shorter than kPeerFrameDirectPayloadBytesMin is gathered in a read buffer, which
//   holds at most one frame plus kPeerReadChunkBytes. The buffer grows as a long frame's bytes
//   actually arrive (not when its header announces it) and shrinks back once it is consumed, and
//   Next() copies the payload out.
// - A longer frame is read directly: once its header is decoded, the decoder allocates one
//   string of exactly the payload's length, moves into it the payload bytes already buffered,
//   and WritableSpace() is then the unfilled part of that string (never more than the payload
//   still missing, so the next frame's bytes never land in it). Next() returns that string by
//   move: the payload is written once, by the read, and never copied. Bytes after the frame that
//   were already buffered stay in the read buffer for the next frame.
//
// Memory: a direct frame is allocated at the size its header announces, before its bytes
// arrive. That is allowed only for frames within payload_bytes_max, which the reader raises to
// frame_bytes_max only after the hello is accepted: a peer that passed the handshake may make
// us allocate up to frame_bytes_max at once (it could send that many bytes anyway). Before that
// the limit is kPeerHelloBytesMax, below kPeerFrameDirectPayloadBytesMin, so a stranger cannot.
// Not thread-safe: one reader owns it.
class PeerFrameDecoder {
 public:
  explicit PeerFrameDecoder(size_t payload_bytes_max);

  // Changes the payload limit for frames whose header is not yet decoded (the reader raises it
  // from kPeerHelloBytesMax once the hello is accepted).
  void set_payload_bytes_max(size_t payload_bytes_max) { payload_bytes_max_ = payload_bytes_max; }

  // Where the next read should put its bytes: never empty. While a direct frame is incomplete,
  // the unfilled part of its payload; otherwise free room in the read buffer. Valid until the
  // next call of any non-const method, which must be the Commit() of what was written.
  std::span<char> WritableSpace();
  // Marks the first `bytes` of the last WritableSpace() as filled. Precondition: bytes <= its
  // size, and no other non-const method was called since that WritableSpace().
  void Commit(size_t bytes);

  // The next whole frame's payload, std::nullopt when more bytes are needed, or the damage:
  // kCorruption (bad magic, checksum mismatch), kResourceExhausted (length over the limit, found
  // from the header alone, before anything is allocated for the payload). After an error the
  // stream cannot be resynchronised: the caller closes the connection.
  Result<std::optional<std::string>> Next();

  // Bytes committed and not yet returned by Next(), those of a direct frame included (its header
  // and the payload bytes filled).
  size_t buffered_bytes() const {
    return end_ - begin_ + (direct_.has_value() ? kPeerFrameHeaderBytes + direct_->filled : 0);
  }

 private:
  // A frame read directly into its payload string.
  struct DirectFrame {
    std::string payload;  // sized to the announced payload length from the start
    size_t filled = 0;    // payload bytes written; filled <= payload.size()
    uint32_t payload_crc = 0;
  };

  // Moves the frame whose header is at begin_ out of the read buffer into direct_.
  void StartDirect(const PeerFrameHeader& header);
  // The direct frame once complete and its checksum verified; std::nullopt while incomplete.
  Result<std::optional<std::string>> NextDirect();
  // Frees an empty buffer larger than a few read chunks.
  void ReleaseIdleBuffer();

  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t begin_ = 0;  // first byte not yet returned; begin_ <= end_ <= capacity_
  size_t end_ = 0;    // one past the last committed byte
  // Header and payload bytes of the frame at begin_ once its header decoded; 0 before, and 0
  // while a direct frame is read (its bytes are not in the buffer).
  size_t frame_bytes_ = 0;
  // The frame being read directly, if any. While it is incomplete, WritableSpace() and Commit()
  // write into it and the read buffer holds no byte of a later frame.
  std::optional<DirectFrame> direct_;
  size_t payload_bytes_max_;
};

}  // namespace nds::net
