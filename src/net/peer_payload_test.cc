// Goal: a payload built of own bytes and shared pieces (peer_payload.h) is, on every account
// (size, CRC32C, gather buffers, flat bytes), the concatenation of its pieces in order, and it
// references its shared pieces instead of copying them. Method: payloads built by hand with
// pieces at the start, middle and end, empty pieces, and none, compared with the flat string
// built alongside.
#include "net/peer_payload.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "util/crc32c.h"

namespace nds::net {
namespace {

// The bytes `buffers` cover, in order.
std::string Gathered(const std::vector<boost::asio::const_buffer>& buffers) {
  std::string out;
  for (const auto& b : buffers) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

TEST(PeerPayload, PiecesInterleaveWithOwnBytesInOrder) {
  const SharedBytes big(std::string(10'000, 'B'));
  const SharedBytes other("shared-two");
  PeerPayload p;
  std::string want;
  p.AppendShared(big);  // a piece before any own byte
  want += big.view();
  p.own_bytes()->append("head");
  want += "head";
  p.AppendShared(other);
  want += other.view();
  p.AppendShared(big);  // two pieces in a row, the same bytes twice
  want += big.view();
  p.own_bytes()->append("tail");
  want += "tail";

  EXPECT_EQ(p.size(), want.size());
  EXPECT_EQ(p.Crc32c(), crc32c::Value(want));
  EXPECT_EQ(p.shared_piece_count(), 3u);
  EXPECT_EQ(p.Flatten(), want);
  std::vector<boost::asio::const_buffer> buffers;
  p.AppendBuffers(&buffers);
  EXPECT_EQ(Gathered(buffers), want);
  EXPECT_EQ(buffers.size(), 5u) << "empty own stretches add no buffer";
  EXPECT_EQ(std::move(p).Flatten(), want);
}

TEST(PeerPayload, SharedPiecesAreReferencedNotCopied) {
  const SharedBytes big(std::string(1 << 20, 'v'));
  PeerPayload p("x");
  p.AppendShared(big);
  std::vector<boost::asio::const_buffer> buffers;
  p.AppendBuffers(&buffers);
  ASSERT_EQ(buffers.size(), 2u);
  EXPECT_EQ(buffers[1].data(), big.data()) << "the gather buffer points at the shared bytes";
  const PeerPayload moved = std::move(p);
  std::vector<boost::asio::const_buffer> after_move;
  moved.AppendBuffers(&after_move);
  EXPECT_EQ(after_move[1].data(), big.data());
}

TEST(PeerPayload, FlatStringsAndEmptyPiecesBehaveAsPlainBytes) {
  PeerPayload from_string(std::string("plain frame"));
  EXPECT_EQ(from_string.size(), 11u);
  EXPECT_EQ(from_string.Crc32c(), crc32c::Value("plain frame"));
  EXPECT_EQ(from_string.shared_piece_count(), 0u);
  std::vector<boost::asio::const_buffer> buffers;
  from_string.AppendBuffers(&buffers);
  EXPECT_EQ(buffers.size(), 1u);
  EXPECT_EQ(std::move(from_string).Flatten(), "plain frame");

  PeerPayload empty;
  empty.AppendShared(SharedBytes());
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.shared_piece_count(), 0u) << "an empty piece adds nothing";
  EXPECT_EQ(empty.Crc32c(), crc32c::Value(""));
  buffers.clear();
  empty.AppendBuffers(&buffers);
  EXPECT_TRUE(buffers.empty());
  EXPECT_EQ(empty.Flatten(), "");
}

}  // namespace
}  // namespace nds::net
