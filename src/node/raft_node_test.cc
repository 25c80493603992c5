// Goal: RaftNode, as a one-node cluster, orders writes through the Raft log, applies them to the
// engine, gives read points, and keeps everything across a restart from the same data directory.
// Method: a real Wal in a fresh temporary directory and a memory engine checkpointed in it; each
// call's completion is awaited through a std::future (no sleeping).
#include "node/raft_node.h"

#include <filesystem>
#include <future>
#include <poll.h>
#include <random>
#include <thread>
#include <unistd.h>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "engine/engine_factory.h"
#include "net/loopback_port.h"
#include "net/peer_frame.h"
#include "net/raw_peer_client.h"
#include "node/driven_node_for_test.h"
#include "node/engine_dir.h"
#include "node/raft_codec.h"
#include "store/keyspace.h"
#include "store/membership.h"

namespace nds::node {
namespace {

// The cluster secret of every test cluster.
const std::string kSecret(32, 'S');

class RaftNodeTest : public TempDirTest {
 protected:
  RaftNodeTest() : TempDirTest("raft_node_test_") {}

  std::unique_ptr<RaftNode> OpenNode(const std::string& engine_kind) {
    auto engine = engine::OpenEngine(engine_kind, dir_ + "/engine");
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    auto node = RaftNode::Open(std::move(engine).value(), LoneTestOptions(dir_));
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return node.ok() ? std::move(node).value() : nullptr;
  }

  static store::ApplyResult SubmitAndWait(RaftNode* node, store::Command cmd) {
    std::promise<store::ApplyResult> p;
    auto f = p.get_future();
    node->Submit(std::move(cmd), [&p](store::ApplyResult r) { p.set_value(std::move(r)); });
    return f.get();
  }

  static Status ReadPoint(RaftNode* node) {
    std::promise<Status> p;
    auto f = p.get_future();
    node->WaitForReadPoint([&p](Status s) { p.set_value(std::move(s)); });
    return f.get();
  }
};

TEST_F(RaftNodeTest, WritesGetIncreasingRevisionsAndAreVisibleAtTheReadPoint) {
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  auto r1 = SubmitAndWait(node.get(), store::PutCommand("a", "1"));
  ASSERT_TRUE(r1.status.ok()) << r1.status.ToString();
  EXPECT_TRUE(r1.created);
  auto r2 = SubmitAndWait(node.get(), store::PutCommand("a", "2"));
  ASSERT_TRUE(r2.status.ok());
  EXPECT_GT(r2.revision, r1.revision);
  EXPECT_FALSE(r2.created);
  ASSERT_TRUE(ReadPoint(node.get()).ok());
  auto got = node->engine().Get(store::DataKey("a"));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->has_value());
  EXPECT_GE(node->engine().AppliedIndex().value, r2.revision);
}

TEST_F(RaftNodeTest, FailedPreconditionConsumesAnIndexAndChangesNothing) {
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(SubmitAndWait(node.get(), store::PutCommand("k", "v")).status.ok());
  auto r = SubmitAndWait(node.get(),
                         store::PutCommand("k", "w", {}, store::Precondition::kMustNotExist));
  EXPECT_EQ(r.status.code(), StatusCode::kAlreadyExists);
}

TEST_F(RaftNodeTest, StatusReportsALeaderWithLeaseOnceAWriteCommitted) {
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  auto r = SubmitAndWait(node.get(), store::PutCommand("x", "y"));
  ASSERT_TRUE(r.status.ok());
  NodeStatus st = node->GetStatus();
  EXPECT_EQ(st.role, Role::kLeader);
  EXPECT_EQ(st.leader_id, 1u);
  EXPECT_GE(st.commit_index, r.revision);
  EXPECT_TRUE(st.ready);
}

TEST_F(RaftNodeTest, RestartFromTheDataDirectoryKeepsEveryAcknowledgedWrite) {
  uint64_t last_revision = 0;
  {
    auto node = OpenNode("rocksdb");
    ASSERT_NE(node, nullptr);
    for (int i = 0; i < 20; ++i) {
      auto r = SubmitAndWait(node.get(), store::PutCommand("key" + std::to_string(i), "v"));
      ASSERT_TRUE(r.status.ok());
      last_revision = r.revision;
    }
  }
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(ReadPoint(node.get()).ok());
  for (int i = 0; i < 20; ++i) {
    auto got = node->engine().Get(store::DataKey("key" + std::to_string(i)));
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(got->has_value()) << i;
  }
  auto r = SubmitAndWait(node.get(), store::PutCommand("after", "restart"));
  ASSERT_TRUE(r.status.ok());
  EXPECT_GT(r.revision, last_revision);
}

TEST_F(RaftNodeTest, StopAnswersLaterWritesUnavailable) {
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  node->Stop();
  auto r = SubmitAndWait(node.get(), store::PutCommand("late", "v"));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
}

// Goal: three RaftNodes in one process, joined the way `nds start --join` joins them, replicate
// every write to every node, forward a follower's writes to the leader, give linearizable read
// points on followers, promote learners, and remove a member.
// Method: real Wals and peer transports on 127.0.0.1; waits poll with a bounded deadline.
class RaftClusterTest : public RaftNodeTest {
 protected:
  RaftNodeOptions Options(uint64_t id, uint16_t port) {
    RaftNodeOptions o;
    o.id = id;
    o.name = "n" + std::to_string(id);
    o.cluster_id = "test-cluster";
    o.cluster_secret = kSecret;
    o.data_dir = dir_ + "/" + o.name;
    o.peer_listen_port = port;
    o.peer_address = "127.0.0.1:" + std::to_string(port);
    o.api_address = "127.0.0.1:1";
    o.limits.heartbeat_interval = std::chrono::milliseconds(10);
    o.limits.election_timeout = election_timeout_;
    o.limits.lease_duration = std::chrono::milliseconds(80);
    std::filesystem::create_directories(o.data_dir);
    return o;
  }

