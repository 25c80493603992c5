// Goal: every Raft message and envelope survives the peer codec exactly, and hostile bytes are
// errors, never crashes or huge allocations; a frame that references big entries (shared pieces)
// has exactly the bytes of the flat encoding.
// Method: round trips of fully populated messages; every truncation; random mutations; a frame
// of small and big entries compared with its bytes written out by hand.
#include "node/raft_codec.h"

#include <optional>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "util/coding.h"
#include "util/crc32c.h"

namespace nds::node {
namespace {

raft::Message FullMessage() {
  raft::Message m;
  m.type = raft::MessageType::kAppend;
  m.from = NodeId(1);
  m.to = NodeId(3);
  m.term = Term(7);
  m.log_term = Term(6);
  m.index = LogIndex(100);
  m.commit = LogIndex(99);
  m.reject = true;
  m.reject_hint = LogIndex(42);
  m.reject_term_hint = Term(5);
  m.round = 12345;
  m.transferee = NodeId(2);
  m.context = std::string("ctx\0x", 5);
  m.snapshot.index = LogIndex(50);
  m.snapshot.term = Term(4);
  m.snapshot.conf_state.voters = {NodeId(1), NodeId(2)};
  m.snapshot.conf_state.learners = {NodeId(3)};
  m.snapshot.conf_state.voters_outgoing = {NodeId(9)};
  m.snapshot.conf_state.learners_next = {NodeId(8)};
  m.snapshot.conf_state.auto_leave = true;
  for (uint64_t i = 101; i < 104; ++i) {
    m.entries.push_back({Term(7), LogIndex(i),
                         i == 102 ? raft::EntryType::kConfChange : raft::EntryType::kNormal,
                         std::string(i, static_cast<char>(i))});
  }
  return m;
}

TEST(RaftCodec, EveryFieldRoundTrips) {
  raft::Message m = FullMessage();
  std::string frame = EncodeRaftFrame(m).Flatten();
  EXPECT_EQ(*PeekFrameKind(frame), FrameKind::kRaft);
  auto back = DecodeRaftFrame(frame);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
  for (uint8_t t = 0; t <= static_cast<uint8_t>(raft::MessageType::kTransferLeader); ++t) {
    raft::Message x;
    x.type = static_cast<raft::MessageType>(t);
    EXPECT_EQ(*DecodeRaftFrame(EncodeRaftFrame(x).Flatten()), x);
  }
}

TEST(RaftCodec, EveryTruncationAndTrailingByteIsRejected) {
  std::string frame = EncodeRaftFrame(FullMessage()).Flatten();
  for (size_t n = 0; n < frame.size(); ++n) {
    EXPECT_FALSE(DecodeRaftFrame(frame.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeRaftFrame(frame + "x").ok());
}

TEST(RaftCodec, RandomMutationsNeverCrash) {
  std::string frame = EncodeRaftFrame(FullMessage()).Flatten();
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string f = frame;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) f[rng() % f.size()] = static_cast<char>(rng());
    auto r = DecodeRaftFrame(f);  // ok or an error; either way no crash and bounded memory
    if (r.ok()) {
      EXPECT_LE(r->entries.size(), f.size());
    }
  }
  std::string garbage(64, '\0');
  for (int i = 0; i < 5000; ++i) {
    for (auto& c : garbage) c = static_cast<char>(rng());
    garbage[0] = static_cast<char>(FrameKind::kRaft);
    auto r = DecodeRaftFrame(garbage);
    if (r.ok()) {
      EXPECT_LE(r->entries.size(), garbage.size());
    }
  }
}

// The wire bytes do not depend on which entries are shared (docs/formats/raft_messages.md is the
// same for both): entries of every size around kFrameSharedBytesMin, written out by hand.
TEST(RaftCodec, BigEntriesAreSharedAndTheBytesAreThoseOfTheFlatEncoding) {
  raft::Message m;
  m.type = raft::MessageType::kAppend;
  m.from = NodeId(1);
  m.to = NodeId(2);
  m.term = Term(3);
  m.log_term = Term(3);
  m.index = LogIndex(9);
  m.commit = LogIndex(8);
  const std::vector<size_t> sizes = {10, kFrameSharedBytesMin - 1, kFrameSharedBytesMin, 0, 100'000,
                                     7};
  std::string want("\x01\x01", 2);  // kRaft, codec version 1
  want += static_cast<char>(raft::MessageType::kAppend);
  want += std::string("\x01\x02\x03\x03\x09\x08", 6);  // from, to, term, log_term, index, commit
  want += std::string(6, '\0');  // reject, its two hints, round, transferee, context (empty)
  want += std::string(7, '\0');  // snapshot index and term, four empty id lists, auto_leave
  PutVarint64(&want, sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    const LogIndex index(10 + i);
    std::string data(sizes[i], static_cast<char>('a' + i));
    if (!data.empty()) data[data.size() / 2] = '\0';
    want += '\x03';  // term
    PutVarint64(&want, index.value);
    want += static_cast<char>(raft::EntryType::kNormal);
    PutVarint64(&want, data.size());
    want += data;
    m.entries.push_back({Term(3), index, raft::EntryType::kNormal, std::move(data)});
  }

  const net::PeerPayload frame = EncodeRaftFrame(m);
  EXPECT_EQ(frame.shared_piece_count(), 2u) << "the entries of 4 KiB and 100,000 bytes";
  EXPECT_EQ(frame.size(), want.size());
  EXPECT_EQ(frame.Crc32c(), crc32c::Value(want));
  EXPECT_TRUE(frame.Flatten() == want);
  std::vector<boost::asio::const_buffer> buffers;
  frame.AppendBuffers(&buffers);
  const auto points_at = [&](const SharedBytes& data) {
    for (const auto& b : buffers) {
      if (b.data() == data.data() && b.size() == data.size()) return true;
    }
    return false;
  };
  EXPECT_TRUE(points_at(m.entries[2].data)) << "a big entry is referenced, not copied";
  EXPECT_TRUE(points_at(m.entries[4].data));
  EXPECT_FALSE(points_at(m.entries[1].data)) << "a small entry is copied into the frame";
  auto back = DecodeRaftFrame(frame.Flatten());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);

