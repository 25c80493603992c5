// Goal: the peer transport keeps its contract (peer_transport.h, docs/formats/peer.md): frames
// arrive intact and in order, the hello gates a connection, every limit (frame size, queue
// frames and bytes, inbound connections, hello time) is enforced, damaged bytes close the
// connection without delivering anything, and lost peers are redialled. Method: the frame codec
// is tested on its own (PeerTransportFrame.*); the transport runs on real sockets on 127.0.0.1
// with ports picked by the kernel, between two transports or against a raw POSIX client writing
// exact bytes. Every wait is on a condition with a generous bound (kWaitBound); no test asserts
// a duration.
#include "net/peer_transport.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
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
#include "net/raw_peer_client.h"
#include "util/coding.h"

namespace nds::net {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr auto kWaitBound = std::chrono::seconds(30);

// Polls `done` until it holds or kWaitBound passes; returns whether it held. For transport state
// that has no notification (Connected, QueuedBytes).
bool Eventually(const std::function<bool()>& done) {
  const Clock::time_point deadline = Clock::now() + kWaitBound;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

// Records hellos and frames. Accepts a hello "node:<id>" (unless told to reject all); rejects
// anything else.
class TestReceiver : public PeerReceiver {
 public:
  struct Frame {
    uint64_t from;
    std::string bytes;
  };

  Result<uint64_t> OnHello(std::string_view hello) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++hellos_;
    cv_.notify_all();
    if (reject_all_) return Unavailable("this receiver rejects every hello");
    uint64_t id = 0;
    if (!hello.starts_with("node:")) return InvalidArgument("not a node hello");
    const char* end = hello.data() + hello.size();
    auto [ptr, ec] = std::from_chars(hello.data() + 5, end, id);
    if (ec != std::errc() || ptr != end) return InvalidArgument("bad node id");
    return id;
  }

  void OnFrame(uint64_t from, std::string frame) override {
    std::lock_guard<std::mutex> lock(mu_);
    frames_.push_back({from, std::move(frame)});
    cv_.notify_all();
  }

  void set_reject_all(bool reject) {
    std::lock_guard<std::mutex> lock(mu_);
    reject_all_ = reject;
  }
  // Waits until at least `count` frames arrived; returns whether they did within kWaitBound.
  bool WaitFrames(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWaitBound, [&] { return frames_.size() >= count; });
  }
  bool WaitHellos(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWaitBound, [&] { return hellos_ >= count; });
  }
  std::vector<Frame> frames() const {
    std::lock_guard<std::mutex> lock(mu_);
    return frames_;
  }
  size_t frame_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return frames_.size();
  }
  size_t hellos() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hellos_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool reject_all_ = false;
  size_t hellos_ = 0;
  std::vector<Frame> frames_;
};

// The secret the test transports share.
const std::string kTestSecret(32, 'k');

// A blocking POSIX TCP client that writes exact bytes, runs the handshake as a dialer would, and
// watches for the server to close.
class RawClient {
 public:
  explicit RawClient(uint16_t port) { connected_ = peer_.Connect(port); }

  bool connected() const { return connected_; }
  bool Send(std::string_view bytes) { return peer_.Send(bytes); }
  // The handshake with `hello` and `secret`; true when the acceptor proved it holds `secret`.
  bool Hello(std::string_view hello, std::string_view secret = kTestSecret) {
    return peer_.RunHandshake(secret, hello) == RawPeerClient::Handshake::kAcceptorProven;
  }
  // Waits (bounded) until the server closes the connection; returns whether it did.
  bool WaitClosed() { return peer_.ClosedByPeer(kWaitBound); }
  RawPeerClient& peer() { return peer_; }

 private:
  RawPeerClient peer_;
  bool connected_ = false;
};

PeerTransportOptions TestOptions(uint64_t id) {
  PeerTransportOptions options;
  options.listen_address = "127.0.0.1";
  options.listen_port = 0;
  options.threads = 2;
  options.backoff_min = milliseconds(5);
  options.backoff_max = milliseconds(50);
  options.hello = fmt::format("node:{}", id);
  options.secret = kTestSecret;
  return options;
}

