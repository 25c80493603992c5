// Goal: the peer frame codec (peer_frame.h, docs/formats/peer.md) cuts a byte stream into the
// frames that were sent, however the stream is split, and refuses damage and oversized lengths.
// Method: frames encoded, fed to the decoder in pieces of every size (fixed, and seeded random
// for frames long enough to be read directly into their payload), and bytes damaged by hand.
#include "net/peer_frame.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "util/coding.h"

namespace nds::net {
namespace {

// Feeds `bytes` to `decoder` in pieces of at most piece_bytes() bytes each (less when the
// decoder offers less room), collecting frames; stops at the first error and returns it.
Status Feed(PeerFrameDecoder& decoder, std::string_view bytes,
            const std::function<size_t()>& piece_bytes, std::vector<std::string>* out) {
  while (!bytes.empty()) {
    std::span<char> space = decoder.WritableSpace();
    EXPECT_FALSE(space.empty());
    const size_t n = std::min({piece_bytes(), space.size(), bytes.size()});
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

// Feed in pieces of `piece` bytes.
Status FeedAll(PeerFrameDecoder& decoder, std::string_view bytes, size_t piece,
               std::vector<std::string>* out) {
  return Feed(
      decoder, bytes, [piece] { return piece; }, out);
}

// Feed in pieces of random sizes in [1, piece_bytes_max] drawn from `rng`.
Status FeedRandomly(PeerFrameDecoder& decoder, std::string_view bytes, size_t piece_bytes_max,
                    std::mt19937_64& rng, std::vector<std::string>* out) {
  std::uniform_int_distribution<size_t> piece_bytes(1, piece_bytes_max);
  return Feed(
      decoder, bytes, [&] { return piece_bytes(rng); }, out);
}

// A payload whose every byte depends on its position, so that a misplaced piece shows.
std::string Pattern(size_t bytes, uint8_t seed) {
  std::string payload(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) payload[i] = static_cast<char>((i * 131 + seed) % 251);
  return payload;
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

TEST(PeerTransportFrame, LongFramesAmongShortOnesSurviveRandomSplits) {
  const std::vector<std::string> payloads = {Pattern(3 << 20, 1),
                                             Pattern(1000, 2),
                                             Pattern((2 << 20) + 7, 3),
                                             Pattern(kPeerFrameDirectPayloadBytesMin, 4),
                                             "",
                                             Pattern(kPeerFrameDirectPayloadBytesMin - 1, 5),
                                             "tail"};
  std::string stream;
  for (const std::string& p : payloads) stream += EncodePeerFrame(p);
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    std::mt19937_64 rng(seed);
    PeerFrameDecoder decoder(8 << 20);
    std::vector<std::string> got;
    ASSERT_TRUE(FeedRandomly(decoder, stream, 200 << 10, rng, &got).ok()) << "seed " << seed;
    ASSERT_EQ(got.size(), payloads.size()) << "seed " << seed;
    for (size_t i = 0; i < payloads.size(); ++i) {
      EXPECT_TRUE(got[i] == payloads[i]) << "seed " << seed << ", frame " << i;
    }
    EXPECT_EQ(decoder.buffered_bytes(), 0u);
  }
}

TEST(PeerTransportFrame, LongFrameAlreadyBufferedLeavesTheNextFrameInTheBuffer) {
  // The decoder sees no header until the whole stream is committed: the long frame is then
  // complete at once, and the short one after it must still come out.
  const std::string big = Pattern((1 << 20) + 3, 6);
  const std::string stream = EncodePeerFrame(big) + EncodePeerFrame("after");
  PeerFrameDecoder decoder(2 << 20);
  size_t fed = 0;
  while (fed < stream.size()) {
    std::span<char> space = decoder.WritableSpace();
    const size_t n = std::min(space.size(), stream.size() - fed);
    std::copy_n(stream.data() + fed, n, space.data());
    decoder.Commit(n);
    fed += n;
  }
  EXPECT_EQ(decoder.buffered_bytes(), stream.size());
  Result<std::optional<std::string>> first = decoder.Next();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_TRUE(**first == big);
  Result<std::optional<std::string>> second = decoder.Next();
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ(**second, "after");
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(PeerTransportFrame, LongFrameIsReadIntoTheStringReturnedWithoutACopy) {
  const std::string big = Pattern(3 << 20, 7);
  const std::string frame = EncodePeerFrame(big);
  PeerFrameDecoder decoder(4 << 20);
  std::vector<std::string> got;
  ASSERT_TRUE(FeedAll(decoder, frame.substr(0, kPeerFrameHeaderBytes), 64, &got).ok());
  ASSERT_TRUE(got.empty());
  // Once the header is decoded, the space offered is the whole payload, no more (the next
  // frame's bytes never land in it).
  const std::span<char> space = decoder.WritableSpace();
  EXPECT_EQ(space.size(), big.size());
  EXPECT_EQ(decoder.buffered_bytes(), kPeerFrameHeaderBytes);
  const char* const payload_data = space.data();
  ASSERT_TRUE(
      FeedAll(decoder, std::string_view(frame).substr(kPeerFrameHeaderBytes), 100'000, &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0] == big);
  EXPECT_EQ(got[0].data(), payload_data);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(PeerTransportFrame, FlippedBitInALongPayloadIsCorruption) {
  std::string stream = EncodePeerFrame(Pattern(3 << 20, 8));
  stream[stream.size() / 2] ^= 0x10;
  std::mt19937_64 rng(9);
  PeerFrameDecoder decoder(4 << 20);
  std::vector<std::string> got;
  EXPECT_EQ(FeedRandomly(decoder, stream, 200 << 10, rng, &got).code(), StatusCode::kCorruption);
  EXPECT_TRUE(got.empty());
}

TEST(PeerTransportFrame, LongLengthOverTheLimitIsRefusedFromTheHeaderAlone) {
  // Only a header announcing 3 MiB is fed, to a decoder limited to 2 MiB: the refusal comes
  // before any payload byte (and before anything is allocated at the announced size).
  const PeerFrameHeaderBytes header = EncodePeerFrameHeader(3 << 20, 0);
  PeerFrameDecoder decoder(2 << 20);
  std::vector<std::string> got;
  EXPECT_EQ(FeedAll(decoder, std::string_view(header.data(), header.size()), 64, &got).code(),
            StatusCode::kResourceExhausted);
  EXPECT_TRUE(got.empty());
}

TEST(PeerTransportFrame, HelloLimitKeepsAnnouncedLongFramesFromBeingAllocated) {
  const PeerFrameHeaderBytes header = EncodePeerFrameHeader(kPeerFrameDirectPayloadBytesMin, 0);
  PeerFrameDecoder decoder(kPeerHelloBytesMax);
  std::vector<std::string> got;
  EXPECT_EQ(FeedAll(decoder, std::string_view(header.data(), header.size()), 64, &got).code(),
            StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace nds::net
