// Shared settings and the cluster fixture of the multi-node process tests.
#include "harness/fast_cluster.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <system_error>
#include <thread>
#include <utility>

#include "harness/nds_process.h"

namespace nds::test {

const std::vector<std::string> kFastNodeFlags = {
    "--heartbeat-ms",      "50",      "--election-timeout-ms", "500",
    "--lease-ms",          "400",     "--request-timeout-ms",  "3000",
    "--wal-segment-bytes", "4194304", "--max-value-bytes",     "1048576"};

std::vector<std::string> FastNodeFlagsWith(const std::vector<std::string>& more) {
  std::vector<std::string> flags = kFastNodeFlags;  // pairs: flag, value
  for (size_t i = 0; i < more.size(); ++i) {
    const bool flag_with_value =
        more[i].starts_with("--") && i + 1 < more.size() && !more[i + 1].starts_with("--");
    if (!flag_with_value) {
      flags.push_back(more[i]);
      continue;
    }
    size_t known = 0;
    while (known < kFastNodeFlags.size() && flags[known] != more[i]) known += 2;
    if (known < kFastNodeFlags.size()) {
      flags[known + 1] = more[i + 1];
    } else {
      flags.push_back(more[i]);
      flags.push_back(more[i + 1]);
    }
    ++i;
  }
  return flags;
}

std::unique_ptr<Client> ClientFor(const std::string& servers) {
  client::ClientOptions options;
  options.servers = client::ParseServerList(servers).value();
  options.connect_timeout = std::chrono::milliseconds(500);
  options.request_timeout = std::chrono::seconds(5);
  options.retry_deadline = std::chrono::seconds(10);
  return Client::Create(std::move(options)).value();
}

void FastClusterTest::StartCluster(size_t nodes, const std::vector<std::string>& more_flags,
                                   std::vector<std::vector<std::string>> node_args) {
  if (dir_.empty()) {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = MakeTempDir(test != nullptr ? test->test_suite_name() : "cluster");
  }
  ASSERT_FALSE(dir_.empty());
  launcher::LocalClusterOptions options;
  options.binary = NDS_BINARY;
  options.base_dir = dir_;
  options.nodes = nodes;
  options.extra_args = FastNodeFlagsWith(more_flags);
  options.node_args = std::move(node_args);
  cluster_ = std::make_unique<launcher::LocalCluster>(options);
  Status s = cluster_->Start();
  ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << Logs();
  ASSERT_TRUE(cluster_->WaitForGoose(kElectionBound).ok()) << Logs();
}

void FastClusterTest::TearDown() {
  if (!cluster_) return;
  if (HasFailure()) {
    std::cerr << Logs();  // and the data stays for a look
    return;
  }
  clients_.clear();
  cluster_.reset();  // SIGKILLs what still runs
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string FastClusterTest::Logs() {
  std::string out;
  for (size_t i = 0; cluster_ && i < cluster_->size(); ++i) {
    out += "--- " + cluster_->node(i).spec().name + " ---\n" + cluster_->node(i).LogTail(3000);
  }
  return out;
}

Client& FastClusterTest::On(size_t i) {
  while (clients_.size() <= i) clients_.emplace_back();
  if (!clients_[i]) clients_[i] = ClientFor(cluster_->node(i).api_address());
  return *clients_[i];
}

std::optional<std::string> FastClusterTest::Stale(size_t i, const std::string& key) {
  auto reply = cluster_->node(i).Get("/get?k=" + key + "&consistency=stale");
  EXPECT_TRUE(reply.ok()) << cluster_->node(i).spec().name << ": " << reply.status().ToString();
  if (!reply.ok()) return std::nullopt;
  EXPECT_TRUE(reply->status == 200 || reply->status == 404) << reply->status << reply->body;
  if (reply->status != 200) return std::nullopt;
  return reply->body;
}

bool FastClusterTest::EventuallyHolds(size_t i, const std::string& key, const std::string& want,
                                      std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Stale(i, key) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

size_t FastClusterTest::Goose() {
  auto goose = cluster_->WaitForGoose(kElectionBound);
  EXPECT_TRUE(goose.ok()) << goose.status().ToString();
  return goose.ok() ? *goose : 0;
}

NodeId FastClusterTest::IdOf(size_t i) {
  auto status = On(i).GetStatus();
  EXPECT_TRUE(status.ok()) << status.status().ToString();
  return status.ok() ? status->id : NodeId{};
}

}  // namespace nds::test
