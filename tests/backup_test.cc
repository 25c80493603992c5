// Goal: backups and disaster recovery work as docs/operations.md says. An image saved from a
// follower while writes go on holds at least every write acknowledged before the save, and
// restores into a new cluster with every key, value, Content-Type, revision and secret; new
// revisions go on from the image's and other nodes can join. Damaged images are refused with the
// byte offset, and a restore never leaves a half-made data directory. After a majority is lost
// for good, `nds recover` on the stopped survivor keeps every acknowledged write, lets new nodes
// join, and the old cluster's members are refused with a message naming the recovery.
// Method: real `nds` processes (launcher::LocalCluster, launcher::NodeProcess) on 127.0.0.1 and the
// `nds` command line for save, inspect, restore and recover. Every loop is bounded in count and
// time; nothing sleeps to synchronise.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <signal.h>
#include <thread>

#include <gtest/gtest.h>

#include "client/client.h"
#include "harness/fast_cluster.h"
#include "harness/nds_process.h"
#include "harness/run_nds.h"
#include "launcher/local_cluster.h"
#include "launcher/node_process.h"

namespace nds::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

const std::vector<std::string>& kNodeFlags = kFastNodeFlags;

// The clusters of these tests are FastClusterTest's; a test without one just does not start it.
class Backup : public FastClusterTest {};
class Recovery : public FastClusterTest {};

// The number after "<field> " on a line of `text`, or 0.
uint64_t Field(const std::string& text, const std::string& field) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("(^|\n)" + field + " ([0-9]+)"))) return 0;
  return std::stoull(m[2]);
}

std::string Line(const std::string& text, const std::string& prefix) {
  size_t at = text.find(prefix);
  if (at == std::string::npos) return "";
  size_t end = text.find('\n', at);
  return text.substr(at + prefix.size(), end - at - prefix.size());
}

bool NoEntryStartsWith(const std::string& dir, const std::string& prefix) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with(prefix)) return false;
  }
  return true;
}

struct Stored {
  std::string value;
  std::string content_type;
  uint64_t revision = 0;
};