  // The options of node 1, which starts a new cluster.
  RaftNodeOptions FoundingOptions() {
    RaftNodeOptions o = Options(1, net::FreePort());
    o.bootstrap = true;
    return o;
  }

  std::unique_ptr<RaftNode> Open(RaftNodeOptions o) {
    auto engine = engine::OpenEngine("memory", CurrentEngineDir(o.data_dir).value());
    EXPECT_TRUE(engine.ok());
    auto node = RaftNode::Open(std::move(engine).value(), std::move(o));
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return node.ok() ? std::move(node).value() : nullptr;
  }

  // Adds a member through `via` and opens it, as `nds start --join` does.
  std::unique_ptr<RaftNode> Join(RaftNode* via, const std::string& name) {
    uint16_t port = net::FreePort();
    store::MemberRecord rec{0, name, "127.0.0.1:" + std::to_string(port), "127.0.0.1:1"};
    auto r = SubmitAndWait(via, store::AddMemberCommand(rec));
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    if (!r.status.ok()) return nullptr;
    RaftNodeOptions o = Options(r.revision, port);
    o.name = name;
    for (const MemberInfo& m : via->Members()) {
      o.known_members.push_back({m.id, m.name, m.peer_address, m.api_address});
    }
    return Open(std::move(o));
  }

  std::chrono::milliseconds election_timeout_{100};

  template <typename Pred>
  static bool WaitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
  }

  static size_t Voters(RaftNode* n) {
    size_t v = 0;
    for (const MemberInfo& m : n->Members()) v += m.voter ? 1 : 0;
    return v;
  }

  // Node 1 founds a cluster with `o1`; n2 and n3 join through it; returns once all three vote.
  void OpenThree(const RaftNodeOptions& o1, std::unique_ptr<RaftNode>* n1,
                 std::unique_ptr<RaftNode>* n2, std::unique_ptr<RaftNode>* n3) {
    *n1 = Open(o1);
    ASSERT_NE(*n1, nullptr);
    ASSERT_TRUE(WaitFor([&] { return (*n1)->GetStatus().role == Role::kLeader; }));
    *n2 = Join(n1->get(), "n2");
    ASSERT_NE(*n2, nullptr);
    *n3 = Join(n1->get(), "n3");
    ASSERT_NE(*n3, nullptr);
    ASSERT_TRUE(WaitFor([&] { return Voters(n1->get()) == 3; })) << "the joiners were not promoted";
  }

