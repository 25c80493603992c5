// Goal: HTTPS end to end with real processes (shared contract: "Security"): a 3-node cluster
// whose nodes serve the API over TLS only and join each other through https://; the CLI puts and
// gets through it; plain HTTP on a node's port is refused with a 400; a CLI that does not trust
// the CA fails with an error that says so; `nds bench` runs puts over HTTPS; a short `nds check`
// over HTTPS finds the history linearizable; a node started with a missing certificate file
// exits non-zero naming the file; SIGHUP reloads the certificate.
// Method: launcher::NodeProcess for `nds start` with --tls-* flags (probed over HTTPS),
// certificates made at test time (net/test_pki.h), the `nds` binary run through popen. Every
// loop is bounded.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <signal.h>
#include <stdio.h>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/nds_process.h"
#include "harness/run_nds.h"
#include "launcher/child_process.h"
#include "launcher/node_process.h"
#include "net/test_pki.h"

namespace nds::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::vector<std::string> kFastRaft = {
    "--heartbeat-ms",      "50",      "--election-timeout-ms", "500",    "--lease-ms", "400",
    "--wal-segment-bytes", "4194304", "--max-value-bytes",     "1048576"};

class HttpsClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("https");
    ASSERT_FALSE(dir_.empty());
    std::filesystem::create_directories(dir_ + "/pki");
    auto pki = net::testing::MakeTestPki(dir_ + "/pki");
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = *pki;
  }

  launcher::NodeSpec Spec(const std::string& name) const {
    launcher::NodeSpec spec;
    spec.binary = NDS_BINARY;
    spec.name = name;
    spec.data_dir = dir_ + "/" + name;
    spec.token = "https-test-token-0123456789";
    spec.extra_args = kFastRaft;
    for (const std::string& a :
         {std::string("--tls-cert"), pki_.Cert("server"), std::string("--tls-key"),
          pki_.Key("server"), std::string("--cacert"), pki_.Cert("ca")}) {
      spec.extra_args.push_back(a);
    }
    spec.https_ca_file = pki_.Cert("ca");
    return spec;
  }

  // https://127.0.0.1:P1,... for every node.
  std::string Servers() const {
    std::string servers;
    for (const auto& n : nodes_) {
      if (!servers.empty()) servers += ",";
      servers += "https://" + n->api_address();
    }
    return servers;
  }

  std::string Logs() const {
    std::string logs;
    for (const auto& n : nodes_) logs += "--- " + n->spec().name + "\n" + n->LogTail() + "\n";
    return logs;
  }

  void StartCluster() {
    nodes_.push_back(std::make_unique<launcher::NodeProcess>(Spec("n1")));
    Status s = nodes_[0]->Start();
    ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << Logs();
    for (const std::string name : {"n2", "n3"}) {
      launcher::NodeSpec spec = Spec(name);
      spec.join = "https://" + nodes_[0]->api_address();
      nodes_.push_back(std::make_unique<launcher::NodeProcess>(spec));
      s = nodes_.back()->Start();
      ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << Logs();
    }
  }

  void TearDown() override {
    for (auto& n : nodes_) (void)n->Stop(SIGTERM);
    nodes_.clear();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  std::string dir_;
  net::testing::TestPki pki_;
  std::vector<std::unique_ptr<launcher::NodeProcess>> nodes_;
};