TEST_F(Backup, AnImageSavedFromAFollowerUnderLoadRestoresEveryRecordIntoANewCluster) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(3));
  auto leader = cluster_->WaitForGoose(seconds(10));
  ASSERT_TRUE(leader.ok());
  const size_t follower = (*leader + 1) % 3;
  auto writer = ClientFor(cluster_->node(*leader).api_address());
  std::map<std::string, Stored> base;
  for (int i = 0; i < 200; ++i) {
    std::string key = "base/" + std::to_string(i);
    std::string value = "value-" + std::to_string(i) + std::string(i % 7, '\x01');
    std::string ct = i % 3 == 0 ? "" : "text/x-" + std::to_string(i % 5);
    client::PutOptions po;
    po.content_type = ct;
    auto put = writer->Put(key, value, po);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    base[key] = Stored{value, ct.empty() ? "application/octet-stream" : ct, put->revision};
  }
  auto secret_key = writer->StoreSecret("db-password", "hunter2");
  ASSERT_TRUE(secret_key.ok());

  // Writes go on during the save; every one acknowledged before it starts must be in the image.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> acked;
  std::thread load([&] {
    auto c = ClientFor(cluster_->node(*leader).api_address());
    for (int i = 0; i < 20000 && !stop; ++i) {
      std::string key = "load/" + std::to_string(i);
      if (!c->Put(key, key).ok()) continue;
      std::lock_guard lock(mu);
      acked.push_back(key);
    }
  });
  for (int i = 0; i < 500; ++i) {  // until some load writes were acknowledged
    {
      std::lock_guard lock(mu);
      if (acked.size() >= 50) break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  std::vector<std::string> acked_before;
  {
    std::lock_guard lock(mu);
    acked_before = acked;
  }
  const std::string dir = MakeTempDir("backup-img");
  const std::string image = dir + "/img";
  CommandResult save =
      RunNds("snapshot save " + image + " --server " + cluster_->node(follower).api_address());
  stop = true;
  load.join();
  ASSERT_EQ(save.exit_code, 0) << save.output;
  EXPECT_FALSE(std::filesystem::exists(image + ".tmp"));
  const uint64_t image_revision = Field(save.output, "revision");
  EXPECT_GT(image_revision, 0u) << save.output;

  // Restore into a new one-member cluster on known ports.
  launcher::NodeSpec spec;
  spec.binary = NDS_BINARY;
  spec.name = "restored";
  spec.data_dir = dir + "/restored";
  spec.api_port = FreePort();
  spec.peer_port = FreePort();
  spec.extra_args = kNodeFlags;
  launcher::NodeProcess restored(spec);
  CommandResult restore =
      RunNds("snapshot restore " + image + " --data " + spec.data_dir + " --name restored --api " +
             restored.api_address() + " --peer " + restored.peer_address());
  ASSERT_EQ(restore.exit_code, 0) << restore.output;
  EXPECT_EQ(Field(restore.output, "revision"), image_revision);
  const std::string join_token = Line(restore.output, "join token: ");
  ASSERT_FALSE(join_token.empty()) << restore.output;
  ASSERT_TRUE(restored.Start().ok()) << restored.LogTail();
  ASSERT_TRUE(restored.WaitFor200("/readyz", seconds(20)).ok()) << restored.LogTail();
  auto r = ClientFor(restored.api_address());
  auto src = ClientFor(cluster_->node(*leader).api_address());
  auto status = r->GetStatus();
  ASSERT_TRUE(status.ok());
  auto src_status = src->GetStatus();
  ASSERT_TRUE(src_status.ok());
  EXPECT_NE(status->cluster_id, src_status->cluster_id);

  for (const auto& [key, want] : base) {
    auto got = r->Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(got->value, want.value) << key;
    EXPECT_EQ(got->revision, want.revision) << key;
    EXPECT_EQ(got->content_type, want.content_type) << key;
  }
  for (const auto& key : acked_before) {
    auto got = r->Get(key);
    ASSERT_TRUE(got.ok()) << key
                          << " was acknowledged before the save: " << got.status().ToString();
    auto was = src->Get(key);
    ASSERT_TRUE(was.ok());
    EXPECT_EQ(got->value, was->value);
    EXPECT_EQ(got->revision, was->revision);
  }
  // Every key of the image is the source's key as it was; none is newer than the image.
  size_t restored_keys = 0;
  Status walk = r->ForEachKey("", [&](std::string_view key) {
    ++restored_keys;
    auto got = r->Get(key);
    auto was = src->Get(key);
    if (!got.ok() || !was.ok()) return Status(StatusCode::kNotFound, std::string(key));
    EXPECT_EQ(got->value, was->value) << key;
    EXPECT_EQ(got->revision, was->revision) << key;
    EXPECT_LE(got->revision, image_revision) << key;
    return Status::Ok();
  });
  EXPECT_TRUE(walk.ok()) << walk.ToString();
  EXPECT_EQ(restored_keys, Field(save.output, "keys"));
  auto secret = r->RetrieveSecret("db-password", *secret_key);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ(*secret, "hunter2");

  // Revisions go on from the image's, and another node joins the restored cluster.
  auto put = r->Put("after-restore", "x");
  ASSERT_TRUE(put.ok());
  EXPECT_GT(put->revision, image_revision);
  launcher::NodeSpec joiner = spec;
  joiner.name = "joiner";
  joiner.data_dir = dir + "/joiner";
  joiner.api_port = FreePort();
  joiner.peer_port = FreePort();
  joiner.token = join_token;
  joiner.join = restored.api_address();
  launcher::NodeProcess second(joiner);
  ASSERT_TRUE(second.Start().ok()) << second.LogTail();
  ASSERT_TRUE(second.WaitFor200("/readyz", seconds(30)).ok()) << second.LogTail();
  auto j = ClientFor(second.api_address());
  auto got = j->Get("base/7");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->value, base["base/7"].value);
  if (!HasFailure()) {
    IgnoreError(second.Stop(SIGTERM).status(), "the directory goes next");
    IgnoreError(restored.Stop(SIGTERM).status(), "the directory goes next");
    std::filesystem::remove_all(dir);
  }
}

