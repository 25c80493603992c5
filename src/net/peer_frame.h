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

static_assert(kPeerFrameMagic.size() == 4);
static_assert(kPeerFrameHeaderBytes == kPeerFrameMagic.size() + 4 + 4);
static_assert(kPeerHelloBytesMax <= kPeerFramePayloadBytesLimit);
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
// written, then call Next() until it returns no frame. Memory: at most one frame plus
// kPeerReadChunkBytes is buffered; the buffer grows as a long frame's bytes actually arrive
// (not when its header announces it) and shrinks back once it is consumed.
// Not thread-safe: one reader owns it.
class PeerFrameDecoder {
 public:
  explicit PeerFrameDecoder(size_t payload_bytes_max);

  // Changes the payload limit for frames whose header is not yet decoded (the reader raises it
  // from kPeerHelloBytesMax once the hello is accepted).
  void set_payload_bytes_max(size_t payload_bytes_max) { payload_bytes_max_ = payload_bytes_max; }

  // Where the next read should put its bytes: never empty. Valid until the next call of any
  // non-const method.
  std::span<char> WritableSpace();
  // Marks the first `bytes` of the last WritableSpace() as filled. Precondition: bytes <= its size.
  void Commit(size_t bytes);

  // The next whole frame's payload, std::nullopt when more bytes are needed, or the damage:
  // kCorruption (bad magic, checksum mismatch), kResourceExhausted (length over the limit). After
  // an error the stream cannot be resynchronised: the caller closes the connection.
  Result<std::optional<std::string>> Next();

  // Bytes committed and not yet returned by Next().
  size_t buffered_bytes() const { return end_ - begin_; }

 private:
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t begin_ = 0;  // first byte not yet returned; begin_ <= end_ <= capacity_
  size_t end_ = 0;    // one past the last committed byte
  // Header and payload bytes of the frame at begin_ once its header decoded; 0 before.
  size_t frame_bytes_ = 0;
  size_t payload_bytes_max_;
};

}  // namespace nds::net