  // Decoded from a shared frame, an entry of kFrameSliceBytesMin or more is a slice of it (no
  // copy); smaller ones are copies. Either way the message is the same, and the slices outlive
  // the frame's other holders.
  std::optional<raft::Message> sliced;
  const char* frame_begin = nullptr;
  {
    const SharedBytes shared(frame.Flatten());
    frame_begin = shared.data();
    auto decoded = DecodeSharedRaftFrame(shared);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    sliced = std::move(decoded).value();
  }
  EXPECT_EQ(*sliced, m);
  const auto inside = [&](const SharedBytes& data) {
    return data.data() >= frame_begin && data.data() < frame_begin + want.size();
  };
  EXPECT_TRUE(inside(sliced->entries[4].data)) << "100,000 bytes: a slice of the frame";
  EXPECT_FALSE(inside(sliced->entries[2].data)) << "4 KiB: below kFrameSliceBytesMin, copied";
  EXPECT_FALSE(inside(sliced->entries[0].data));

  // The frame keeps the shared bytes alive after the message is gone.
  m = raft::Message{};
  EXPECT_TRUE(frame.Flatten() == want);
}

TEST(RaftCodec, BigForwardedEnvelopeIsSharedWithTheSameBytes) {
  const Envelope e{5, 77, std::string(3 * kFrameSharedBytesMin, 'c')};
  const SharedBytes encoded(EncodeEnvelope(e));
  const net::PeerPayload frame = ForwardFrameOf(encoded);
  EXPECT_EQ(frame.shared_piece_count(), 1u);
  EXPECT_EQ(frame.Flatten(), EncodeForwardFrame(e));
  EXPECT_EQ(frame.Flatten(), '\x02' + encoded.str());  // kForward, then the envelope
  EXPECT_EQ(*DecodeForwardFrame(frame.Flatten()), e);
  EXPECT_EQ(ForwardFrameOf(EncodeEnvelope(Envelope{5, 78, "small"})).shared_piece_count(), 0u);
}

TEST(RaftCodec, EnvelopesAndForwardFramesRoundTrip) {
  Envelope e{5, 77, std::string("cmd\0bytes", 9)};
  EXPECT_EQ(*DecodeEnvelope(EncodeEnvelope(e)), e);
  const std::string encoded = EncodeEnvelope(e);
  Result<EnvelopeView> view = DecodeEnvelopeView(encoded);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->origin, 5u);
  EXPECT_EQ(view->request_id, 77u);
  EXPECT_EQ(view->command, e.command);
  // The command is read where it is, not copied.
  EXPECT_EQ(view->command.data() + view->command.size(), encoded.data() + encoded.size());
  std::string f = EncodeForwardFrame(e);
  EXPECT_EQ(*PeekFrameKind(f), FrameKind::kForward);
  EXPECT_EQ(*DecodeForwardFrame(f), e);
  EXPECT_FALSE(DecodeEnvelope("").ok());
  EXPECT_FALSE(DecodeEnvelope("\x02").ok());
  EXPECT_FALSE(PeekFrameKind("").ok());
  EXPECT_FALSE(PeekFrameKind("\x09").ok());
  EXPECT_FALSE(DecodeForwardFrame(EncodeRaftFrame(raft::Message{}).Flatten()).ok());
}