TEST_F(Backup, DamagedImagesAndNonEmptyTargetsAreRefused) {
  std::string dir = MakeTempDir("backup-bad");
  NdsProcess node(dir + "/node");
  ASSERT_TRUE(node.Start()) << node.error;
  auto c = ClientFor(node.address());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(c->Put("k" + std::to_string(i), "v").ok());
  const std::string image = dir + "/img";
  CommandResult save = RunNds("snapshot save " + image + " --server " + node.address());
  ASSERT_EQ(save.exit_code, 0) << save.output;
  const uint64_t bytes = Field(save.output, "bytes");
  ASSERT_EQ(bytes, std::filesystem::file_size(image));

  std::filesystem::copy_file(image, dir + "/cut");
  std::filesystem::resize_file(dir + "/cut", bytes - 10);
  CommandResult cut = RunNds("snapshot inspect " + dir + "/cut");
  EXPECT_NE(cut.exit_code, 0);
  EXPECT_NE(cut.output.find("truncated at byte offset " + std::to_string(bytes - 10)),
            std::string::npos)
      << cut.output;

  std::filesystem::copy_file(image, dir + "/flipped");
  {
    std::fstream f(dir + "/flipped", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(bytes / 2));
    char b = 0;
    f.read(&b, 1);
    f.seekp(static_cast<std::streamoff>(bytes / 2));
    b = static_cast<char>(b ^ 0x20);
    f.write(&b, 1);
  }
  CommandResult flipped = RunNds("snapshot inspect " + dir + "/flipped");
  EXPECT_NE(flipped.exit_code, 0);
  EXPECT_NE(flipped.output.find("byte offset"), std::string::npos) << flipped.output;
  EXPECT_NE(flipped.output.find("checksum bad"), std::string::npos) << flipped.output;

  // A damaged image leaves no data directory (nor its tmp-) behind.
  std::filesystem::create_directories(dir + "/targets");
  CommandResult bad_restore =
      RunNds("snapshot restore " + dir + "/cut --data " + dir + "/targets/new");
  EXPECT_NE(bad_restore.exit_code, 0);
  EXPECT_NE(bad_restore.output.find("byte offset"), std::string::npos) << bad_restore.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/targets/new"));
  EXPECT_TRUE(NoEntryStartsWith(dir + "/targets", "new.tmp-"));

  // A non-empty target is refused and left as it was.
  std::filesystem::create_directories(dir + "/targets/full");
  std::ofstream(dir + "/targets/full/precious") << "keep me";
  CommandResult full = RunNds("snapshot restore " + image + " --data " + dir + "/targets/full");
  EXPECT_NE(full.exit_code, 0);
  EXPECT_NE(full.output.find("not empty"), std::string::npos) << full.output;
  EXPECT_EQ(std::filesystem::file_size(dir + "/targets/full/precious"), 7u);
  EXPECT_TRUE(NoEntryStartsWith(dir + "/targets", "full.tmp-"));

  // A running node's directory is refused by recover.
  CommandResult busy = RunNds("recover --data " + dir + "/node");
  EXPECT_NE(busy.exit_code, 0);
  EXPECT_NE(busy.output.find("in use by a running nds node"), std::string::npos) << busy.output;
  if (!HasFailure()) {
    node.Stop(SIGTERM);
    std::filesystem::remove_all(dir);
  }
}

TEST_F(Recovery, ASurvivorOfALostMajorityKeepsEveryAcknowledgedWriteAndFencesTheOldCluster) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(3));
  auto c = ClientFor(cluster_->ServerList());
  std::vector<std::string> acked;
  for (int i = 0; i < 300; ++i) {
    std::string key = "k" + std::to_string(i);
    ASSERT_TRUE(c->Put(key, "v" + std::to_string(i)).ok());
    acked.push_back(key);
  }
  // A majority is gone for good.
  ASSERT_TRUE(cluster_->Kill(1).ok());
  ASSERT_TRUE(cluster_->Kill(2).ok());
  cluster_->MarkRemoved(1);
  cluster_->MarkRemoved(2);
  const std::string data0 = cluster_->node(0).spec().data_dir;
  CommandResult running = RunNds("recover --data " + data0);
  EXPECT_NE(running.exit_code, 0);
  EXPECT_NE(running.output.find("in use"), std::string::npos) << running.output;
  ASSERT_TRUE(cluster_->Terminate(0).ok());

  CommandResult recover = RunNds("recover --data " + data0);
  ASSERT_EQ(recover.exit_code, 0) << recover.output;
  EXPECT_NE(recover.output.find("kept last index"), std::string::npos) << recover.output;
  ASSERT_TRUE(cluster_->Restart(0).ok()) << cluster_->node(0).LogTail();
  ASSERT_TRUE(cluster_->node(0).WaitFor200("/readyz", seconds(20)).ok())
      << cluster_->node(0).LogTail();

  // Two new nodes join the survivor; nothing acknowledged before the loss is missing anywhere.
  auto third = cluster_->AddNode();
  ASSERT_TRUE(third.ok()) << third.status().ToString() << cluster_->node(0).LogTail();
  auto fourth = cluster_->AddNode();
  ASSERT_TRUE(fourth.ok()) << fourth.status().ToString();
  for (size_t i : {size_t{0}, *third, *fourth}) {
    auto on = ClientFor(cluster_->node(i).api_address());
    for (size_t k = 0; k < acked.size(); ++k) {
      auto got = on->Get(acked[k]);
      ASSERT_TRUE(got.ok()) << acked[k] << " on node " << i << ": " << got.status().ToString();
      EXPECT_EQ(got->value, "v" + std::to_string(k));
    }
  }
  auto members = ClientFor(cluster_->node(0).api_address())->Members();
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(members->size(), 3u);

  // A former member that comes back is refused, and the survivor says why.
  ASSERT_TRUE(cluster_->Restart(1).ok()) << cluster_->node(1).LogTail();
  bool refused = false;
  for (int i = 0; i < 300 && !refused; ++i) {  // up to ~30 s
    for (size_t n : {size_t{0}, *third, *fourth}) {
      if (cluster_->node(n).LogTail(1 << 20).find("recovered into cluster") != std::string::npos) {
        refused = true;
      }
    }
    if (!refused) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(refused) << cluster_->node(0).LogTail();
  auto after = ClientFor(cluster_->node(0).api_address())->Members();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 3u);
}

}  // namespace
}  // namespace nds::test