std::unique_ptr<PeerTransport> MustStart(const PeerTransportOptions& options,
                                         PeerReceiver* receiver) {
  auto started = PeerTransport::Start(options, receiver);
  EXPECT_TRUE(started.ok()) << started.status().ToString();
  return started.ok() ? std::move(started).value() : nullptr;
}

std::string Address(uint16_t port) { return fmt::format("127.0.0.1:{}", port); }

// Frame i: its number then a filler of varying length, so frame boundaries move around reads.
std::string NumberedFrame(size_t i) { return fmt::format("{}|{}", i, std::string(i % 300, 'x')); }

// ---- The frame codec on its own ----

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

// ---- The transport on real sockets ----

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

TEST(PeerTransport, TwoTransportsExchangeManyFramesInOrderBothWays) {
  constexpr size_t kFrames = 20'000;
  TestReceiver receiver_a;
  TestReceiver receiver_b;
  PeerTransportOptions options_a = TestOptions(1);
  PeerTransportOptions options_b = TestOptions(2);
  options_a.queue_frames_max = options_b.queue_frames_max = kFrames;
  auto a = MustStart(options_a, &receiver_a);
  auto b = MustStart(options_b, &receiver_b);
  ASSERT_TRUE(a && b);
  a->SetPeer(2, Address(b->port()));
  b->SetPeer(1, Address(a->port()));
  for (size_t i = 0; i < kFrames; ++i) {
    ASSERT_TRUE(a->Send(2, NumberedFrame(i)));
    ASSERT_TRUE(b->Send(1, NumberedFrame(i)));
  }
  ASSERT_TRUE(receiver_b.WaitFrames(kFrames)) << receiver_b.frame_count();
  ASSERT_TRUE(receiver_a.WaitFrames(kFrames)) << receiver_a.frame_count();
  const auto at_b = receiver_b.frames();
  const auto at_a = receiver_a.frames();
  ASSERT_EQ(at_b.size(), kFrames);
  ASSERT_EQ(at_a.size(), kFrames);
  for (size_t i = 0; i < kFrames; ++i) {
    ASSERT_EQ(at_b[i].from, 1u);
    ASSERT_EQ(at_b[i].bytes, NumberedFrame(i)) << i;
    ASSERT_EQ(at_a[i].from, 2u);
    ASSERT_EQ(at_a[i].bytes, NumberedFrame(i)) << i;
  }
  EXPECT_TRUE(Eventually([&] { return a->QueuedBytes(2) == 0 && b->QueuedBytes(1) == 0; }));
  EXPECT_EQ(receiver_b.hellos(), 1u);
  EXPECT_EQ(receiver_a.hellos(), 1u);
  a->Stop();
  b->Stop();
}

TEST(PeerTransport, RejectedHelloDeliversNoFrames) {
  TestReceiver receiver_a;
  TestReceiver receiver_b;
  receiver_b.set_reject_all(true);
  auto a = MustStart(TestOptions(1), &receiver_a);
  auto b = MustStart(TestOptions(2), &receiver_b);
  ASSERT_TRUE(a && b);
  a->SetPeer(2, Address(b->port()));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(a->Send(2, "must not arrive"));
  // The link is redialled and rejected again and again: wait for several rounds.
  ASSERT_TRUE(receiver_b.WaitHellos(3));
  b->Stop();  // joins b's threads: every frame b read has been handled
  EXPECT_EQ(receiver_b.frame_count(), 0u);
  a->Stop();
}

