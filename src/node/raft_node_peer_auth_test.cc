// Goal: the peer port lets in only holders of the cluster secret who speak for a member, and a
// Raft message counts only as what its authenticated connection may say. Method: a 3-node
// cluster in which n3 is stopped, so that the test can speak for n3 (with the secret) or as an
// impostor (without it); the leader's term, data and join token hash must not move.
#include <chrono>
#include <filesystem>
#include <future>
#include <poll.h>
#include <thread>
#include <unistd.h>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/loopback_port.h"
#include "net/peer_frame.h"
#include "net/raw_peer_client.h"
#include "node/engine_dir.h"
#include "node/raft_codec.h"
#include "node/raft_node.h"
#include "node/raft_node_for_test.h"
#include "store/keyspace.h"
#include "store/membership.h"

namespace nds::node {
namespace {

class PeerAuthTest : public RaftClusterTest {
 protected:
  void SetUp() override {
    RaftClusterTest::SetUp();
    o1_ = FoundingOptions();
    o1_.join_token_hash = "hash-of-the-real-token";
    ASSERT_NO_FATAL_FAILURE(OpenThree(o1_, &n1_, &n2_, &n3_));
    ASSERT_TRUE(SubmitAndWait(n1_.get(), store::PutCommand("before", "v")).status.ok());
    id2_ = n2_->GetStatus().id;
    id3_ = n3_->GetStatus().id;
    n3_.reset();  // n1 and n2 keep a quorum
    ASSERT_TRUE(WaitFor([&] { return n1_->GetStatus().role == Role::kLeader; }));
    term_ = n1_->GetStatus().term;
  }

  std::string JoinTokenHash() {
    auto got = n1_->engine().Get(store::SystemKey(store::kJoinTokenHashKey));
    return got.ok() && got->has_value() ? **got : std::string("(none)");
  }
  // A forward frame that, if proposed, replaces the join token hash and stores `key`.
  static std::string ForgedForward(const std::string& key) {
    store::Command put = store::PutCommand(key, "forged");
    Envelope e{99, 1, ""};
    store::EncodeCommand(put, &e.command);
    return EncodeForwardFrame(e);
  }
  static std::string ForgedTokenHashForward() {
    Envelope e{99, 2, ""};
    store::EncodeCommand(store::PutSystemCommand(std::string(store::kJoinTokenHashKey), "evil"),
                         &e.command);
    return EncodeForwardFrame(e);
  }
  // A heartbeat response from `from` 1000 terms ahead.
  std::string HighTermMessage(uint64_t from) const {
    raft::Message m;
    m.type = raft::MessageType::kHeartbeatResponse;
    m.from = NodeId{from};
    m.to = NodeId{1};
    m.term = Term{term_ + 1000};
    return EncodeRaftFrame(m).Flatten();
  }
  // Waits until every write submitted so far has been applied on n1 (a write through the log).
  void Barrier() {
    ASSERT_TRUE(SubmitAndWait(n1_.get(), store::PutCommand("barrier", "v")).status.ok());
  }

  void ExpectNothingChanged() {
    Barrier();
    EXPECT_LT(n1_->GetStatus().term, term_ + 1000) << "a forged term was stepped";
    EXPECT_LT(n2_->GetStatus().term, term_ + 1000);
    EXPECT_EQ(JoinTokenHash(), "hash-of-the-real-token");
    EXPECT_FALSE(Has(n1_.get(), "forged"));
    EXPECT_TRUE(Has(n1_.get(), "before"));
  }