  // Dials 127.0.0.1:`port` as a peer would: the handshake with `hello` proven with `secret`,
  // then `frame` when not empty. The connection, or nullptr when the node did not answer the
  // handshake or did not prove it holds `secret`.
  static std::unique_ptr<net::RawPeerClient> SendAsPeer(uint16_t port, const Hello& hello,
                                                        const std::string& frame,
                                                        const std::string& secret = kSecret) {
    auto peer = std::make_unique<net::RawPeerClient>();
    if (!peer->Connect(port) || peer->RunHandshake(secret, EncodeHello(hello)) !=
                                    net::RawPeerClient::Handshake::kAcceptorProven) {
      return nullptr;
    }
    if (!frame.empty() && !peer->SendFrame(frame)) return nullptr;
    return peer;
  }
  // Whether the node closes `peer`'s connection within 10 s.
  static bool ClosedByNode(net::RawPeerClient& peer) { return peer.ClosedByPeer(); }

  // Whether DATA/snap holds a finished snapshot (DATA/snap itself exists from the start).
  static bool HasSnapshot(const std::string& data_dir) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(data_dir + "/snap", ec)) {
      if (!e.path().filename().string().starts_with("tmp-")) return true;
    }
    return false;
  }

  static bool Has(RaftNode* n, const std::string& key) {
    auto got = n->engine().Get(store::DataKey(key));
    return got.ok() && got->has_value();
  }
};