TEST(PeerTransport, LargeFramesArriveIntact) {
  constexpr size_t kBig = 8 << 20;
  TestReceiver receiver_a;
  TestReceiver receiver_b;
  auto a = MustStart(TestOptions(1), &receiver_a);
  auto b = MustStart(TestOptions(2), &receiver_b);
  ASSERT_TRUE(a && b);
  a->SetPeer(2, Address(b->port()));
  std::vector<std::string> sent;
  for (int k = 0; k < 3; ++k) {
    std::string frame(kBig, '\0');
    for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<char>((i * 131 + k) >> 3);
    sent.push_back(frame);
    ASSERT_TRUE(a->Send(2, std::move(frame)));
    ASSERT_TRUE(a->Send(2, "small"));
  }
  ASSERT_TRUE(receiver_b.WaitFrames(6));
  const auto got = receiver_b.frames();
  for (int k = 0; k < 3; ++k) {
    EXPECT_TRUE(got[2 * k].bytes == sent[k]) << "big frame " << k << " differs";
    EXPECT_EQ(got[2 * k + 1].bytes, "small");
  }
  a->Stop();
  b->Stop();
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

TEST(PeerTransport, NonPeerBytesBeforeTheHelloCloseTheConnection) {
  TestReceiver receiver;
  auto server = MustStart(TestOptions(2), &receiver);
  ASSERT_NE(server, nullptr);
  RawClient client(server->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(client.WaitClosed());
  server->Stop();
  EXPECT_EQ(receiver.hellos(), 0u);
}

TEST(PeerTransport, HelloLargerThanTheHelloLimitClosesTheConnection) {
  TestReceiver receiver;
  auto server = MustStart(TestOptions(2), &receiver);
  ASSERT_NE(server, nullptr);
  RawClient client(server->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(EncodePeerFrame(std::string(kPeerHelloBytesMax + 1, 'h'))));
  EXPECT_TRUE(client.WaitClosed());
  server->Stop();
  EXPECT_EQ(receiver.hellos(), 0u);
}

TEST(PeerTransport, SilentConnectionIsClosedAfterTheHelloTimeout) {
  TestReceiver receiver;
  PeerTransportOptions options = TestOptions(2);
  options.hello_timeout = milliseconds(50);
  auto server = MustStart(options, &receiver);
  ASSERT_NE(server, nullptr);
  RawClient client(server->port());
  ASSERT_TRUE(client.connected());
  EXPECT_TRUE(client.WaitClosed());
  server->Stop();
  EXPECT_EQ(receiver.hellos(), 0u);
}

TEST(PeerTransport, InboundConnectionsBeyondTheLimitAreClosed) {
  TestReceiver receiver;
  PeerTransportOptions options = TestOptions(2);
  options.inbound_connections_max = 1;
  auto server = MustStart(options, &receiver);
  ASSERT_NE(server, nullptr);
  RawClient first(server->port());
  ASSERT_TRUE(first.Hello("node:7"));
  ASSERT_TRUE(receiver.WaitHellos(1));
  RawClient second(server->port());
  EXPECT_TRUE(second.WaitClosed());
  ASSERT_TRUE(first.Send(EncodePeerFrame("still served")));
  ASSERT_TRUE(receiver.WaitFrames(1));
  EXPECT_EQ(receiver.frames()[0].from, 7u);
  server->Stop();
  EXPECT_EQ(receiver.hellos(), 1u);
}

TEST(PeerTransport, NewConnectionFromTheSamePeerClosesTheOlderOne) {
  TestReceiver receiver;
  auto server = MustStart(TestOptions(2), &receiver);
  ASSERT_NE(server, nullptr);
  RawClient older(server->port());
  ASSERT_TRUE(older.Hello("node:7"));
  ASSERT_TRUE(receiver.WaitHellos(1));
  RawClient newer(server->port());
  ASSERT_TRUE(newer.Hello("node:7"));
  EXPECT_TRUE(older.WaitClosed());
  ASSERT_TRUE(newer.Send(EncodePeerFrame("via newer")));
  ASSERT_TRUE(receiver.WaitFrames(1));
  EXPECT_EQ(receiver.frames()[0].bytes, "via newer");
  server->Stop();
}

// The receiver (node/) closes the connection of a peer whose intact frame it cannot decode.
TEST(PeerTransport, CloseInboundClosesThatPeersConnectionOnly) {
  TestReceiver receiver;
  auto server = MustStart(TestOptions(2), &receiver);
  ASSERT_NE(server, nullptr);
  RawClient seven(server->port());
  RawClient eight(server->port());
  ASSERT_TRUE(seven.Hello("node:7") && seven.Send(EncodePeerFrame("from 7")));
  ASSERT_TRUE(eight.Hello("node:8") && eight.Send(EncodePeerFrame("from 8")));
  ASSERT_TRUE(receiver.WaitFrames(2));  // both connections speak for their peers now
  server->CloseInbound(99, "no such peer: nothing happens");
  server->CloseInbound(7, "test: a payload that does not decode");
  EXPECT_TRUE(seven.WaitClosed());
  ASSERT_TRUE(eight.Send(EncodePeerFrame("8 again")));
  ASSERT_TRUE(receiver.WaitFrames(3));
  EXPECT_EQ(receiver.frames()[2].bytes, "8 again");
  server->Stop();
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

TEST(PeerTransport, StopWithTrafficInFlightIsSafeAndSendFailsAfterwards) {
  TestReceiver receiver_a;
  TestReceiver receiver_b;
  auto a = MustStart(TestOptions(1), &receiver_a);
  auto b = MustStart(TestOptions(2), &receiver_b);
  ASSERT_TRUE(a && b);
  a->SetPeer(2, Address(b->port()));
  b->SetPeer(1, Address(a->port()));
  std::atomic<bool> done{false};
  std::vector<std::thread> senders;
  for (int t = 0; t < 2; ++t) {
    senders.emplace_back([&, t] {
      const std::string frame(1000, static_cast<char>('a' + t));
      for (int i = 0; i < 1'000'000 && !done; ++i) {
        (void)a->Send(2, frame);  // a full queue drops: fine here
        (void)b->Send(1, frame);
      }
    });
  }
  ASSERT_TRUE(receiver_b.WaitFrames(100));
  b->Stop();
  a->Stop();
  a->Stop();  // idempotent
  done = true;
  for (std::thread& t : senders) t.join();
  EXPECT_FALSE(a->Send(2, "after stop"));
  EXPECT_EQ(a->QueuedBytes(2), 0u);
  EXPECT_FALSE(a->Connected(2));
  const size_t delivered = receiver_b.frame_count();
  a.reset();
  b.reset();
  EXPECT_EQ(receiver_b.frame_count(), delivered);  // nothing is delivered after Stop
}

// ---- The handshake ----

// A listening socket on 127.0.0.1 that plays the acceptor by hand.
class RawListener {
 public:
  RawListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::listen(fd_, 4) == 0 && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port_ = ntohs(a.sin_port);
    }
  }
  ~RawListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }
  // The next connection, or -1 after kWaitBound.
  int Accept() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(milliseconds(kWaitBound).count())) <= 0) return -1;
    return ::accept(fd_, nullptr, nullptr);
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST(PeerHandshake, FramesRoundTripAndMalformedStepsAreRefused) {
  const std::string nonce(kPeerNonceBytes, 'n');
  const std::string proof(kPeerProofBytes, 'p');
  Result<HandshakeHello> hello = DecodeHandshakeHello(EncodeHandshakeHello({nonce, "node:3"}));
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(hello->nonce, nonce);
  EXPECT_EQ(hello->hello, "node:3");
  Result<HandshakeChallenge> challenge =
      DecodeHandshakeChallenge(EncodeHandshakeChallenge({nonce, proof}));
  ASSERT_TRUE(challenge.ok());
  EXPECT_EQ(challenge->proof, proof);
  EXPECT_EQ(*DecodeHandshakeProof(EncodeHandshakeProof(proof)), proof);
  // A step in the place of another, a short nonce or proof, a bare hello of the old protocol.
  EXPECT_FALSE(DecodeHandshakeProof(EncodeHandshakeHello({nonce, ""})).ok());
  EXPECT_FALSE(DecodeHandshakeHello(EncodeHandshakeProof(proof)).ok());
  EXPECT_FALSE(DecodeHandshakeHello(EncodeHandshakeHello({"", ""}).substr(0, 20)).ok());
  EXPECT_FALSE(DecodeHandshakeProof(EncodeHandshakeProof(proof.substr(1))).ok());
  EXPECT_FALSE(DecodeHandshakeChallenge(EncodeHandshakeChallenge({nonce, proof + "x"})).ok());
  EXPECT_FALSE(DecodeHandshakeHello("node:3").ok());
}

