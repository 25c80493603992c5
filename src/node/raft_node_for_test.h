// For the RaftNode tests (raft_node_test.cc, raft_node_peer_auth_test.cc): a one-node cluster in
// a temporary directory (RaftNodeTest), and clusters of RaftNodes in one process joined the way
// `nds start --join` joins them, with real Wals and peer transports on 127.0.0.1
// (RaftClusterTest). Test code only: nothing in the binaries includes it.
#pragma once

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <gtest/gtest.h>

#include "engine/engine_factory.h"
#include "net/loopback_port.h"
#include "net/raw_peer_client.h"
#include "node/engine_dir.h"
#include "node/lone_node_for_test.h"
#include "node/raft_codec.h"
#include "node/raft_node.h"
#include "node/temp_dir_for_test.h"
#include "store/command.h"
#include "store/keyspace.h"
#include "store/membership.h"

namespace nds::node {

// The cluster secret of every test cluster.
inline const std::string kSecret(32, 'S');

// A one-node cluster in dir_ (OpenNode), and waits on a node's answers.
class RaftNodeTest : public TempDirTest {
 protected:
  RaftNodeTest() : TempDirTest("raft_node_test_") {}

  std::unique_ptr<RaftNode> OpenNode(const std::string& engine_kind) {
    auto engine = engine::OpenEngine(engine_kind, dir_ + "/engine");
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    auto node = RaftNode::Open(std::move(engine).value(), OneNodeOptions(dir_, kSecret));
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return node.ok() ? std::move(node).value() : nullptr;
  }

  static store::ApplyResult SubmitAndWait(RaftNode* node, store::Command cmd) {
    std::promise<store::ApplyResult> p;
    auto f = p.get_future();
    node->Submit(std::move(cmd), [&p](store::ApplyResult r) { p.set_value(std::move(r)); });
    return f.get();
  }

  // Puts `prefix`<i> = `value` for every i in [first, last), one after the other, each waited for;
  // fails at the first write that is refused.
  static ::testing::AssertionResult PutNumbered(RaftNode* node, const std::string& prefix,
                                                int first, int last,
                                                const std::string& value = "v") {
    for (int i = first; i < last; ++i) {
      const store::ApplyResult r =
          SubmitAndWait(node, store::PutCommand(prefix + std::to_string(i), value));
      if (!r.status.ok()) {
        return ::testing::AssertionFailure()
               << "put " << prefix << i << ": " << r.status.ToString();
      }
    }
    return ::testing::AssertionSuccess();
  }

  static Status ReadPoint(RaftNode* node) {
    std::promise<Status> p;
    auto f = p.get_future();
    node->WaitForReadPoint([&p](Status s) { p.set_value(std::move(s)); });
    return f.get();
  }
};

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

  // Join, then waits until `via` counts `voters` voters (the joiner promoted). nullptr (and a
  // failure recorded) when the node did not open or was not promoted in time.
  std::unique_ptr<RaftNode> JoinAsVoter(RaftNode* via, const std::string& name, size_t voters) {
    auto node = Join(via, name);
    if (node == nullptr) return nullptr;
    const bool promoted = WaitFor([&] { return Voters(via) == voters; });
    EXPECT_TRUE(promoted) << name << " was not promoted: " << Voters(via) << " voters, not "
                          << voters;
    return promoted ? std::move(node) : nullptr;
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
  // The value stored under `key` on node n ("" when absent or undecodable).
  static std::string ValueOf(RaftNode* n, const std::string& key) {
    auto got = n->engine().Get(store::DataKey(key));
    if (!got.ok() || !got->has_value()) return "";
    auto record = store::DecodeRecord(**got);
    return record.ok() ? std::string(record->value) : "";
  }
};

}  // namespace nds::node