TEST_F(RaftClusterTest, JoinedNodesReplicateForwardAndReadLinearizably) {
  RaftNodeOptions o1 = FoundingOptions();
  auto n1 = Open(o1);
  ASSERT_NE(n1, nullptr);
  ASSERT_TRUE(SubmitAndWait(n1.get(), store::PutCommand("before-join", "v")).status.ok());
  auto n2 = Join(n1.get(), "n2");
  ASSERT_NE(n2, nullptr);
  ASSERT_TRUE(WaitFor([&] { return Voters(n1.get()) == 2; })) << "n2 was not promoted";
  auto n3 = Join(n1.get(), "n3");
  ASSERT_NE(n3, nullptr);
  ASSERT_TRUE(WaitFor([&] { return Voters(n1.get()) == 3; })) << "n3 was not promoted";
  // Data written before the joins reached the joiners.
  ASSERT_TRUE(ReadPoint(n3.get()).ok());
  EXPECT_TRUE(Has(n3.get(), "before-join"));
  // A write on a follower is forwarded; a read point on another follower sees it.
  RaftNode* nodes[] = {n1.get(), n2.get(), n3.get()};
  for (int i = 0; i < 3; ++i) {
    auto r = SubmitAndWait(nodes[i], store::PutCommand("k" + std::to_string(i), "v"));
    ASSERT_TRUE(r.status.ok()) << i << ": " << r.status.ToString();
    RaftNode* reader = nodes[(i + 1) % 3];
    ASSERT_TRUE(ReadPoint(reader).ok());
    EXPECT_TRUE(Has(reader, "k" + std::to_string(i))) << "written on " << i;
  }
  // Exactly one leader; the others know it.
  int leaders = 0;
  for (RaftNode* n : nodes) leaders += n->GetStatus().role == Role::kLeader ? 1 : 0;
  EXPECT_EQ(leaders, 1);
  // Remove n3: the configuration follows and n3 stops receiving writes.
  auto rm = SubmitAndWait(n2.get(), store::RemoveMemberCommand(n3->GetStatus().id));
  ASSERT_TRUE(rm.status.ok()) << rm.status.ToString();
  EXPECT_TRUE(WaitFor([&] { return Voters(n1.get()) == 2; }));
  ASSERT_TRUE(SubmitAndWait(n1.get(), store::PutCommand("after-removal", "v")).status.ok());
  ASSERT_TRUE(ReadPoint(n2.get()).ok());
  EXPECT_TRUE(Has(n2.get(), "after-removal"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(Has(n3.get(), "after-removal"));
}

// A peer that sends an intact frame node/ cannot decode loses its connection (it would dial
// again); a well-formed peer on the same port is unaffected.
TEST_F(RaftClusterTest, AnUndecodablePeerFrameClosesItsConnection) {
  RaftNodeOptions o1 = FoundingOptions();
  auto n1 = Open(o1);
  ASSERT_NE(n1, nullptr);
  auto n2 = Join(n1.get(), "n2");
  ASSERT_NE(n2, nullptr);
  ASSERT_TRUE(WaitFor([&] { return Voters(n1.get()) == 2; }));
  const uint64_t id2 = n2->GetStatus().id;
  n2.reset();  // this test speaks for n2 now (a member, with the secret)
  auto peer = SendAsPeer(o1.peer_listen_port, Hello{"test-cluster", id2, "", ""},
                         std::string("\x09 not a frame kind"));
  ASSERT_NE(peer, nullptr);
  EXPECT_TRUE(ClosedByNode(*peer)) << "the node kept the connection of a peer that sent garbage";
}

// A hello is checked like a join: addresses that are not HOST:PORT are never recorded.
TEST_F(RaftClusterTest, AHelloClaimingAnUnusableAddressIsNotRecorded) {
  RaftNodeOptions o1 = FoundingOptions();
  std::unique_ptr<RaftNode> n1, n2, n3;
  ASSERT_NO_FATAL_FAILURE(OpenThree(o1, &n1, &n2, &n3));
  // n3 goes down, so that only this test's connections speak for it; n1 and n2 keep a quorum.
  const uint64_t id3 = n3->GetStatus().id;
  n3.reset();
  auto peer_of_n3 = [&] {
    for (const MemberInfo& m : n1->Members()) {
      if (m.id == id3) return m.peer_address;
    }
    return std::string();
  };
  // A usable claim is recorded (so the path works) ...
  auto good = SendAsPeer(o1.peer_listen_port, Hello{"test-cluster", id3, "127.0.0.1:3", ""}, "");
  ASSERT_NE(good, nullptr);
  EXPECT_TRUE(WaitFor([&] { return peer_of_n3() == "127.0.0.1:3"; }));
  good.reset();
  // ... an unusable one is not, however long the leader has had to act on it.
  auto bad = SendAsPeer(o1.peer_listen_port, Hello{"test-cluster", id3, "no port here", ""}, "");
  ASSERT_NE(bad, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // 30 ticks
  EXPECT_EQ(peer_of_n3(), "127.0.0.1:3");
}

TEST_F(RaftClusterTest, LeaderTransferMovesLeadership) {
  RaftNodeOptions o1 = FoundingOptions();
  auto n1 = Open(o1);
  ASSERT_NE(n1, nullptr);
  auto n2 = Join(n1.get(), "n2");
  ASSERT_NE(n2, nullptr);
  ASSERT_TRUE(WaitFor([&] { return Voters(n1.get()) == 2; }));
  uint64_t to = n2->GetStatus().id;
  std::promise<Status> p;
  auto f = p.get_future();
  n2->TransferLeadership(to, [&p](Status s) { p.set_value(s); });
  Status s = f.get();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(WaitFor([&] { return n2->GetStatus().role == Role::kLeader; }));
  std::promise<Status> p2;
  auto f2 = p2.get_future();
  n1->TransferLeadership(999, [&p2](Status s) { p2.set_value(s); });
  EXPECT_EQ(f2.get().code(), StatusCode::kNotFound);
}

// A forwarded write the leader refuses (here: it is handing leadership to a member that is down,
// and takes no proposal meanwhile) comes back to its origin, which answers at once instead of at
// the request deadline.
TEST_F(RaftClusterTest, AForwardedWriteTheLeaderRefusesIsAnsweredAtOnce) {
  election_timeout_ = std::chrono::milliseconds(2000);  // the transfer blocks proposals this long
  RaftNodeOptions o1 = FoundingOptions();
  o1.limits.request_timeout = std::chrono::seconds(30);
  std::unique_ptr<RaftNode> n1, n2, n3;
  ASSERT_NO_FATAL_FAILURE(OpenThree(o1, &n1, &n2, &n3));
  ASSERT_TRUE(SubmitAndWait(n2.get(), store::PutCommand("before", "v")).status.ok());
  const uint64_t down = n3->GetStatus().id;
  n3.reset();
  std::promise<Status> transferred;
  n1->TransferLeadership(down, [&](Status s) { transferred.set_value(s); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto r = SubmitAndWait(n2.get(), store::PutCommand("during", "v"));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable) << r.status.ToString();
  EXPECT_NE(r.status.message().find("could not take the write"), std::string::npos)
      << r.status.ToString();
  EXPECT_EQ(transferred.get_future().get().code(), StatusCode::kUnavailable);
  // Once the transfer is given up, the same write from the follower goes through.
  EXPECT_TRUE(SubmitAndWait(n2.get(), store::PutCommand("after", "v")).status.ok());
}

// A member restarted on other addresses says so in its hellos; the leader records them, and the
// others reach it there.
TEST_F(RaftClusterTest, AMemberRestartedOnAnotherPortIsRecordedThereAndReachedThere) {
  RaftNodeOptions o1 = FoundingOptions();
  std::unique_ptr<RaftNode> n1, n2, n3;
  ASSERT_NO_FATAL_FAILURE(OpenThree(o1, &n1, &n2, &n3));
  const uint64_t id3 = n3->GetStatus().id;
  n3.reset();
  RaftNodeOptions moved = Options(id3, net::FreePort());
  moved.name = "n3";
  moved.api_address = "127.0.0.1:2";
  const std::string new_peer = moved.peer_address;
  n3 = Open(moved);
  ASSERT_NE(n3, nullptr);
  auto recorded = [&](RaftNode* n) {
    for (const MemberInfo& m : n->Members()) {
      if (m.id == id3) return m.peer_address == new_peer && m.api_address == "127.0.0.1:2";
    }
    return false;
  };
  ASSERT_TRUE(WaitFor([&] { return recorded(n1.get()) && recorded(n2.get()); }))
      << "the new addresses of member " << id3 << " were not recorded";
  // The leader's appends and read confirmations reach n3 at its new port.
  ASSERT_TRUE(SubmitAndWait(n1.get(), store::PutCommand("after-move", "v")).status.ok());
  ASSERT_TRUE(ReadPoint(n3.get()).ok());
  EXPECT_TRUE(Has(n3.get(), "after-move"));
  EXPECT_EQ(Voters(n1.get()), 3u);
}

TEST_F(RaftClusterTest, AJoinerBehindTheCompactedLogCatchesUpFromASnapshot) {
  RaftNodeOptions o1 = FoundingOptions();
  o1.limits.snapshot_entries = 20;
  auto n1 = Open(o1);
  ASSERT_NE(n1, nullptr);
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(
        SubmitAndWait(n1.get(), store::PutCommand("old" + std::to_string(i), "v")).status.ok());
  }
  // n1 has compacted its log: it holds a snapshot and the joiner must get it.
  ASSERT_TRUE(WaitFor([&] { return HasSnapshot(o1.data_dir); }));
  auto n2 = Join(n1.get(), "n2");
  ASSERT_NE(n2, nullptr);
  ASSERT_TRUE(WaitFor([&] { return Voters(n1.get()) == 2; })) << "n2 was not promoted";
  ASSERT_TRUE(ReadPoint(n2.get()).ok());
  for (int i = 0; i < 60; ++i) EXPECT_TRUE(Has(n2.get(), "old" + std::to_string(i))) << i;
  std::string n2_dir = dir_ + "/n" + std::to_string(n2->GetStatus().id);
  EXPECT_TRUE(std::filesystem::exists(n2_dir + "/ENGINE")) << "n2 did not install a snapshot";
  // Writes after the snapshot replicate as usual, from either node.
  ASSERT_TRUE(SubmitAndWait(n2.get(), store::PutCommand("new", "v")).status.ok());
  ASSERT_TRUE(ReadPoint(n1.get()).ok());
  EXPECT_TRUE(Has(n1.get(), "new"));
}

// A few large values trigger a snapshot long before the entry count would.
TEST_F(RaftClusterTest, EnoughAppliedBytesTriggerASnapshot) {
  RaftNodeOptions o = FoundingOptions();
  o.limits.snapshot_entries = 1'000'000;
  o.limits.snapshot_bytes = 256 << 10;
  auto n = Open(o);
  ASSERT_NE(n, nullptr);
  const std::string big(64 << 10, 'b');
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        SubmitAndWait(n.get(), store::PutCommand("big" + std::to_string(i), big)).status.ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(HasSnapshot(o.data_dir)) << "192 KiB applied: no snapshot yet";
  for (int i = 3; i < 6; ++i) {
    ASSERT_TRUE(
        SubmitAndWait(n.get(), store::PutCommand("big" + std::to_string(i), big)).status.ok());
  }
  EXPECT_TRUE(WaitFor([&] { return HasSnapshot(o.data_dir); }))
      << "384 KiB applied and no snapshot";
}

TEST_F(RaftClusterTest, AMemoryEngineNodeRestartsFromItsSnapshotAndLog) {
  RaftNodeOptions o = FoundingOptions();
  o.limits.snapshot_entries = 10;
  {
    auto n = Open(o);
    ASSERT_NE(n, nullptr);
    for (int i = 0; i < 35; ++i) {
      ASSERT_TRUE(
          SubmitAndWait(n.get(), store::PutCommand("k" + std::to_string(i), "v")).status.ok());
    }
  }
  // The memory engine starts empty: the node restores the snapshot, then replays the log.
  auto n = Open(o);
  ASSERT_NE(n, nullptr);
  ASSERT_TRUE(ReadPoint(n.get()).ok());
  for (int i = 0; i < 35; ++i) EXPECT_TRUE(Has(n.get(), "k" + std::to_string(i))) << i;
}

TEST_F(RaftClusterTest, LeaseReadsOnTheLeaderSeeEveryAcknowledgedWrite) {
  RaftNodeOptions o1 = FoundingOptions();
  o1.lease_reads = true;
  auto n1 = Open(o1);
  ASSERT_NE(n1, nullptr);
  auto n2 = Join(n1.get(), "n2");
  ASSERT_NE(n2, nullptr);
  ASSERT_TRUE(WaitFor([&] { return Voters(n1.get()) == 2; }));
  ASSERT_TRUE(WaitFor([&] { return n1->GetStatus().has_lease; }));
  for (int i = 0; i < 50; ++i) {
    std::string key = "lease" + std::to_string(i);
    RaftNode* writer = i % 2 == 0 ? n1.get() : n2.get();
    ASSERT_TRUE(SubmitAndWait(writer, store::PutCommand(key, "v")).status.ok());
    ASSERT_TRUE(ReadPoint(n1.get()).ok());
    EXPECT_TRUE(Has(n1.get(), key)) << key;
  }
  // The leader served (some of) them from its lease, without a heartbeat round.
  EXPECT_GT(n1->GetStatus().lease_read_batches, 0u);
}

// Goal: the peer port lets in only holders of the cluster secret who speak for a member, and a
// Raft message counts only as what its authenticated connection may say. Method: a 3-node
// cluster in which n3 is stopped, so that the test can speak for n3 (with the secret) or as an
// impostor (without it); the leader's term, data and join token hash must not move.
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
    return EncodeRaftFrame(m);
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