TEST(ForwardRefusalFrame, RoundTripsAndRejectsDamage) {
  ForwardRefusal r{Envelope{3, 99, "put k v"}, Status(StatusCode::kNotLeader, "leader=2")};
  std::string bytes = EncodeForwardRefusalFrame(r);
  ASSERT_EQ(PeekFrameKind(bytes).value(), FrameKind::kForwardRefused);
  auto back = DecodeForwardRefusalFrame(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->envelope, r.envelope);
  EXPECT_EQ(back->status.code(), StatusCode::kNotLeader);
  EXPECT_EQ(back->status.message(), "leader=2");
  // Every cut before the envelope's fixed fields end is rejected (the command is the rest).
  const size_t header = bytes.size() - r.envelope.command.size();
  for (size_t n = 0; n < header; ++n) {
    EXPECT_FALSE(DecodeForwardRefusalFrame(bytes.substr(0, n)).ok()) << "truncated at " << n;
  }
  std::string bad_code = bytes;
  bad_code[2] = 0;  // kOk is not a refusal
  EXPECT_FALSE(DecodeForwardRefusalFrame(bad_code).ok());
  bad_code[2] = 100;
  EXPECT_FALSE(DecodeForwardRefusalFrame(bad_code).ok());
  EXPECT_FALSE(DecodeForwardRefusalFrame(EncodeForwardFrame(r.envelope)).ok());
  ForwardRefusal long_message{Envelope{1, 2, "c"}, Unavailable(std::string(5000, 'm'))};
  auto cut = DecodeForwardRefusalFrame(EncodeForwardRefusalFrame(long_message));
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_EQ(cut->status.message().size(), kRefusalMessageBytesMax);
}

TEST(SnapshotResumeFrame, RoundTripsAndRejectsDamage) {
  SnapshotResume r{LogIndex{77}, Term{3}, 1536};
  std::string bytes = EncodeSnapshotResumeFrame(r);
  ASSERT_EQ(PeekFrameKind(bytes).value(), FrameKind::kSnapshotResume);
  auto back = DecodeSnapshotResumeFrame(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeSnapshotResumeFrame(bytes.substr(0, n)).ok()) << "truncated at " << n;
  }
  EXPECT_FALSE(DecodeSnapshotResumeFrame(bytes + "x").ok());
  EXPECT_FALSE(DecodeSnapshotResumeFrame(EncodeSnapshotChunkFrame({})).ok());
  std::string unknown = bytes;
  unknown[0] = 7;
  EXPECT_FALSE(PeekFrameKind(unknown).ok());
}