TEST_F(HttpsClusterTest, ThreeNodesJoinOverHttpsAndServeTheCliBenchAndCheck) {
  StartCluster();
  ASSERT_EQ(nodes_.size(), 3u);
  const std::string tls_flags = "--server " + Servers() + " --cacert " + pki_.Cert("ca");

  CommandResult members = RunNds("--timeout 10 members " + tls_flags);
  ASSERT_EQ(members.exit_code, 0) << members.output << Logs();
  EXPECT_NE(members.output.find("n3"), std::string::npos) << members.output;

  CommandResult put = RunNds("--timeout 10 put tls-key tls-value " + tls_flags);
  ASSERT_EQ(put.exit_code, 0) << put.output << Logs();
  // Read back through the last node alone.
  CommandResult get = RunNds("--timeout 10 get tls-key --server https://" +
                             nodes_[2]->api_address() + " --cacert " + pki_.Cert("ca"));
  ASSERT_EQ(get.exit_code, 0) << get.output;
  EXPECT_EQ(get.output, "tls-value");

  // Plain HTTP to the same port: the 400 refusal, and the CLI shows it.
  CommandResult plain =
      RunNds("--timeout 10 get tls-key --server http://" + nodes_[0]->api_address());
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_NE(plain.output.find("HTTPS"), std::string::npos) << plain.output;

  // A CLI that trusts another CA is told why it failed.
  CommandResult untrusted = RunNds("--timeout 10 get tls-key --server https://" +
                                   nodes_[0]->api_address() + " --cacert " + pki_.Cert("other_ca"));
  EXPECT_NE(untrusted.exit_code, 0);
  EXPECT_NE(untrusted.output.find("certificate"), std::string::npos) << untrusted.output;

  CommandResult bench = RunNds("bench " + tls_flags +
                               " --workload put --concurrency 8 --duration 2s --keys 100 "
                               "--no-progress --json");
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  EXPECT_EQ(bench.output.find("\"ops_ok\":0,"), std::string::npos) << bench.output;

  CommandResult check = RunNds("check " + tls_flags + " --ops 200 --clients 4 --seed 7");
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST_F(HttpsClusterTest, MissingCertificateFileIsNamedAndTheNodeExits) {
  const std::string missing = dir_ + "/pki/missing.pem";
  CommandResult r = RunNds("start --name x --api 127.0.0.1:0 --peer 127.0.0.1:0 --data " + dir_ +
                           "/x --tls-cert " + missing + " --tls-key " + pki_.Key("server"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(missing), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/x/meta"));
}

TEST_F(HttpsClusterTest, SighupReloadsTheCertificateAndABadOneIsLoggedAndKept) {
  // The node reads copies that the test replaces.
  const std::string cert = dir_ + "/live.pem";
  const std::string key = dir_ + "/live.key";
  std::filesystem::copy_file(pki_.Cert("server"), cert);
  std::filesystem::copy_file(pki_.Key("server"), key);
  launcher::NodeSpec spec = Spec("n1");
  spec.extra_args = kFastRaft;
  for (const std::string& a : {std::string("--tls-cert"), cert, std::string("--tls-key"), key}) {
    spec.extra_args.push_back(a);
  }
  nodes_.push_back(std::make_unique<launcher::NodeProcess>(spec));
  Status s = nodes_[0]->Start();
  ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << Logs();

  // Replace with a certificate from another CA: after SIGHUP, a client trusting only the first
  // CA is refused, one trusting the other CA is served.
  std::filesystem::copy_file(pki_.Cert("other_server"), cert,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(pki_.Key("other_server"), key,
                             std::filesystem::copy_options::overwrite_existing);
  nodes_[0]->Signal(SIGHUP);
  const std::string server = " --server https://" + nodes_[0]->api_address();
  bool switched = false;
  for (int i = 0; i < 100 && !switched; ++i) {  // the signal is handled asynchronously
    switched =
        RunNds("--timeout 5 role" + server + " --cacert " + pki_.Cert("other_ca")).exit_code == 0;
    if (!switched) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(switched) << Logs();
  EXPECT_NE(RunNds("--timeout 5 role" + server + " --cacert " + pki_.Cert("ca")).exit_code, 0);

  // A broken key: the reload fails, is logged, and the node keeps serving the last good pair.
  {
    std::ofstream broken(key, std::ios::trunc);
    broken << "garbage\n";
  }
  nodes_[0]->Signal(SIGHUP);
  bool logged = false;
  for (int i = 0; i < 100 && !logged; ++i) {
    logged = nodes_[0]->LogTail(20000).find("TLS reload failed") != std::string::npos;
    if (!logged) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(logged) << Logs();
  EXPECT_EQ(RunNds("--timeout 5 role" + server + " --cacert " + pki_.Cert("other_ca")).exit_code,
            0);
  EXPECT_TRUE(nodes_[0]->Running());
}

}  // namespace
}  // namespace nds::test