TEST(PeerHandshake, AProofBindsTheSecretTheRoleBothNoncesAndTheHello) {
  const std::string d(kPeerNonceBytes, 'd');
  const std::string a(kPeerNonceBytes, 'a');
  const std::string proof = *HandshakeProof(kTestSecret, HandshakeRole::kDialler, d, a, "node:3");
  EXPECT_TRUE(*VerifyHandshakeProof(kTestSecret, HandshakeRole::kDialler, d, a, "node:3", proof));
  const std::string other_secret(32, 'o');
  EXPECT_FALSE(*VerifyHandshakeProof(other_secret, HandshakeRole::kDialler, d, a, "node:3", proof));
  EXPECT_FALSE(*VerifyHandshakeProof(kTestSecret, HandshakeRole::kAcceptor, d, a, "node:3", proof));
  EXPECT_FALSE(*VerifyHandshakeProof(kTestSecret, HandshakeRole::kDialler, a, d, "node:3", proof));
  std::string other_nonce = a;
  other_nonce[5] ^= 1;
  EXPECT_FALSE(
      *VerifyHandshakeProof(kTestSecret, HandshakeRole::kDialler, d, other_nonce, "node:3", proof));
  EXPECT_FALSE(*VerifyHandshakeProof(kTestSecret, HandshakeRole::kDialler, d, a, "node:4", proof));
  EXPECT_FALSE(*VerifyHandshakeProof(kTestSecret, HandshakeRole::kDialler, d, a, "node:3",
                                     proof.substr(0, 31)));
}

