// A peer frame's payload as pieces (peer_payload.h).
#include "net/peer_payload.h"

#include "util/check.h"
#include "util/crc32c.h"

namespace nds::net {

void PeerPayload::AppendShared(SharedBytes piece) {
  if (piece.empty()) return;
  NDS_CHECK(shared_.empty() || shared_.back().own_offset <= own_.size());
  shared_.push_back(Shared{own_.size(), std::move(piece)});
}

size_t PeerPayload::size() const {
  size_t bytes = own_.size();
  for (const Shared& s : shared_) bytes += s.bytes.size();
  return bytes;
}

uint32_t PeerPayload::Crc32c() const {
  uint32_t crc = 0;
  ForEachPiece(
      [&](std::string_view piece) { crc = crc32c::Extend(crc, piece.data(), piece.size()); });
  return crc;
}

void PeerPayload::AppendBuffers(std::vector<boost::asio::const_buffer>* out) const {
  ForEachPiece([&](std::string_view piece) {
    if (!piece.empty()) out->emplace_back(piece.data(), piece.size());
  });
}

std::string PeerPayload::Flatten() const& {
  std::string flat;
  flat.reserve(size());
  ForEachPiece([&](std::string_view piece) { flat.append(piece); });
  return flat;
}

std::string PeerPayload::Flatten() && {
  if (shared_.empty()) return std::move(own_);
  return static_cast<const PeerPayload&>(*this).Flatten();
}

}  // namespace nds::net
