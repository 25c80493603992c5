// Goal: from outside, the peer port of a running cluster lets no stranger in (docs/cluster.md
// "Security: the peer port"): a forged hello with a forward frame, a forged put_system of the
// join token hash and a Raft message 1000 terms ahead, sent to every node's peer port by someone
// who knows the cluster id (GET /status shows it) but not the cluster secret, in the current
// handshake and in the old bare-hello protocol, are all refused: the connection is closed, the
// term does not move, no forged key appears, and the real join token still admits a new node.
// Method: FastClusterTest (launcher::LocalCluster) of 3 real `nds start` processes on 127.0.0.1;
// the attacker is net::RawPeerClient on plain sockets. Every wait is bounded.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "client/client.h"
#include "harness/fast_cluster.h"
#include "harness/nds_process.h"
#include "launcher/local_cluster.h"
#include "net/raw_peer_client.h"
#include "node/raft_codec.h"
#include "store/command.h"
#include "store/keyspace.h"
#include "util/file_system.h"
#include "wal/meta_file.h"

namespace nds::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string ForwardOf(const store::Command& cmd) {
  node::Envelope e{1, 12345, ""};
  store::EncodeCommand(cmd, &e.command);
  return node::EncodeForwardFrame(e);
}

class PeerAttack : public FastClusterTest {};

