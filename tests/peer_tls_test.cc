// Goal: peer mutual TLS with real processes (docs/security.md): three nodes started with
// --peer-tls-* form a cluster and replicate; a fourth node whose certificate another CA signed,
// and a fifth started without peer TLS, are refused at the join (with the join token) with the
// reason and are not added; a TLS client dialling a member's peer port with another CA's
// certificate fails the handshake; the cluster keeps working; a node given only some of the
// flags, or a missing file, exits at start naming what is wrong.
// Method: launcher::NodeProcess for `nds start`, certificates made at test time (net/test_pki.h),
// stale reads (`?consistency=stale`) to see what each node itself holds. Every loop is bounded.
#include <chrono>
#include <filesystem>
#include <memory>
#include <signal.h>
#include <stdio.h>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/nds_process.h"
#include "harness/run_bounded.h"
#include "launcher/node_process.h"
#include "net/test_pki.h"

namespace nds::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::vector<std::string> kFastRaft = {"--heartbeat-ms", "50", "--election-timeout-ms", "500",
                                            "--lease-ms",     "400"};
const std::string kJoinToken = "peer-tls-test-token-0123456789";

// Runs `nds <args>` (stderr joined to stdout); returns the exit code and fills `output`.
int RunNds(const std::string& args, std::string* output) {
  const std::string command = std::string(NDS_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0 && output->size() < (1 << 20)) {
    output->append(buf, n);
  }
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class PeerTlsClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("peer-tls");
    ASSERT_FALSE(dir_.empty());
    std::filesystem::create_directories(dir_ + "/pki");
    auto pki = net::testing::MakeTestPki(dir_ + "/pki");
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = *pki;
    ASSERT_TRUE(net::testing::MakeTestPeerCerts(pki_).ok());
  }
  void TearDown() override {
    for (auto& n : nodes_) (void)n->Stop(SIGTERM);
    nodes_.clear();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  // A node with certificate `cert` trusting `ca` as its peer CA; no peer TLS when `cert` is empty.
  launcher::NodeSpec Spec(const std::string& name, const std::string& cert,
                          const std::string& ca) const {
    launcher::NodeSpec spec;
    spec.binary = NDS_BINARY;
    spec.name = name;
    spec.data_dir = dir_ + "/" + name;
    spec.token = kJoinToken;
    spec.extra_args = kFastRaft;
    if (!cert.empty()) {
      for (const std::string& a :
           {std::string("--peer-tls-cert"), pki_.Cert(cert), std::string("--peer-tls-key"),
            pki_.Key(cert), std::string("--peer-tls-ca"), pki_.Cert(ca)}) {
        spec.extra_args.push_back(a);
      }
    }
    if (!nodes_.empty()) spec.join = nodes_[0]->api_address();
    return spec;
  }
  launcher::NodeProcess* StartNode(const launcher::NodeSpec& spec) {
    nodes_.push_back(std::make_unique<launcher::NodeProcess>(spec));
    Status s = nodes_.back()->Start();
    EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << Logs();
    return s.ok() ? nodes_.back().get() : nullptr;
  }
  std::string Logs() const {
    std::string logs;
    for (const auto& n : nodes_) logs += "--- " + n->spec().name + "\n" + n->LogTail() + "\n";
    return logs;
  }
  // The value `node` itself holds for `key` (a stale read), or "" when it holds none.
  static std::string LocalValue(launcher::NodeProcess* node, const std::string& key) {
    auto reply = node->Get("/store/" + key + "?consistency=stale");
    return reply.ok() && reply->status == 200 ? reply->body : std::string();
  }
  // Polls (bounded) until `node` holds `value` for `key`.
  static bool Holds(launcher::NodeProcess* node, const std::string& key, const std::string& value) {
    for (int i = 0; i < 200; ++i) {
      if (LocalValue(node, key) == value) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }
  // Puts through the CLI at node 1.
  bool Put(const std::string& key, const std::string& value) {
    std::string output;
    const int code = RunNds(
        "--timeout 10 put " + key + " " + value + " --server " + nodes_[0]->api_address(), &output);
    EXPECT_EQ(code, 0) << output;
    return code == 0;
  }
  // Polls (bounded) until `node`'s log holds `text`.
  static bool Logged(launcher::NodeProcess* node, const std::string& text) {
    for (int i = 0; i < 200; ++i) {
      if (node->LogTail(1 << 20).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  std::string dir_;
  net::testing::TestPki pki_;
  std::vector<std::unique_ptr<launcher::NodeProcess>> nodes_;
};

TEST_F(PeerTlsClusterTest, MembersReplicateAndStrangersAreRefusedAtTheJoinAndOnThePeerPort) {
  ASSERT_NE(StartNode(Spec("n1", "peer", "ca")), nullptr);
  ASSERT_NE(StartNode(Spec("n2", "peer2", "ca")), nullptr);
  ASSERT_NE(StartNode(Spec("n3", "peer", "ca")), nullptr);
  ASSERT_TRUE(Put("k1", "v1"));
  for (auto& n : nodes_) EXPECT_TRUE(Holds(n.get(), "k1", "v1")) << n->spec().name << Logs();

  // A node whose certificate another CA signed, and one without peer TLS, both holding the join
  // token: the member checks the certificate a joiner shows before adding it, so each is refused
  // with the reason and never becomes a learner that cannot catch up.
  struct Stranger {
    const char* name;
    const char* cert;
    const char* ca;
    const char* reason;
  };
  for (const Stranger& st :
       {Stranger{"n4", "other_peer", "other_ca", "not one this cluster's peer CA accepts"},
        Stranger{"n5", "", "", "use mutual TLS: start the joining node with --peer-tls-cert"}}) {
    launcher::NodeProcess stranger(Spec(st.name, st.cert, st.ca));
    EXPECT_FALSE(stranger.Start().ok()) << st.name;
    EXPECT_NE(stranger.LogTail(1 << 20).find(st.reason), std::string::npos)
        << st.name << ": " << stranger.LogTail();
  }
  auto members = nodes_[0]->Get("/cluster/members");
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(nlohmann::json::parse(members->body).size(), 3u) << members->body;

  // On the peer port itself, a TLS client with another CA's certificate, or with none, fails the
  // handshake (the port is dialled directly, as an attacker on the network would).
  const std::string dial = "openssl s_client -connect " + nodes_[0]->peer_address() + " -CAfile " +
                           pki_.Cert("ca") + " </dev/null";
  Output other = RunBounded(
      dial + " -cert " + pki_.Cert("other_peer") + " -key " + pki_.Key("other_peer"), 20);
  EXPECT_TRUE(Logged(nodes_[0].get(), "peer TLS handshake failed")) << other.text << Logs();
  Output none = RunBounded(dial, 20);
  EXPECT_EQ(none.text.find("cluster"), std::string::npos) << none.text;  // nothing of ours leaks

  // The members still replicate.
  ASSERT_TRUE(Put("k2", "v2"));
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(Holds(nodes_[i].get(), "k2", "v2")) << Logs();
}

TEST_F(PeerTlsClusterTest, SomeFlagsOnlyOrAMissingFileStopTheStartWithAClearError) {
  const std::string base = "start --name x --api 127.0.0.1:0 --peer 127.0.0.1:0 --data " + dir_;
  std::string output;
  EXPECT_EQ(RunNds(base + "/a --peer-tls-cert " + pki_.Cert("peer") + " --peer-tls-key " +
                       pki_.Key("peer"),
                   &output),
            2);
  EXPECT_NE(output.find("--peer-tls-ca is missing"), std::string::npos) << output;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/a"));
  output.clear();
  const std::string missing = dir_ + "/pki/missing-ca.pem";
  EXPECT_EQ(RunNds(base + "/b --peer-tls-cert " + pki_.Cert("peer") + " --peer-tls-key " +
                       pki_.Key("peer") + " --peer-tls-ca " + missing,
                   &output),
            2);
  EXPECT_NE(output.find(missing), std::string::npos) << output;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/b"));
}

}  // namespace
}  // namespace nds::test