TEST(PeerHandshake, StartRefusesAShortSecret) {
  TestReceiver receiver;
  PeerTransportOptions options = TestOptions(1);
  options.secret = std::string(kPeerSecretBytesMin - 1, 's');
  EXPECT_EQ(PeerTransport::Start(options, &receiver).status().code(), StatusCode::kInvalidArgument);
}

TEST(PeerHandshake, ADialerWithTheWrongSecretIsClosedBeforeAnyFrameIsRead) {
  TestReceiver receiver;
  auto server = MustStart(TestOptions(2), &receiver);
  ASSERT_NE(server, nullptr);
  RawClient impostor(server->port());
  ASSERT_TRUE(impostor.connected());
  // The impostor also learns that the acceptor does not hold its secret.
  EXPECT_EQ(impostor.peer().RunHandshake(std::string(32, 'w'), "node:7"),
            RawPeerClient::Handshake::kAcceptorUnproven);
  ASSERT_TRUE(impostor.Send(EncodePeerFrame("forged")));
  EXPECT_TRUE(impostor.WaitClosed());
  // Control: the right secret on the same server gets in.
  RawClient member(server->port());
  ASSERT_TRUE(member.Hello("node:8") && member.Send(EncodePeerFrame("real")));
  ASSERT_TRUE(receiver.WaitFrames(1));
  server->Stop();
  EXPECT_EQ(receiver.hellos(), 1u);
  ASSERT_EQ(receiver.frame_count(), 1u);
  EXPECT_EQ(receiver.frames()[0].bytes, "real");
  EXPECT_EQ(receiver.frames()[0].from, 8u);
}

