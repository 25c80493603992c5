// PeerPayload: the payload of one peer frame (docs/formats/peer.md) as pieces, so that a big Raft
// entry travels from the encoder to the socket by reference. A leader sends each entry to every
// follower; with one flat string per frame, each follower's frame held its own copy of every
// 16 MB value until the write completed. Here the frame holds the entry's SharedBytes instead
// (a reference count), and the outbound link writes the pieces with one gather write.
//
// A payload is its own bytes (a string the encoder appends to) with shared pieces inserted between
// them, in order. The bytes on the wire are the pieces concatenated: the receiver sees one flat
// payload and cannot tell how it was built.
//
// Not thread-safe: one owner at a time (it moves from the encoder to the transport's queue). The
// shared pieces are immutable and may be shared with other threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>

#include "util/shared_bytes.h"

namespace nds::net {

class PeerPayload {
 public:
  PeerPayload() = default;
  // A payload of one flat piece (no copy when moved in). Implicit: every small frame is a string.
  PeerPayload(std::string bytes)  // NOLINT(google-explicit-constructor)
      : own_(std::move(bytes)) {}
  PeerPayload(const char* bytes)  // NOLINT(google-explicit-constructor)
      : own_(bytes) {}

  // The bytes the encoder appends to: whatever it appends follows every piece added so far.
  // Valid until the payload is moved or destroyed.
  std::string* own_bytes() { return &own_; }
  // Appends `piece` by reference (no copy). An empty piece adds nothing.
  void AppendShared(SharedBytes piece);

  // The payload's length on the wire: own bytes plus every shared piece.
  size_t size() const;
  // The CRC32C (util/crc32c.h) of the payload's bytes in order, as the frame header carries it.
  uint32_t Crc32c() const;
  size_t shared_piece_count() const { return shared_.size(); }

  // Appends one buffer per non-empty piece, in order, for a gather write. The buffers point into
  // this payload and its shared pieces: valid while the payload lives and is neither moved nor
  // changed (a moved string may carry its bytes inline, so a move invalidates them too).
  void AppendBuffers(std::vector<boost::asio::const_buffer>* out) const;

  // The payload as one string (tests, the simulator): a copy of every piece.
  std::string Flatten() const&;
  // As above, but without a copy when there is no shared piece.
  std::string Flatten() &&;

 private:
  // Calls fn(std::string_view) for every piece in order, empty ones included.
  template <typename Fn>
  void ForEachPiece(Fn&& fn) const;

  struct Shared {
    size_t own_offset = 0;  // the piece goes before own_[own_offset]
    SharedBytes bytes;      // never empty
  };

  std::string own_;
  // In order of own_offset (non-decreasing), each at most own_.size().
  std::vector<Shared> shared_;
};

template <typename Fn>
void PeerPayload::ForEachPiece(Fn&& fn) const {
  const std::string_view own(own_);
  size_t at = 0;
  for (const Shared& s : shared_) {
    fn(own.substr(at, s.own_offset - at));
    fn(s.bytes.view());
    at = s.own_offset;
  }
  fn(own.substr(at));
}

}  // namespace nds::net