  RaftNodeOptions o1_;
  std::unique_ptr<RaftNode> n1_, n2_, n3_;
  uint64_t id2_ = 0, id3_ = 0, term_ = 0;
};

TEST_F(PeerAuthTest, AControlMemberWithTheSecretGetsItsForwardedWriteIn) {
  // Shows the attacks below fail for the reason they test, not for a broken harness.
  auto peer = SendAsPeer(o1_.peer_listen_port, Hello{"test-cluster", id3_, "", ""},
                         ForgedForward("control"));
  ASSERT_NE(peer, nullptr);
  EXPECT_TRUE(WaitFor([&] { return Has(n1_.get(), "control"); }));
}

TEST_F(PeerAuthTest, WithoutTheSecretAForgedHelloForwardAndHighTermMessageChangeNothing) {
  const std::string wrong(32, 'W');
  // The node does not prove itself to a dialer with another secret ...
  EXPECT_EQ(SendAsPeer(o1_.peer_listen_port, Hello{"test-cluster", id3_, "", ""}, "", wrong),
            nullptr);
  // ... and closes the impostor's connection without reading its frames.
  for (const std::string& frame :
       {ForgedForward("forged"), ForgedTokenHashForward(), HighTermMessage(id3_)}) {
    net::RawPeerClient impostor;
    ASSERT_TRUE(impostor.Connect(o1_.peer_listen_port));
    EXPECT_EQ(impostor.RunHandshake(wrong, EncodeHello(Hello{"test-cluster", id3_, "", ""})),
              net::RawPeerClient::Handshake::kAcceptorUnproven);
    (void)impostor.SendFrame(frame);
    EXPECT_TRUE(ClosedByNode(impostor));
    // The old protocol (a bare hello, then frames) gets nowhere either.
    net::RawPeerClient old;
    ASSERT_TRUE(old.Connect(o1_.peer_listen_port));
    ASSERT_TRUE(old.SendFrame(EncodeHello(Hello{"test-cluster", id3_, "", ""})));
    (void)old.SendFrame(frame);
    EXPECT_TRUE(ClosedByNode(old));
  }
  ExpectNothingChanged();
}

TEST_F(PeerAuthTest, AReplayedCapturedConnectionIsRefused) {
  auto member = SendAsPeer(o1_.peer_listen_port, Hello{"test-cluster", id3_, "", ""},
                           ForgedForward("captured"));
  ASSERT_NE(member, nullptr);
  ASSERT_TRUE(WaitFor([&] { return Has(n1_.get(), "captured"); }));
  ASSERT_TRUE(SubmitAndWait(n1_.get(), store::DeleteCommand("captured")).status.ok());
  const std::string captured = member->sent();  // hello, proof and the forward frame
  net::RawPeerClient replayer;
  ASSERT_TRUE(replayer.Connect(o1_.peer_listen_port));
  ASSERT_TRUE(replayer.Send(captured));
  EXPECT_TRUE(ClosedByNode(replayer));
  Barrier();
  EXPECT_FALSE(Has(n1_.get(), "captured")) << "the replayed forward frame was proposed again";
  ExpectNothingChanged();
}

TEST_F(PeerAuthTest, WithTheSecretANonMemberOrAControlCharacterIsRefused) {
  // A node that holds the secret (say, a removed member) but is no member: refused at the hello.
  // Its id is at or below what n1 has applied, so it cannot be a member added since.
  uint64_t stranger_id = 1;
  while (stranger_id == o1_.id || stranger_id == id2_ || stranger_id == id3_) ++stranger_id;
  ASSERT_LE(stranger_id, n1_->GetStatus().applied_index);
  auto stranger = SendAsPeer(o1_.peer_listen_port, Hello{"test-cluster", stranger_id, "", ""},
                             ForgedForward("forged"));
  ASSERT_NE(stranger, nullptr);  // the node proved itself; then it refuses the claim
  EXPECT_TRUE(ClosedByNode(*stranger));
  auto newline =
      SendAsPeer(o1_.peer_listen_port, Hello{"test-cluster\nforged log line", id3_, "", ""}, "");
  ASSERT_NE(newline, nullptr);
  EXPECT_TRUE(ClosedByNode(*newline));
  auto bad_address =
      SendAsPeer(o1_.peer_listen_port, Hello{"test-cluster", id3_, "127.0.0.1:1\r\nx", ""}, "");
  ASSERT_NE(bad_address, nullptr);
  EXPECT_TRUE(ClosedByNode(*bad_address));
  ExpectNothingChanged();
}

TEST_F(PeerAuthTest, APossibleLaterMemberMayNotForwardWrites) {
  // An id above n1's applied index may be a member whose join n1 has not applied yet: its hello
  // is taken (so a new leader can bring n1 up to date), but it may send only Raft messages and
  // snapshot chunks; a forwarded write is dropped and counted.
  const uint64_t rejected = n1_->GetStatus().peer_messages_rejected;
  const uint64_t later_id = n1_->GetStatus().applied_index + 1000;
  auto later = SendAsPeer(o1_.peer_listen_port, Hello{"test-cluster", later_id, "", ""},
                          ForgedForward("forged"));
  ASSERT_NE(later, nullptr);
  EXPECT_TRUE(WaitFor([&] { return n1_->GetStatus().peer_messages_rejected > rejected; }));
  ExpectNothingChanged();
}

TEST_F(PeerAuthTest, ARaftMessageClaimingAnotherSenderIsDroppedAndCounted) {
  const uint64_t rejected = n1_->GetStatus().peer_messages_rejected;
  // Speaking for n3 (authenticated), a message that says it is from n2.
  auto peer =
      SendAsPeer(o1_.peer_listen_port, Hello{"test-cluster", id3_, "", ""}, HighTermMessage(id2_));
  ASSERT_NE(peer, nullptr);
  EXPECT_TRUE(WaitFor([&] { return n1_->GetStatus().peer_messages_rejected > rejected; }));
  ExpectNothingChanged();
}

// A removed member still holds the secret (and may still have a connection open): what it sends
// after its removal is dropped and counted, so it cannot move the term of the cluster it left.
TEST_F(PeerAuthTest, AMemberRemovedWhileConnectedCanNoLongerMoveTheTerm) {
  auto peer = SendAsPeer(o1_.peer_listen_port, Hello{"test-cluster", id3_, "", ""}, "");
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(SubmitAndWait(n1_.get(), store::RemoveMemberCommand(id3_)).status.ok());
  ASSERT_TRUE(WaitFor([&] {
    for (const MemberInfo& m : n1_->Members()) {
      if (m.id == id3_) return false;
    }
    return true;
  }));
  const uint64_t rejected = n1_->GetStatus().peer_messages_rejected;
  ASSERT_TRUE(peer->SendFrame(HighTermMessage(id3_)));
  ASSERT_TRUE(peer->SendFrame(ForgedForward("forged")));
  EXPECT_TRUE(WaitFor([&] { return n1_->GetStatus().peer_messages_rejected >= rejected + 2; }));
  ExpectNothingChanged();
}

TEST_F(PeerAuthTest, ASecondConnectionWithoutTheSecretDoesNotDisplaceAMember) {
  auto member = SendAsPeer(o1_.peer_listen_port, Hello{"test-cluster", id3_, "", ""}, "");
  ASSERT_NE(member, nullptr);
  net::RawPeerClient impostor;
  ASSERT_TRUE(impostor.Connect(o1_.peer_listen_port));
  (void)impostor.RunHandshake(std::string(32, 'W'),
                              EncodeHello(Hello{"test-cluster", id3_, "", ""}));
  EXPECT_TRUE(ClosedByNode(impostor));
  // The member's connection still carries its frames.
  ASSERT_TRUE(member->SendFrame(ForgedForward("still-connected")));
  EXPECT_TRUE(WaitFor([&] { return Has(n1_.get(), "still-connected"); }));
}

}  // namespace
}  // namespace nds::node