TEST_F(PeerAttack, ForgedHelloForwardAndHighTermMessageChangeNothingOnARunningCluster) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(3));

  client::ClientOptions copts;
  copts.servers = client::ParseServerList(cluster_->ServerList()).value();
  copts.retry_deadline = seconds(10);
  auto c = Client::Create(copts).value();
  ASSERT_TRUE(c->Set("before", "v").ok());

  // What the attacker knows: every node's id, the cluster id, and the terms.
  std::vector<client::NodeStatus> before;
  for (size_t i = 0; i < 3; ++i) {
    auto one = launcher::ProbeClient(cluster_->node(i).spec().api_port, seconds(5));
    ASSERT_TRUE(one.ok());
    auto s = (*one)->GetStatus();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    before.push_back(*s);
  }
  const std::string cluster_id = before[0].cluster_id;
  ASSERT_FALSE(cluster_id.empty());
  uint64_t term_max = 0;
  for (const auto& s : before) term_max = std::max(term_max, s.term.value);

  const std::string guessed_secret(32, 'g');
  for (size_t target = 0; target < 3; ++target) {
    SCOPED_TRACE("attacking node" + std::to_string(target + 1));
    const uint16_t port = cluster_->node(target).spec().peer_port;
    const uint64_t to = before[target].id.value;
    const uint64_t claimed = before[(target + 1) % 3].id.value;  // impersonate another member
    raft::Message high;
    high.type = raft::MessageType::kHeartbeatResponse;
    high.from = NodeId{claimed};
    high.to = NodeId{to};
    high.term = Term{term_max + 1000};
    const std::vector<std::string> frames = {
        ForwardOf(store::PutCommand("forged", "x")),
        ForwardOf(store::PutSystemCommand(std::string(store::kJoinTokenHashKey), "attacker")),
        node::EncodeRaftFrame(high).Flatten()};
    const std::string hello = node::EncodeHello(node::Hello{cluster_id, claimed, "", ""});

    net::RawPeerClient impostor;
    ASSERT_TRUE(impostor.Connect(port));
    EXPECT_EQ(impostor.RunHandshake(guessed_secret, hello),
              net::RawPeerClient::Handshake::kAcceptorUnproven);
    for (const std::string& f : frames) (void)impostor.SendFrame(f);
    EXPECT_TRUE(impostor.ClosedByPeer(seconds(10)));

    net::RawPeerClient old_protocol;  // the pre-authentication attack: hello, then frames
    ASSERT_TRUE(old_protocol.Connect(port));
    ASSERT_TRUE(old_protocol.SendFrame(hello));
    for (const std::string& f : frames) (void)old_protocol.SendFrame(f);
    EXPECT_TRUE(old_protocol.ClosedByPeer(seconds(10)));
  }

  // An insider's view, with the real secret read from a member's DATA/meta: a captured
  // connection replayed on a new one gets nothing in, and a hello whose cluster id holds a
  // newline is refused without writing a forged line into the log.
  auto meta = wal::ReadMetaFile(DefaultFileSystem(), cluster_->node(0).spec().data_dir);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  const uint16_t port0 = cluster_->node(0).spec().peer_port;
  {
    net::RawPeerClient member;  // speaks for node 2 (its real connection is replaced meanwhile)
    ASSERT_TRUE(member.Connect(port0));
    ASSERT_EQ(
        member.RunHandshake(meta->cluster_secret,
                            node::EncodeHello(node::Hello{cluster_id, before[1].id.value, "", ""})),
        net::RawPeerClient::Handshake::kAcceptorProven);
    ASSERT_TRUE(member.SendFrame(ForwardOf(store::PutCommand("captured", "x"))));
    bool applied = false;
    for (int i = 0; i < 200 && !applied; ++i) {
      applied = c->KvGet("captured").ok();
      if (!applied) std::this_thread::sleep_for(milliseconds(50));
    }
    ASSERT_TRUE(applied) << "control: a member's forwarded write was not applied" << Logs();
    ASSERT_TRUE(c->Delete("captured").ok());
    net::RawPeerClient replayer;
    ASSERT_TRUE(replayer.Connect(port0));
    ASSERT_TRUE(replayer.Send(member.sent()));
    EXPECT_TRUE(replayer.ClosedByPeer(seconds(10)));
  }
  {
    net::RawPeerClient insider;
    ASSERT_TRUE(insider.Connect(port0));
    EXPECT_EQ(insider.RunHandshake(meta->cluster_secret,
                                   node::EncodeHello(node::Hello{cluster_id + "\nFORGED-LINE",
                                                                 before[1].id.value, "", ""})),
              net::RawPeerClient::Handshake::kAcceptorProven);
    EXPECT_TRUE(insider.ClosedByPeer(seconds(10)));
    const std::string log0 = cluster_->node(0).LogTail(1 << 20);
    EXPECT_NE(log0.find("control character"), std::string::npos) << log0;
    EXPECT_EQ(log0.find("\nFORGED-LINE"), std::string::npos) << log0;
  }

  // A write through the log after the attack orders it after anything the attack could have
  // proposed.
  ASSERT_TRUE(c->Set("after", "v").ok());
  for (size_t i = 0; i < 3; ++i) {
    auto one = launcher::ProbeClient(cluster_->node(i).spec().api_port, seconds(5));
    ASSERT_TRUE(one.ok());
    auto s = (*one)->GetStatus();
    ASSERT_TRUE(s.ok());
    EXPECT_LT(s->term.value, term_max + 1000) << "node" << i + 1 << " took the forged term";
    for (const char* key : {"forged", "captured"}) {
      auto got = (*one)->KvGet(key);
      EXPECT_FALSE(got.ok()) << "node" << i + 1 << " holds " << key;
      EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
    }
  }
  // The join token hash was not replaced: the real token still admits a node.
  auto added = cluster_->AddNode();
  EXPECT_TRUE(added.ok()) << added.status().ToString() << Logs();
  // The refusals were logged, with the attacker's text escaped.
  EXPECT_NE(Logs().find("handshake failed"), std::string::npos) << Logs();
}

// A data directory written before peers authenticated each other (DIR/meta version 1, no
// secret) is refused at start with a message that says why, not run without authentication.
TEST_F(PeerAttack, ADataDirectoryWithoutAClusterSecretIsRefusedClearly) {
  const std::string dir = MakeTempDir("meta-v1");
  ASSERT_TRUE(WriteFileAtomically(DefaultFileSystem(), dir, std::string(wal::kMetaFileName),
                                  wal::EncodeNodeMeta({"old-cluster", NodeId{1},
                                                       wal::kDataFormatVersionWithoutSecret, ""}))
                  .ok());
  NdsProcess node(dir);
  EXPECT_FALSE(node.Start(seconds(20)));
  EXPECT_NE(node.LogTail().find("before peers authenticated each other"), std::string::npos)
      << node.LogTail();
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir + ".log");
}

}  // namespace
}  // namespace nds::test