TEST(SnapshotChunkFrame, RoundTripsAndRejectsDamage) {
  wal::SnapshotChunk c{LogIndex{77}, Term{3}, 1024, 4096, std::string(100, 'x')};
  std::string bytes = EncodeSnapshotChunkFrame(c);
  ASSERT_EQ(PeekFrameKind(bytes).value(), FrameKind::kSnapshotChunk);
  auto back = DecodeSnapshotChunkFrame(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeSnapshotChunkFrame(bytes.substr(0, n)).ok()) << "truncated at " << n;
  }
  EXPECT_FALSE(DecodeSnapshotChunkFrame(bytes + "x").ok());
  wal::SnapshotChunk past{LogIndex{1}, Term{1}, 4090, 4096, std::string(10, 'y')};
  EXPECT_FALSE(DecodeSnapshotChunkFrame(EncodeSnapshotChunkFrame(past)).ok());
}

TEST(Hello, RoundTripsAndRejectsDamage) {
  Hello h{"c0ffee-cluster", 42, "10.0.0.7:7778", "10.0.0.7:7777"};
  std::string bytes = EncodeHello(h);
  auto back = DecodeHello(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, h);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeHello(bytes.substr(0, n)).ok()) << "truncated at " << n;
  }
  EXPECT_FALSE(DecodeHello(bytes + "x").ok());
  EXPECT_FALSE(DecodeHello(EncodeHello(Hello{"", 1, "", ""})).ok());
  EXPECT_FALSE(DecodeHello(EncodeHello(Hello{"c", 0, "", ""})).ok());
  auto no_addresses = DecodeHello(EncodeHello(Hello{"c", 1, "", ""}));
  ASSERT_TRUE(no_addresses.ok()) << no_addresses.status().ToString();
  EXPECT_TRUE(no_addresses->peer_address.empty());
  // An overlong address is cut when encoding; a decoder meeting one refuses it.
  auto cut = DecodeHello(EncodeHello(Hello{"c", 1, std::string(300, 'a'), "b"}));
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->peer_address.size(), kHelloAddressBytesMax);
  // A version-1 hello (before the addresses) is named as such, not as damage.
  std::string v1 = bytes;
  v1[8] = 1;  // the byte after "ndshello"
  auto old = DecodeHello(v1);
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("unknown version 1"), std::string::npos)
      << old.status().ToString();
  v1[8] = 2;  // before the handshake
  EXPECT_NE(DecodeHello(v1).status().message().find("unknown version 2"), std::string::npos);
}

// Outside text that reaches logs and the member table: a control character anywhere in the
// cluster id or an address makes the hello invalid, and the error does not echo it.
TEST(Hello, AControlCharacterIsInvalidInput) {
  for (const Hello& h : {Hello{"c\nforged line", 1, "", ""}, Hello{"c", 1, "h:1\r", ""},
                         Hello{"c", 1, "", std::string("h:1\0", 4)}, Hello{"c\x1b[2J", 1, "", ""},
                         Hello{"c\x7f", 1, "", ""}}) {
    auto decoded = DecodeHello(EncodeHello(h));
    ASSERT_FALSE(decoded.ok()) << h.cluster_id;
    EXPECT_EQ(decoded.status().message().find("forged"), std::string::npos);
  }
  EXPECT_TRUE(DecodeHello(EncodeHello(Hello{"c-\xc3\xa9", 1, "h:1", "h:2"})).ok());
}

}  // namespace
}  // namespace nds::node
