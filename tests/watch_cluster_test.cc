// Goal: watches on a real cluster: every acknowledged write reaches a watcher exactly once and in
// revision order even when the node it streams from is killed (the client resumes on another
// node); a watcher that comes back after its history was compacted is told so (410) and can go
// on from the compact revision; reads at a revision answer the old value or 410; a follower
// serves a watch from its own applied log; `nds watch` prints the changes.
// Method: FastClusterTest (launcher::LocalCluster) of 3 `nds start` processes on 127.0.0.1 (fast
// timing), nds::Client watches in a thread, writes from the test thread. Every loop is bounded in
// count and time.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "client/client.h"
#include "harness/fast_cluster.h"
#include "harness/nds_process.h"
#include "harness/run_bounded.h"
#include "launcher/local_cluster.h"
#include "util/thread_annotations.h"

namespace nds::test {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

class WatchClusterTest : public FastClusterTest {
 protected:
  // A put retried (bounded) until acknowledged; its revision, 0 when it never was.
  uint64_t PutAcked(Client& c, const std::string& key, const std::string& value) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto r = c.Put(key, value);
      if (r.ok()) return r->revision;
    }
    return 0;
  }
};

struct Seen {
  Mutex mu;
  std::vector<client::WatchEvent> events NDS_GUARDED_BY(mu);
  size_t count() {
    MutexLock lock(mu);
    return events.size();
  }
};

TEST_F(WatchClusterTest, AWatchResumesOnAnotherNodeWhenItsNodeIsKilledAndMissesNothing) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(3));
  auto writer = ClientFor(cluster_->ServerList());
  const uint64_t start = PutAcked(*writer, "w/start", "x");
  ASSERT_GT(start, 0u);
  constexpr int kWrites = 60;
  Seen seen;
  // Set once every write was acknowledged: the watcher stops when it has seen that many.
  std::atomic<size_t> expected{SIZE_MAX};
  client::WatchEnd end;
  Status watch_status;
  // The watcher streams from node 0 first (the first server of its list).
  std::thread watcher([&] {
    auto c = ClientFor(cluster_->ServerList());
    client::WatchRequest request;
    request.prefix = "w/k";
    request.from = start;
    request.progress = true;
    const auto deadline = Clock::now() + seconds(90);
    watch_status = c->Watch(
        request,
        [&](const client::WatchEvent& e) {
          if (e.type != client::WatchEvent::Type::kProgress) {
            MutexLock lock(seen.mu);
            seen.events.push_back(e);
          }
          // Progress lines come every second, so this is checked even when nothing changes.
          if (seen.count() >= expected || Clock::now() > deadline) return Cancelled("enough");
          return Status::Ok();
        },
        &end);
  });
  std::map<std::string, uint64_t> acked;  // key -> revision of its acknowledged put
  for (int i = 0; i < kWrites; ++i) {
    if (i == kWrites / 3) {
      EXPECT_TRUE(cluster_->Kill(0).ok());
    }
    const std::string key = "w/k" + std::to_string(100 + i);
    const uint64_t rev = PutAcked(*writer, key, std::to_string(i));
    if (rev == 0) {
      ADD_FAILURE() << "never acknowledged: " << key;
      break;
    }
    acked[key] = rev;
  }
  expected = acked.size();
  watcher.join();
  EXPECT_EQ(watch_status.code(), StatusCode::kCancelled) << watch_status.ToString();
  EXPECT_GE(end.reconnects, 1u);
  MutexLock lock(seen.mu);
  ASSERT_EQ(seen.events.size(), acked.size());
  uint64_t last = start;
  for (const client::WatchEvent& e : seen.events) {
    EXPECT_GT(e.revision, last) << e.key;  // revision order, each once
    last = e.revision;
    ASSERT_TRUE(acked.contains(e.key)) << e.key;
    EXPECT_EQ(acked[e.key], e.revision) << e.key;
  }
}

