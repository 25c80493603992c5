// Goal: the peer transport keeps its contract (peer_transport.h, docs/formats/peer.md): frames
// arrive intact and in order, the hello gates a connection, every limit (frame size, queue
// frames and bytes, inbound connections, hello time) is enforced, damaged bytes close the
// connection without delivering anything, and lost peers are redialled. Method: the transport runs
// on real sockets on 127.0.0.1 with ports picked by the kernel, between two transports or against a
// raw POSIX client writing exact bytes. Every wait is on a condition with a generous bound
// (kWaitBound); no test asserts a duration.
#include "net/peer_transport.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <poll.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/loopback_port.h"
#include "net/peer_frame.h"
#include "net/peer_handshake.h"
#include "net/peer_payload.h"
#include "net/peer_transport_for_test.h"
#include "net/raw_peer_client.h"
#include "util/coding.h"
#include "util/shared_bytes.h"

namespace nds::net {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// ---- The transport on real sockets ----

// Fixtures of peer_transport_for_test.h: one transport that raw clients dial, and two transports.
class PeerTransportServer : public PeerServerFixture {};
class PeerTransportPair : public PeerPairFixture {};

TEST(PeerTransport, StartRefusesContradictoryOptionsAndBadAddresses) {
  TestReceiver receiver;
  auto start = [&](const std::function<void(PeerTransportOptions&)>& change) {
    PeerTransportOptions options = TestOptions(1);
    change(options);
    return PeerTransport::Start(options, &receiver).status().code();
  };
  EXPECT_EQ(start([](auto& o) { o.threads = 0; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(start([](auto& o) { o.queue_bytes_max = o.frame_bytes_max - 1; }),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(start([](auto& o) { o.frame_bytes_max = kPeerFramePayloadBytesLimit + 1; }),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(start([](auto& o) { o.backoff_max = o.backoff_min / 2; }),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(start([](auto& o) { o.hello = std::string(kPeerHelloBytesMax + 1, 'h'); }),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(start([](auto& o) { o.listen_address = "not an address"; }),
            StatusCode::kInvalidArgument);

  auto first = MustStart(TestOptions(1), &receiver);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(start([&](auto& o) { o.listen_port = first->port(); }), StatusCode::kUnavailable);
  first->Stop();
}

TEST_F(PeerTransportPair, TwoTransportsExchangeManyFramesInOrderBothWays) {
  constexpr size_t kFrames = 20'000;
  PeerTransportOptions options_a = TestOptions(1);
  PeerTransportOptions options_b = TestOptions(2);
  options_a.queue_frames_max = options_b.queue_frames_max = kFrames;
  ASSERT_TRUE(StartPair(options_a, options_b));
  b_->SetPeer(1, Address(a_->port()));
  for (size_t i = 0; i < kFrames; ++i) {
    ASSERT_TRUE(a_->Send(2, NumberedFrame(i)));
    ASSERT_TRUE(b_->Send(1, NumberedFrame(i)));
  }
  ASSERT_TRUE(receiver_b_.WaitFrames(kFrames)) << receiver_b_.frame_count();
  ASSERT_TRUE(receiver_a_.WaitFrames(kFrames)) << receiver_a_.frame_count();
  const auto at_b = receiver_b_.frames();
  const auto at_a = receiver_a_.frames();
  ASSERT_EQ(at_b.size(), kFrames);
  ASSERT_EQ(at_a.size(), kFrames);
  for (size_t i = 0; i < kFrames; ++i) {
    ASSERT_EQ(at_b[i].from, 1u);
    ASSERT_EQ(at_b[i].bytes, NumberedFrame(i)) << i;
    ASSERT_EQ(at_a[i].from, 2u);
    ASSERT_EQ(at_a[i].bytes, NumberedFrame(i)) << i;
  }
  EXPECT_TRUE(Eventually([&] { return a_->QueuedBytes(2) == 0 && b_->QueuedBytes(1) == 0; }));
  EXPECT_EQ(receiver_b_.hellos(), 1u);
  EXPECT_EQ(receiver_a_.hellos(), 1u);
}

TEST_F(PeerTransportPair, RejectedHelloDeliversNoFrames) {
  receiver_b_.set_reject_all(true);
  ASSERT_TRUE(StartPair());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(a_->Send(2, "must not arrive"));
  // The link is redialled and rejected again and again: wait for several rounds.
  ASSERT_TRUE(receiver_b_.WaitHellos(3));
  b_->Stop();  // joins b's threads: every frame b read has been handled
  EXPECT_EQ(receiver_b_.frame_count(), 0u);
  a_->Stop();
}

// Big frames arrive intact, flat and in pieces: a payload that shares big pieces
// (net/peer_payload.h) is written by gather write and arrives as its flat bytes.
TEST_F(PeerTransportPair, LargeFramesArriveIntact) {
  constexpr size_t kBig = 8 << 20;
  ASSERT_TRUE(StartPair());
  std::vector<std::string> sent;
  for (int k = 0; k < 3; ++k) {
    std::string frame(kBig, '\0');
    for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<char>((i * 131 + k) >> 3);
    const SharedBytes big(std::move(frame));
    PeerPayload pieces(fmt::format("head {}|", k));
    pieces.AppendShared(big);
    pieces.own_bytes()->append("|middle|");
    pieces.AppendShared(big);
    if (k == 1) pieces.own_bytes()->append("|tail");
    sent.insert(sent.end(), {big.str(), pieces.Flatten(), "small"});
    ASSERT_TRUE(a_->Send(2, big.str()));
    ASSERT_TRUE(a_->Send(2, std::move(pieces)));
    ASSERT_TRUE(a_->Send(2, "small"));
  }
  ASSERT_TRUE(receiver_b_.WaitFrames(sent.size()));
  const auto got = receiver_b_.frames();
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_TRUE(got[i].bytes == sent[i]) << "frame " << i << " differs";
  }
  EXPECT_TRUE(Eventually([&] { return a_->QueuedBytes(2) == 0; }));
}

TEST(PeerTransport, SendRefusesAFrameOverTheLimitAndAnUnknownPeer) {
  TestReceiver receiver_a;
  TestReceiver receiver_b;
  PeerTransportOptions options = TestOptions(1);
  options.frame_bytes_max = 1024;
  options.queue_bytes_max = 1 << 20;
  auto a = MustStart(options, &receiver_a);
  auto b = MustStart(TestOptions(2), &receiver_b);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(a->Send(2, "no such peer yet"));
  a->SetPeer(2, Address(b->port()));
  EXPECT_FALSE(a->Send(2, std::string(1025, 'o')));
  PeerPayload pieces("o");  // the limit counts shared pieces too: 1 + 1024 bytes
  pieces.AppendShared(std::string(1024, 'o'));
  EXPECT_FALSE(a->Send(2, std::move(pieces)));
  EXPECT_TRUE(a->Send(2, std::string(1024, 'i')));
  ASSERT_TRUE(receiver_b.WaitFrames(1));
  EXPECT_EQ(receiver_b.frames()[0].bytes.size(), 1024u);
  a->Stop();
  b->Stop();
  EXPECT_EQ(receiver_b.frame_count(), 1u);
}

TEST(PeerTransport, DamagedFrameClosesTheConnectionAndDeliversNothing) {
  std::string bad_crc = EncodePeerFrame("payload");
  bad_crc[kPeerFrameHeaderBytes] ^= 0x40;
  std::string bad_magic = EncodePeerFrame("payload");
  bad_magic[1] = '?';
  std::string huge_length = EncodePeerFrame("");
  EncodeFixed32(huge_length.data() + 4, 0xFFFFFFFFu);  // and no payload follows
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bad checksum", bad_crc}, {"bad magic", bad_magic}, {"huge length", huge_length}};
  for (const auto& [name, damaged] : cases) {
    SCOPED_TRACE(name);
    TestReceiver receiver;
    auto server = MustStart(TestOptions(2), &receiver);
    ASSERT_NE(server, nullptr);
    RawClient client(server->port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.Hello("node:9") && client.Send(damaged + EncodePeerFrame("after")));
    EXPECT_TRUE(client.WaitClosed());
    server->Stop();
    EXPECT_EQ(receiver.hellos(), 1u);
    EXPECT_EQ(receiver.frame_count(), 0u);
  }
}

TEST_F(PeerTransportServer, BytesOtherThanAHelloWithinItsLimitCloseTheConnection) {
  ASSERT_TRUE(StartServer());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"an HTTP request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"a hello over the limit", EncodePeerFrame(std::string(kPeerHelloBytesMax + 1, 'h'))}};
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(name);
    RawClient client(server_->port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.Send(bytes));
    EXPECT_TRUE(client.WaitClosed());
  }
  server_->Stop();
  EXPECT_EQ(receiver_.hellos(), 0u);
}

TEST_F(PeerTransportServer, SilentConnectionIsClosedAfterTheHelloTimeout) {
  PeerTransportOptions options = TestOptions(2);
  options.hello_timeout = milliseconds(50);
  ASSERT_TRUE(StartServer(options));
  RawClient client(server_->port());
  ASSERT_TRUE(client.connected());
  EXPECT_TRUE(client.WaitClosed());
  server_->Stop();
  EXPECT_EQ(receiver_.hellos(), 0u);
}

TEST_F(PeerTransportServer, InboundConnectionsBeyondTheLimitAreClosed) {
  PeerTransportOptions options = TestOptions(2);
  options.inbound_connections_max = 1;
  ASSERT_TRUE(StartServer(options));
  RawClient first(server_->port());
  ASSERT_TRUE(first.Hello("node:7"));
  ASSERT_TRUE(receiver_.WaitHellos(1));
  RawClient second(server_->port());
  EXPECT_TRUE(second.WaitClosed());
  ASSERT_TRUE(first.Send(EncodePeerFrame("still served")));
  ASSERT_TRUE(receiver_.WaitFrames(1));
  EXPECT_EQ(receiver_.frames()[0].from, 7u);
  server_->Stop();
  EXPECT_EQ(receiver_.hellos(), 1u);
}

TEST_F(PeerTransportServer, NewConnectionFromTheSamePeerClosesTheOlderOne) {
  ASSERT_TRUE(StartServer());
  RawClient older(server_->port());
  ASSERT_TRUE(older.Hello("node:7"));
  ASSERT_TRUE(receiver_.WaitHellos(1));
  RawClient newer(server_->port());
  ASSERT_TRUE(newer.Hello("node:7"));
  EXPECT_TRUE(older.WaitClosed());
  ASSERT_TRUE(newer.Send(EncodePeerFrame("via newer")));
  ASSERT_TRUE(receiver_.WaitFrames(1));
  EXPECT_EQ(receiver_.frames()[0].bytes, "via newer");
  server_->Stop();
}

// The receiver (node/) closes the connection of a peer whose intact frame it cannot decode.
TEST_F(PeerTransportServer, CloseInboundClosesThatPeersConnectionOnly) {
  ASSERT_TRUE(StartServer());
  RawClient seven(server_->port());
  RawClient eight(server_->port());
  ASSERT_TRUE(seven.Hello("node:7") && seven.Send(EncodePeerFrame("from 7")));
  ASSERT_TRUE(eight.Hello("node:8") && eight.Send(EncodePeerFrame("from 8")));
  ASSERT_TRUE(receiver_.WaitFrames(2));  // both connections speak for their peers now
  server_->CloseInbound(99, "no such peer: nothing happens");
  server_->CloseInbound(7, "test: a payload that does not decode");
  EXPECT_TRUE(seven.WaitClosed());
  ASSERT_TRUE(eight.Send(EncodePeerFrame("8 again")));
  ASSERT_TRUE(receiver_.WaitFrames(3));
  EXPECT_EQ(receiver_.frames()[2].bytes, "8 again");
  server_->Stop();
}

TEST(PeerTransport, RestartedPeerIsRedialledAndLaterFramesArrive) {
  TestReceiver receiver_a;
  TestReceiver receiver_b;
  auto a = MustStart(TestOptions(1), &receiver_a);
  auto b = MustStart(TestOptions(2), &receiver_b);
  ASSERT_TRUE(a && b);
  const uint16_t port_b = b->port();
  a->SetPeer(2, Address(port_b));
  ASSERT_TRUE(a->Send(2, "before"));
  ASSERT_TRUE(receiver_b.WaitFrames(1));
  b->Stop();
  b.reset();

  TestReceiver receiver_b2;
  PeerTransportOptions options_b2 = TestOptions(2);
  options_b2.listen_port = port_b;
  auto b2 = MustStart(options_b2, &receiver_b2);
  ASSERT_NE(b2, nullptr);
  // The hello at b2 means a holds its new connection; frames sent from now on go over it.
  ASSERT_TRUE(receiver_b2.WaitHellos(1));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(a->Send(2, NumberedFrame(i)));
  ASSERT_TRUE(receiver_b2.WaitFrames(100));
  const auto got = receiver_b2.frames();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[i].bytes, NumberedFrame(i));
  a->Stop();
  b2->Stop();
}

TEST(PeerTransport, FullQueueDropsWhileThePeerIsDown) {
  TestReceiver receiver;
  PeerTransportOptions options = TestOptions(1);
  options.queue_frames_max = 4;
  options.frame_bytes_max = 100;
  options.queue_bytes_max = 250;
  auto a = MustStart(options, &receiver);
  ASSERT_NE(a, nullptr);
  a->SetPeer(2, Address(FreePort()));
  a->SetPeer(3, Address(FreePort()));
  // Frame limit: four frames fit, the fifth is dropped.
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(a->Send(2, "f")) << i;
  EXPECT_FALSE(a->Send(2, "f"));
  EXPECT_EQ(a->QueuedBytes(2), 4u);
  // Byte limit: 100 + 100 fit in 250 bytes, another 100 does not, 50 still does.
  EXPECT_TRUE(a->Send(3, std::string(100, 'b')));
  EXPECT_TRUE(a->Send(3, std::string(100, 'b')));
  EXPECT_FALSE(a->Send(3, std::string(100, 'b')));
  EXPECT_TRUE(a->Send(3, std::string(50, 'b')));
  EXPECT_EQ(a->QueuedBytes(3), 250u);
  // A frame of shared pieces counts all its payload bytes.
  a->SetPeer(4, Address(FreePort()));
  PeerPayload pieces(std::string(10, 'h'));
  pieces.AppendShared(std::string(90, 's'));
  EXPECT_TRUE(a->Send(4, std::move(pieces)));
  EXPECT_EQ(a->QueuedBytes(4), 100u);
  EXPECT_FALSE(a->Connected(2));
  a->Stop();
}

TEST(PeerTransport, FramesQueuedWhileThePeerIsDownDrainOnceItComesUp) {
  TestReceiver receiver_a;
  TestReceiver receiver_b;
  auto a = MustStart(TestOptions(1), &receiver_a);
  ASSERT_NE(a, nullptr);
  const uint16_t port_b = FreePort();
  a->SetPeer(2, Address(port_b));
  size_t queued = 0;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(a->Send(2, NumberedFrame(i)));
    queued += NumberedFrame(i).size();
  }
  EXPECT_EQ(a->QueuedBytes(2), queued);
  PeerTransportOptions options_b = TestOptions(2);
  options_b.listen_port = port_b;
  auto b = MustStart(options_b, &receiver_b);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(receiver_b.WaitFrames(50));
  EXPECT_TRUE(Eventually([&] { return a->QueuedBytes(2) == 0; }));
  EXPECT_TRUE(a->Connected(2));
  const auto got = receiver_b.frames();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(got[i].bytes, NumberedFrame(i));
  a->Stop();
  b->Stop();
}

TEST(PeerTransport, ChangedAddressClosesTheOldLinkAndDialsTheNewOne) {
  TestReceiver receiver_a;
  TestReceiver receiver_b;
  TestReceiver receiver_c;
  auto a = MustStart(TestOptions(1), &receiver_a);
  auto b = MustStart(TestOptions(2), &receiver_b);
  auto c = MustStart(TestOptions(2), &receiver_c);
  ASSERT_TRUE(a && b && c);
  a->SetPeer(2, Address(b->port()));
  a->SetPeer(2, Address(b->port()));  // idempotent: no second connection
  ASSERT_TRUE(a->Send(2, "to b"));
  ASSERT_TRUE(receiver_b.WaitFrames(1));
  a->SetPeer(2, Address(c->port()));
  ASSERT_TRUE(receiver_c.WaitHellos(1));
  ASSERT_TRUE(a->Send(2, "to c"));
  ASSERT_TRUE(receiver_c.WaitFrames(1));
  a->Stop();
  b->Stop();
  c->Stop();
  EXPECT_EQ(receiver_b.hellos(), 1u);
  EXPECT_EQ(receiver_b.frame_count(), 1u);
  EXPECT_EQ(receiver_c.frames()[0].bytes, "to c");
}

TEST(PeerTransport, HostNameAddressIsResolvedAndDialled) {
  TestReceiver receiver_a;
  TestReceiver receiver_b;
  auto a = MustStart(TestOptions(1), &receiver_a);
  auto b = MustStart(TestOptions(2), &receiver_b);
  ASSERT_TRUE(a && b);
  a->SetPeer(2, fmt::format("localhost:{}", b->port()));
  ASSERT_TRUE(a->Send(2, "resolved"));
  ASSERT_TRUE(receiver_b.WaitFrames(1));
  EXPECT_EQ(receiver_b.frames()[0].bytes, "resolved");
  a->Stop();
  b->Stop();
}

TEST(PeerTransport, MalformedAddressIsNotDialledUntilCorrectedAndTheQueueIsKept) {
  TestReceiver receiver_a;
  TestReceiver receiver_b;
  auto a = MustStart(TestOptions(1), &receiver_a);
  auto b = MustStart(TestOptions(2), &receiver_b);
  ASSERT_TRUE(a && b);
  for (const char* bad : {"no-port", "host:", ":123", "host:99999", "host:12x"}) {
    a->SetPeer(2, bad);
    EXPECT_TRUE(a->Send(2, bad)) << bad;
    EXPECT_FALSE(a->Connected(2)) << bad;
  }
  a->SetPeer(2, Address(b->port()));
  ASSERT_TRUE(receiver_b.WaitFrames(5));
  EXPECT_EQ(receiver_b.frames()[0].bytes, "no-port");
  EXPECT_EQ(receiver_b.frames()[4].bytes, "host:12x");
  a->Stop();
  b->Stop();
}

TEST(PeerTransport, RemovedPeerRefusesSendsAndHoldsNoQueue) {
  TestReceiver receiver;
  auto a = MustStart(TestOptions(1), &receiver);
  ASSERT_NE(a, nullptr);
  a->SetPeer(2, Address(FreePort()));
  ASSERT_TRUE(a->Send(2, "queued"));
  EXPECT_EQ(a->QueuedBytes(2), 6u);
  a->RemovePeer(2);
  EXPECT_EQ(a->QueuedBytes(2), 0u);
  EXPECT_FALSE(a->Send(2, "gone"));
  a->RemovePeer(2);  // no-op
  a->Stop();
}

TEST_F(PeerTransportPair, StopWithTrafficInFlightIsSafeAndSendFailsAfterwards) {
  ASSERT_TRUE(StartPair());
  b_->SetPeer(1, Address(a_->port()));
  std::atomic<bool> done{false};
  std::vector<std::thread> senders;
  senders.reserve(2);
  for (int t = 0; t < 2; ++t) {
    senders.emplace_back([&, t] {
      const std::string frame(1000, static_cast<char>('a' + t));
      for (int i = 0; i < 1'000'000 && !done; ++i) {
        (void)a_->Send(2, frame);  // a full queue drops: fine here
        (void)b_->Send(1, frame);
      }
    });
  }
  ASSERT_TRUE(receiver_b_.WaitFrames(100));
  b_->Stop();
  a_->Stop();
  a_->Stop();  // idempotent
  done = true;
  for (std::thread& t : senders) t.join();
  EXPECT_FALSE(a_->Send(2, "after stop"));
  EXPECT_EQ(a_->QueuedBytes(2), 0u);
  EXPECT_FALSE(a_->Connected(2));
  const size_t delivered = receiver_b_.frame_count();
  a_.reset();
  b_.reset();
  EXPECT_EQ(receiver_b_.frame_count(), delivered);  // nothing is delivered after Stop
}
}  // namespace
}  // namespace nds::net
