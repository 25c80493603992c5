// Goal: the lease keeper learns every lease change the applier commits without reading every
// lease again: the first take, and the first after Invalidate or too many changes, reads them
// all; the others hand out exactly the leases written and deleted since, at their latest state,
// including expiry leases granted and dropped by RESP commands. Method: BatchApplier over the
// in-memory engine, with a LeaseFeed.
#include "store/lease_feed.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "store/applier_fixture_for_test.h"
#include "store/command.h"

namespace nds::store {
namespace {

class LeaseFeedTest : public ApplierFixture {
 protected:
  LeaseFeedTest() { feed_ = &feed; }
  uint64_t Grant(uint64_t ttl_ms) {
    ApplyResult r = ApplyOne(LeaseGrantCommand(ttl_ms, 10, 1000, ""));
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    return r.revision;
  }
  LeaseFeed::Taken Take() {
    auto t = feed.Take(*engine_);
    EXPECT_TRUE(t.ok());
    std::sort(t->leases.begin(), t->leases.end(),
              [](const LeaseSummary& a, const LeaseSummary& b) { return a.id < b.id; });
    std::sort(t->gone.begin(), t->gone.end());
    return *t;
  }
  static std::vector<uint64_t> Ids(const LeaseFeed::Taken& t) {
    std::vector<uint64_t> ids;
    for (const LeaseSummary& l : t.leases) ids.push_back(l.id);
    return ids;
  }

  LeaseFeed feed;
};

TEST_F(LeaseFeedTest, TheFirstTakeReadsEveryLeaseThenOnlyTheChanges) {
  const uint64_t a = Grant(1000);
  const uint64_t b = Grant(2000);
  LeaseFeed::Taken first = Take();
  EXPECT_TRUE(first.all);
  EXPECT_EQ(first.leases, (std::vector<LeaseSummary>{{a, 1000, a}, {b, 2000, b}}));

  const uint64_t c = Grant(3000);
  ApplyResult kept = ApplyOne(LeaseKeepAliveCommand({a}));
  ASSERT_TRUE(kept.status.ok());
  ASSERT_TRUE(ApplyOne(LeaseRevokeCommand(b)).status.ok());
  LeaseFeed::Taken next = Take();
  EXPECT_FALSE(next.all);
  EXPECT_EQ(next.leases, (std::vector<LeaseSummary>{{a, 1000, kept.revision}, {c, 3000, c}}));
  EXPECT_EQ(next.gone, (std::vector<uint64_t>{b}));

  LeaseFeed::Taken none = Take();
  EXPECT_FALSE(none.all);
  EXPECT_TRUE(none.leases.empty());
  EXPECT_TRUE(none.gone.empty());
}

TEST_F(LeaseFeedTest, AnExpiryThatLostToAKeepaliveChangesNothing) {
  const uint64_t a = Grant(1000);
  (void)Take();
  ASSERT_TRUE(ApplyOne(LeaseKeepAliveCommand({a})).status.ok());
  (void)Take();
  EXPECT_EQ(ApplyOne(LeaseExpireCommand(a, a)).status.code(), StatusCode::kFailedPrecondition);
  LeaseFeed::Taken t = Take();
  EXPECT_TRUE(t.leases.empty());
  EXPECT_TRUE(t.gone.empty());
  ApplyResult expired = ApplyOne(LeaseExpireCommand(a, next_.value - 1));
  ASSERT_TRUE(expired.status.ok()) << expired.status.ToString();
  EXPECT_EQ(Take().gone, (std::vector<uint64_t>{a}));
}

TEST_F(LeaseFeedTest, ExpiryLeasesOfRespCommandsComeAndGo) {
  (void)Take();
  ApplyResult set = ApplyOne(PutExpiringCommand("k", "v", Precondition::kNone, 5000, false, 1000));
  ASSERT_TRUE(set.status.ok()) << set.status.ToString();
  LeaseFeed::Taken granted = Take();
  ASSERT_EQ(granted.leases.size(), 1u);
  EXPECT_EQ(granted.leases[0].ttl_ms, 5000u);
  ASSERT_TRUE(ApplyOne(PutCommand("k", "plain")).status.ok());  // drops the key's expiry
  EXPECT_EQ(Take().gone, (std::vector<uint64_t>{granted.leases[0].id}));
}

TEST_F(LeaseFeedTest, InvalidateOrTooManyChangesReadEverythingAgain) {
  const uint64_t a = Grant(1000);
  (void)Take();
  feed.Invalidate();
  LeaseFeed::Taken again = Take();
  EXPECT_TRUE(again.all);
  EXPECT_EQ(Ids(again), (std::vector<uint64_t>{a}));

  LeaseFeed small(2);
  feed_ = &small;
  ASSERT_TRUE(small.Take(*engine_).ok());
  const uint64_t b = Grant(1000);
  const uint64_t c = Grant(1000);
  auto two = small.Take(*engine_);
  ASSERT_TRUE(two.ok());
  EXPECT_FALSE(two->all);  // two pending: within the bound
  const uint64_t d = Grant(1000);
  const uint64_t e = Grant(1000);
  const uint64_t f = Grant(1000);
  auto all = small.Take(*engine_);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->all);
  std::vector<uint64_t> ids;
  for (const LeaseSummary& l : all->leases) ids.push_back(l.id);
  EXPECT_EQ(ids, (std::vector<uint64_t>{a, b, c, d, e, f}));
}

}  // namespace
}  // namespace nds::store