TEST_F(WatchClusterTest, CompactedHistoryIsReportedThenTheWatchGoesOnFromTheFloor) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(3, {"--history-revisions", "20"}));
  auto c = ClientFor(cluster_->ServerList());
  const uint64_t first = PutAcked(*c, "h/k", "v0");
  ASSERT_GT(first, 0u);
  // A watcher gets the first change, then goes away.
  client::WatchRequest request;
  request.prefix = "h/";
  request.from = first - 1;
  client::WatchEnd end;
  Status s = c->Watch(
      request, [](const client::WatchEvent&) { return Cancelled("one is enough"); }, &end);
  ASSERT_EQ(s.code(), StatusCode::kCancelled) << s.ToString();
  uint64_t last = 0;
  for (int i = 1; i <= 40; ++i) last = PutAcked(*c, "h/k", "v" + std::to_string(i));
  ASSERT_GT(last, first + 20);
  // Coming back from where it left off: the history is gone, and the watch says so.
  request.from = first;
  s = c->Watch(
      request, [](const client::WatchEvent&) { return Status::Ok(); }, &end);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  ASSERT_TRUE(end.compact_revision.has_value());
  EXPECT_GT(*end.compact_revision, first);
  // Reads at a revision: 410 below the floor, the value as of R above it.
  auto old = c->Raw("GET", "/store/h%2Fk?revision=" + std::to_string(first));
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->status, 410);
  EXPECT_NE(old->body.find("\"compact_revision\":"), std::string::npos) << old->body;
  auto recent = c->Raw("GET", "/store/h%2Fk?revision=" + std::to_string(last - 1));
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ(recent->status, 200);
  EXPECT_EQ(recent->body, "v39");
  // From the floor the watch goes on: the next write arrives.
  request.from = last;
  const uint64_t next = PutAcked(*c, "h/k", "after");
  client::WatchEvent got;
  s = c->Watch(request, [&](const client::WatchEvent& e) {
    got = e;
    return Cancelled("got it");
  });
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.ToString();
  EXPECT_EQ(got.revision, next);
  EXPECT_EQ(got.value, "after");
}

TEST_F(WatchClusterTest, AFollowerServesAWatchFromItsOwnLogAndTheCliPrintsIt) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(3));
  auto goose = cluster_->WaitForGoose(std::chrono::seconds(20));
  ASSERT_TRUE(goose.ok());
  const size_t follower = (*goose + 1) % 3;
  auto leader_client = ClientFor(cluster_->node(*goose).api_address());
  auto follower_client = ClientFor(cluster_->node(follower).api_address());
  const uint64_t before = PutAcked(*leader_client, "f/other", "x");
  std::atomic<uint64_t> acked{0};
  std::thread writer([&] { acked = PutAcked(*leader_client, "f/key", "hello"); });
  client::WatchRequest request;
  request.key = "f/key";
  request.from = before;
  client::WatchEvent got;
  Status s = follower_client->Watch(request, [&](const client::WatchEvent& e) {
    got = e;
    return Cancelled("got it");
  });
  writer.join();
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.ToString();
  EXPECT_EQ(got.revision, acked.load());
  EXPECT_EQ(got.key, "f/key");
  EXPECT_EQ(got.value, "hello");
  EXPECT_EQ(follower_client->current_server().HostPort(), cluster_->node(follower).api_address());
  // The CLI, from the same revision, as JSON lines (it runs until stopped: timeout ends it).
  Output out = RunBounded("timeout 3 " + std::string(NDS_BINARY) + " watch --server " +
                              cluster_->node(follower).api_address() + " --prefix f/ --from " +
                              std::to_string(before) + " -o json",
                          20);
  EXPECT_NE(out.text.find("\"key\":\"f/key\""), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("\"value\":\"hello\""), std::string::npos) << out.text;
  // Bad requests are refused clearly.
  auto both = follower_client->Raw("GET", "/watch?key=a&prefix=b");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->status, 400);
  auto bad_from = follower_client->Raw("GET", "/watch?from=abc");
  ASSERT_TRUE(bad_from.ok());
  EXPECT_EQ(bad_from->status, 400);
}

}  // namespace
}  // namespace nds::test
