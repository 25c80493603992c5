// Goal: the peer frame codec (peer_frame.h, docs/formats/peer.md) cuts a byte stream into the
// frames that were sent, however the stream is split, and refuses damage and oversized lengths.
// Method: frames encoded, fed to the decoder in pieces of every size, and bytes damaged by hand.
#include "net/peer_frame.h"

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "util/coding.h"

namespace nds::net {
namespace {

// Feeds `bytes` to `decoder` in pieces of at most `piece` bytes, collecting frames; stops at the
// first error and returns it.
Status FeedAll(PeerFrameDecoder& decoder, std::string_view bytes, size_t piece,
               std::vector<std::string>* out) {
  while (!bytes.empty()) {
    std::span<char> space = decoder.WritableSpace();
    const size_t n = std::min({piece, space.size(), bytes.size()});
    std::copy_n(bytes.data(), n, space.data());
    decoder.Commit(n);
    bytes.remove_prefix(n);
    while (true) {
      Result<std::optional<std::string>> next = decoder.Next();
      if (!next.ok()) return next.status();
      if (!next->has_value()) break;
      out->push_back(std::move(**next));
    }
  }
  return Status::Ok();
}

TEST(PeerTransportFrame, FramesSurviveAnySplitOfTheStream) {
  std::vector<std::string> payloads = {"", "a", std::string(70'000, 'b'), "hello", ""};
  std::string stream;
  for (const std::string& p : payloads) stream += EncodePeerFrame(p);
  for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}, stream.size()}) {
    PeerFrameDecoder decoder(1 << 20);
    std::vector<std::string> got;
    ASSERT_TRUE(FeedAll(decoder, stream, piece, &got).ok()) << "piece " << piece;
    EXPECT_EQ(got, payloads) << "piece " << piece;
    EXPECT_EQ(decoder.buffered_bytes(), 0u);
  }
}

TEST(PeerTransportFrame, HeaderLayoutIsMagicLengthChecksum) {
  const std::string frame = EncodePeerFrame("abc");
  ASSERT_EQ(frame.size(), kPeerFrameHeaderBytes + 3);
  EXPECT_EQ(frame.substr(0, 4), "NDP1");
  EXPECT_EQ(DecodeFixed32(frame.data() + 4), 3u);
  EXPECT_EQ(frame.substr(12), "abc");
}

TEST(PeerTransportFrame, BadMagicIsCorruption) {
  std::string frame = EncodePeerFrame("abc");
  frame[0] = 'X';
  PeerFrameDecoder decoder(1024);
  std::vector<std::string> got;
  EXPECT_EQ(FeedAll(decoder, frame, frame.size(), &got).code(), StatusCode::kCorruption);
  EXPECT_TRUE(got.empty());
}

TEST(PeerTransportFrame, FlippedPayloadBitIsCorruption) {
  std::string stream = EncodePeerFrame("good") + EncodePeerFrame("payload");
  stream.back() ^= 0x01;
  PeerFrameDecoder decoder(1024);
  std::vector<std::string> got;
  EXPECT_EQ(FeedAll(decoder, stream, stream.size(), &got).code(), StatusCode::kCorruption);
  EXPECT_EQ(got, std::vector<std::string>{"good"});
}

TEST(PeerTransportFrame, LengthOverTheLimitIsRefusedBeforeThePayloadArrives) {
  const std::string frame = EncodePeerFrame(std::string(1025, 'z'));
  PeerFrameDecoder decoder(1024);
  std::vector<std::string> got;
  // Only the header is fed: the decoder must not wait for the payload to refuse it.
  EXPECT_EQ(FeedAll(decoder, frame.substr(0, kPeerFrameHeaderBytes), 64, &got).code(),
            StatusCode::kResourceExhausted);
}

TEST(PeerTransportFrame, RaisedLimitAppliesToLaterFrames) {
  const std::string big(2000, 'q');
  PeerFrameDecoder decoder(100);
  std::vector<std::string> got;
  ASSERT_TRUE(FeedAll(decoder, EncodePeerFrame("hi"), 64, &got).ok());
  decoder.set_payload_bytes_max(4096);
  ASSERT_TRUE(FeedAll(decoder, EncodePeerFrame(big), 333, &got).ok());
  EXPECT_EQ(got, (std::vector<std::string>{"hi", big}));
}
}  // namespace
}  // namespace nds::net
