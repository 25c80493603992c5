// Goal: the peer handshake (peer_handshake.h, docs/formats/peer.md) lets in only a dialer that
// proves the cluster secret, binds each proof to both nonces, the role and the hello, and makes a
// dialer send nothing to an acceptor that cannot prove itself. Method: the handshake frames on
// their own, then real transports on 127.0.0.1 against a raw client or a raw listener playing the
// other side by hand; every wait is bounded (kWaitBound).
#include "net/peer_handshake.h"

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
#include "net/peer_transport_for_test.h"
#include "net/raw_peer_client.h"
#include "util/coding.h"

namespace nds::net {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

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

// A transport that a test's raw clients dial (peer_transport_for_test.h).
class PeerHandshakeServer : public PeerServerFixture {};

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

TEST_F(PeerHandshakeServer, ADialerWithTheWrongSecretIsClosedBeforeAnyFrameIsRead) {
  ASSERT_TRUE(StartServer());
  RawClient impostor(server_->port());
  ASSERT_TRUE(impostor.connected());
  // The impostor also learns that the acceptor does not hold its secret.
  EXPECT_EQ(impostor.peer().RunHandshake(std::string(32, 'w'), "node:7"),
            RawPeerClient::Handshake::kAcceptorUnproven);
  ASSERT_TRUE(impostor.Send(EncodePeerFrame("forged")));
  EXPECT_TRUE(impostor.WaitClosed());
  // Control: the right secret on the same server_ gets in.
  RawClient member(server_->port());
  ASSERT_TRUE(member.Hello("node:8") && member.Send(EncodePeerFrame("real")));
  ASSERT_TRUE(receiver_.WaitFrames(1));
  server_->Stop();
  EXPECT_EQ(receiver_.hellos(), 1u);
  ASSERT_EQ(receiver_.frame_count(), 1u);
  EXPECT_EQ(receiver_.frames()[0].bytes, "real");
  EXPECT_EQ(receiver_.frames()[0].from, 8u);
}

TEST_F(PeerHandshakeServer, ReplayingACapturedConnectionGetsNothingIn) {
  ASSERT_TRUE(StartServer());
  RawClient member(server_->port());
  ASSERT_TRUE(member.Hello("node:7") && member.Send(EncodePeerFrame("once")));
  ASSERT_TRUE(receiver_.WaitFrames(1));
  const std::string captured = member.peer().sent();  // hello, proof, frame
  RawClient replayer(server_->port());
  ASSERT_TRUE(replayer.Send(captured));
  EXPECT_TRUE(replayer.WaitClosed());
  // The real member's connection was not displaced by the replay.
  ASSERT_TRUE(member.Send(EncodePeerFrame("twice")));
  ASSERT_TRUE(receiver_.WaitFrames(2));
  server_->Stop();
  EXPECT_EQ(receiver_.hellos(), 1u);
  ASSERT_EQ(receiver_.frame_count(), 2u);
  EXPECT_EQ(receiver_.frames()[1].bytes, "twice");
}

TEST_F(PeerHandshakeServer, AnUnauthenticatedClaimDoesNotDisplaceTheMembersConnection) {
  ASSERT_TRUE(StartServer());
  RawClient member(server_->port());
  ASSERT_TRUE(member.Hello("node:7"));
  ASSERT_TRUE(receiver_.WaitHellos(1));
  RawClient impostor(server_->port());
  (void)impostor.Hello("node:7", std::string(32, 'w'));
  EXPECT_TRUE(impostor.WaitClosed());
  ASSERT_TRUE(member.Send(EncodePeerFrame("still here")));
  ASSERT_TRUE(receiver_.WaitFrames(1));
  server_->Stop();
  EXPECT_EQ(receiver_.frames()[0].bytes, "still here");
  EXPECT_EQ(receiver_.hellos(), 1u);
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