TEST(PeerHandshake, ReplayingACapturedConnectionGetsNothingIn) {
  TestReceiver receiver;
  auto server = MustStart(TestOptions(2), &receiver);
  ASSERT_NE(server, nullptr);
  RawClient member(server->port());
  ASSERT_TRUE(member.Hello("node:7") && member.Send(EncodePeerFrame("once")));
  ASSERT_TRUE(receiver.WaitFrames(1));
  const std::string captured = member.peer().sent();  // hello, proof, frame
  RawClient replayer(server->port());
  ASSERT_TRUE(replayer.Send(captured));
  EXPECT_TRUE(replayer.WaitClosed());
  // The real member's connection was not displaced by the replay.
  ASSERT_TRUE(member.Send(EncodePeerFrame("twice")));
  ASSERT_TRUE(receiver.WaitFrames(2));
  server->Stop();
  EXPECT_EQ(receiver.hellos(), 1u);
  ASSERT_EQ(receiver.frame_count(), 2u);
  EXPECT_EQ(receiver.frames()[1].bytes, "twice");
}

TEST(PeerHandshake, AnUnauthenticatedClaimDoesNotDisplaceTheMembersConnection) {
  TestReceiver receiver;
  auto server = MustStart(TestOptions(2), &receiver);
  ASSERT_NE(server, nullptr);
  RawClient member(server->port());
  ASSERT_TRUE(member.Hello("node:7"));
  ASSERT_TRUE(receiver.WaitHellos(1));
  RawClient impostor(server->port());
  (void)impostor.Hello("node:7", std::string(32, 'w'));
  EXPECT_TRUE(impostor.WaitClosed());
  ASSERT_TRUE(member.Send(EncodePeerFrame("still here")));
  ASSERT_TRUE(receiver.WaitFrames(1));
  server->Stop();
  EXPECT_EQ(receiver.frames()[0].bytes, "still here");
  EXPECT_EQ(receiver.hellos(), 1u);
}

// Plays the acceptor by hand for a transport's dial: reads its hello, answers with a challenge
// proven with `acceptor_secret`, and returns the frames the dialer sends after it until it closes
// or goes quiet.
std::vector<std::string> FramesAfterChallenge(const std::string& acceptor_secret, bool* closed) {
  TestReceiver receiver;
  auto dialer = MustStart(TestOptions(1), &receiver);
  EXPECT_NE(dialer, nullptr);
  if (dialer == nullptr) return {};
  RawListener acceptor;
  dialer->SetPeer(9, Address(acceptor.port()));
  EXPECT_TRUE(dialer->Send(9, "raft traffic"));
  RawPeerClient conn;
  conn.Adopt(acceptor.Accept());
  std::optional<std::string> first = conn.ReadFrame(kWaitBound);
  EXPECT_TRUE(first.has_value());
  if (!first) return {};
  Result<HandshakeHello> hello = DecodeHandshakeHello(*first);
  EXPECT_TRUE(hello.ok());
  if (!hello.ok()) return {};
  EXPECT_EQ(hello->hello, "node:1");
  const std::string nonce = *NewHandshakeNonce();
  const std::string proof =
      *HandshakeProof(acceptor_secret, HandshakeRole::kAcceptor, hello->nonce, nonce, hello->hello);
  EXPECT_TRUE(conn.SendFrame(EncodeHandshakeChallenge({nonce, proof})));
  std::vector<std::string> after;
  while (std::optional<std::string> frame = conn.ReadFrame(milliseconds(2000))) {
    after.push_back(*frame);
    if (after.size() == 2) break;
  }
  *closed = after.empty() && conn.ClosedByPeer(kWaitBound);
  EXPECT_FALSE(after.empty() && dialer->Connected(9));
  dialer->Stop();
  return after;
}

TEST(PeerHandshake, TheDialerSendsNothingToAnAcceptorThatCannotProveItself) {
  bool closed = false;
  EXPECT_TRUE(FramesAfterChallenge(std::string(32, 'w'), &closed).empty());
  EXPECT_TRUE(closed) << "the dialer kept a connection to an acceptor without the secret";
  // Control: the same exchange with the right secret gets the proof and then the frame.
  std::vector<std::string> after = FramesAfterChallenge(kTestSecret, &closed);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_TRUE(DecodeHandshakeProof(after[0]).ok());
  EXPECT_EQ(after[1], "raft traffic");
}

}  // namespace
}  // namespace nds::net
