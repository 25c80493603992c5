// Goal: on the leader, a keepalive is kept in memory (no log entry) once the keeper has seen this
// node lead in its term, and never for a lease the node has applied the end of (a revocation
// before the keepalive answers 404, not 200); the keeper learns of grants, keepalives and
// revocations from the applier's changes and expires a lease left alone for its TTL. Method: an
// ApiService with a LeaseKeeper (its rounds run by the test through CheckOnce) over a one-node
// cluster.
#include "api/lease_keeper.h"

#include <thread>

#include <nlohmann/json.hpp>

#include "api/service_for_test.h"

namespace nds::api {
namespace {

class LeaseKeeperTest : public ServiceTest {
 protected:
  LeaseKeeperTest() {
    if (!lone_.ok()) return;
    keeper_ = std::make_shared<LeaseKeeper>(node_, LeaseKeeperOptions{});
    ApiOptions api_options;
    api_options.cluster_secret = kClusterSecret;
    api_options.lease_keeper = keeper_;
    api_ = std::make_unique<ApiService>(node_, api_options);
  }
  ~LeaseKeeperTest() override {
    api_.reset();
    keeper_.reset();
  }
  uint64_t Grant(uint64_t ttl_ms) {
    auto granted = Call("POST", "/leases", "{\"ttl_ms\": " + std::to_string(ttl_ms) + "}");
    EXPECT_EQ(granted.status, 201) << granted.body;
    return granted.status == 201 ? nlohmann::json::parse(granted.body)["id"].get<uint64_t>() : 0;
  }
  // Submits `cmd` and waits for its outcome (bounded).
  store::ApplyResult SubmitAndWait(store::Command cmd) {
    auto promise = std::make_shared<std::promise<store::ApplyResult>>();
    auto future = promise->get_future();
    node_->Submit(std::move(cmd),
                  [promise](const store::ApplyResult& r) { promise->set_value(r); });
    EXPECT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return future.get();
  }

  std::shared_ptr<LeaseKeeper> keeper_;
};

TEST_F(LeaseKeeperTest, TheLeaderKeepsAKeepaliveInMemoryWithoutALogEntry) {
  const uint64_t id = Grant(60000);
  ASSERT_NE(id, 0u);
  const std::string keepalive = "/leases/" + std::to_string(id) + "/keepalive";
  // Before the keeper has seen this node lead, the keepalive goes through the log.
  uint64_t before = node_->GetStatus().commit_index;
  auto logged = Call("POST", keepalive);
  ASSERT_EQ(logged.status, 200) << logged.body;
  EXPECT_GT(node_->GetStatus().commit_index, before);

  keeper_->CheckOnce();
  before = node_->GetStatus().commit_index;
  for (int i = 0; i < 3; ++i) {
    auto kept = Call("POST", keepalive);
    ASSERT_EQ(kept.status, 200) << kept.body;
    EXPECT_EQ(nlohmann::json::parse(kept.body)["ttl_ms"], 60000);
  }
  EXPECT_EQ(node_->GetStatus().commit_index, before);
  auto left = keeper_->Remaining(id);
  ASSERT_TRUE(left);
  EXPECT_GT(left->count(), 50000);
}

TEST_F(LeaseKeeperTest, LeasesKeptAliveInOneBatchRequestOutliveOneLeftAlone) {
  const uint64_t a = Grant(2000), b = Grant(2000), alone = Grant(2000);
  ASSERT_NE(a, 0u);
  ASSERT_NE(b, 0u);
  ASSERT_NE(alone, 0u);
  const std::string body = "{\"ids\": [" + std::to_string(a) + "," + std::to_string(b) + "]}";
  auto exists = [this](uint64_t id) {
    auto lease = store::ReadLease(*node_->engine().NewView(), id);
    EXPECT_TRUE(lease.ok());
    return lease.ok() && lease->has_value();
  };
  // A keepalive for a and b every 100 ms or so, until the lease left alone, granted with them, has
  // expired (after a whole TTL of 2 s); a and b must outlive it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  keeper_->CheckOnce();
  while (exists(alone) && std::chrono::steady_clock::now() < deadline) {
    auto kept = Call("POST", "/leases/keepalive", body);
    ASSERT_EQ(kept.status, 200) << kept.body;
    auto j = nlohmann::json::parse(kept.body)["leases"];
    ASSERT_EQ(j.size(), 2u) << kept.body;
    EXPECT_EQ(j[0]["ttl_ms"], 2000) << kept.body;
    EXPECT_EQ(j[1]["ttl_ms"], 2000) << kept.body;
    keeper_->CheckOnce();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(exists(alone));
  EXPECT_TRUE(exists(a));
  EXPECT_TRUE(exists(b));
  auto left = keeper_->Remaining(a);
  ASSERT_TRUE(left);
  EXPECT_GT(left->count(), 1000);
}

TEST_F(LeaseKeeperTest, AKeepaliveAfterTheRevocationIsNotFoundEvenBeforeTheNextRound) {
  const uint64_t id = Grant(60000);
  ASSERT_NE(id, 0u);
  keeper_->CheckOnce();
  ASSERT_EQ(Call("DELETE", "/leases/" + std::to_string(id)).status, 204);
  // No keeper round between: the keepalive itself brings the clocks up to the applied state.
  EXPECT_EQ(Call("POST", "/leases/" + std::to_string(id) + "/keepalive").status, 404);
  EXPECT_FALSE(keeper_->Remaining(id));
}

TEST_F(LeaseKeeperTest, ALeaseLeftAloneForItsTtlExpires) {
  // Granted through the log directly: the routes refuse a TTL this short.
  store::ApplyResult granted = SubmitAndWait(store::LeaseGrantCommand(1, 0, 100, ""));
  ASSERT_TRUE(granted.status.ok()) << granted.status.ToString();
  const uint64_t id = granted.revision;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    keeper_->CheckOnce();
    auto lease = store::ReadLease(*node_->engine().NewView(), id);
    ASSERT_TRUE(lease.ok());
    gone = !lease->has_value();
    if (!gone) std::this_thread::yield();
  }
  EXPECT_TRUE(gone);
  EXPECT_EQ(Call("POST", "/leases/" + std::to_string(id) + "/keepalive").status, 404);
}

}  // namespace
}  // namespace nds::api
