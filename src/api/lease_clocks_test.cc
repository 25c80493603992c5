// Goal: the lease keeper decides expiries only as leader, only after a whole TTL without a
// keepalive by its own clock, never early after a failover, and never twice at once; changes
// (Set, Remove) count as the whole list would; a keepalive kept in memory restarts the clock only
// on a leader whose clocks restarted in its term and never for a lease an expiry was decided for.
// Method: LeaseClocks fed with lease lists, changes and made-up times (no clock, no threads).
#include "api/lease_clocks.h"

#include <gtest/gtest.h>

namespace nds::api {
namespace {

using std::chrono::milliseconds;
using Expiry = LeaseClocks::Expiry;

const LeaseClocks::Clock::time_point t0{};

std::vector<store::LeaseSummary> One(uint64_t keepalive_index) {
  return {store::LeaseSummary{7, 1000, keepalive_index}};
}

TEST(LeaseClocks, ExpiresAfterAWholeTtlWithoutKeepaliveAndOnlyOnce) {
  LeaseClocks c(16);
  EXPECT_TRUE(c.Observe(true, 1, t0, One(7)).empty());
  EXPECT_TRUE(c.Observe(true, 1, t0 + milliseconds(999), One(7)).empty());
  EXPECT_EQ(c.Observe(true, 1, t0 + milliseconds(1000), One(7)), (std::vector{Expiry{7, 7}}));
  EXPECT_TRUE(c.Observe(true, 1, t0 + milliseconds(1500), One(7)).empty());  // in flight
  c.Settled(7);  // the expire command failed: decided again
  EXPECT_EQ(c.Observe(true, 1, t0 + milliseconds(1600), One(7)), (std::vector{Expiry{7, 7}}));
}

TEST(LeaseClocks, AKeepaliveRestartsTheClockAndTheExpiryNamesIt) {
  LeaseClocks c(16);
  (void)c.Observe(true, 1, t0, One(7));
  EXPECT_TRUE(c.Observe(true, 1, t0 + milliseconds(900), One(20)).empty());
  EXPECT_TRUE(c.Observe(true, 1, t0 + milliseconds(1800), One(20)).empty());
  EXPECT_EQ(c.Observe(true, 1, t0 + milliseconds(1900), One(20)), (std::vector{Expiry{7, 20}}));
}

TEST(LeaseClocks, AFailoverRestartsEveryClock) {
  LeaseClocks c(16);
  // As follower, the clock ran 900 ms; then this node becomes leader: it starts over.
  EXPECT_TRUE(c.Observe(false, 1, t0, One(7)).empty());
  EXPECT_TRUE(c.Observe(false, 1, t0 + milliseconds(1500), One(7)).empty());  // never as follower
  EXPECT_TRUE(c.Observe(true, 2, t0 + milliseconds(1600), One(7)).empty());
  EXPECT_TRUE(c.Observe(true, 2, t0 + milliseconds(2599), One(7)).empty());
  EXPECT_EQ(c.Observe(true, 2, t0 + milliseconds(2600), One(7)), (std::vector{Expiry{7, 7}}));
  // Leading again in a later term (it lost leadership in between): starts over again.
  LeaseClocks d(16);
  (void)d.Observe(true, 3, t0, One(7));
  EXPECT_TRUE(d.Observe(true, 5, t0 + milliseconds(1200), One(7)).empty());
  EXPECT_EQ(d.Observe(true, 5, t0 + milliseconds(2200), One(7)), (std::vector{Expiry{7, 7}}));
}

TEST(LeaseClocks, RemainingCountsDownAndForgetsGoneLeases) {
  LeaseClocks c(16);
  (void)c.Observe(false, 1, t0, One(7));
  EXPECT_EQ(c.Remaining(7, t0 + milliseconds(300)), milliseconds(700));
  EXPECT_EQ(c.Remaining(7, t0 + milliseconds(3000)), milliseconds(0));
  (void)c.Observe(false, 1, t0 + milliseconds(10), {});
  EXPECT_FALSE(c.Remaining(7, t0));
}

TEST(LeaseClocks, ExpiriesInFlightAreBounded) {
  LeaseClocks c(2);
  std::vector<store::LeaseSummary> many;
  for (uint64_t id = 1; id <= 5; ++id) many.push_back({id, 10, id});
  (void)c.Observe(true, 1, t0, many);
  EXPECT_EQ(c.Observe(true, 1, t0 + milliseconds(10), many).size(), 2u);
  EXPECT_TRUE(c.Observe(true, 1, t0 + milliseconds(20), many).empty());
  c.Settled(1);
  EXPECT_EQ(c.Observe(true, 1, t0 + milliseconds(30), many), (std::vector{Expiry{1, 1}}));
}

TEST(LeaseClocks, ChangesCountAsTheWholeListWould) {
  LeaseClocks c(16);
  c.Reset({}, t0);
  c.Set(store::LeaseSummary{7, 1000, 7}, t0);
  c.Set(store::LeaseSummary{8, 500, 8}, t0);
  EXPECT_TRUE(c.Decide(true, 1, t0).empty());
  // The same keepalive index written again (an attachment) keeps the clock running.
  c.Set(store::LeaseSummary{7, 1000, 7}, t0 + milliseconds(400));
  EXPECT_EQ(c.Decide(true, 1, t0 + milliseconds(500)), (std::vector{Expiry{8, 8}}));
  c.Remove(8);  // expired: gone, and no longer in flight
  EXPECT_EQ(c.size(), 1u);
  // A keepalive through the log (a new index) restarts it.
  c.Set(store::LeaseSummary{7, 1000, 30}, t0 + milliseconds(900));
  EXPECT_TRUE(c.Decide(true, 1, t0 + milliseconds(1800)).empty());
  EXPECT_EQ(c.Decide(true, 1, t0 + milliseconds(1900)), (std::vector{Expiry{7, 30}}));
}

TEST(LeaseClocks, AKeepaliveInMemoryRestartsTheClockOnlyOnTheLeaderOfItsTerm) {
  LeaseClocks c(16);
  c.Set(store::LeaseSummary{7, 1000, 7}, t0);
  EXPECT_FALSE(c.KeepAlive(7, 1, t0));  // not seen leading yet
  EXPECT_TRUE(c.Decide(false, 1, t0).empty());
  EXPECT_FALSE(c.KeepAlive(7, 1, t0));  // a follower
  EXPECT_TRUE(c.Decide(true, 2, t0).empty());
  EXPECT_FALSE(c.KeepAlive(7, 3, t0));   // another term than the clocks restarted in
  EXPECT_FALSE(c.KeepAlive(99, 2, t0));  // an unknown lease
  EXPECT_EQ(c.KeepAlive(7, 2, t0 + milliseconds(900)), 1000u);
  EXPECT_TRUE(c.Decide(true, 2, t0 + milliseconds(1899)).empty());
  EXPECT_EQ(c.Remaining(7, t0 + milliseconds(1400)), milliseconds(500));
  EXPECT_EQ(c.Decide(true, 2, t0 + milliseconds(1900)), (std::vector{Expiry{7, 7}}));
}

TEST(LeaseClocks, AfterAnExpiryWasDecidedKeepalivesGoThroughTheLogUntilTheIndexMoves) {
  LeaseClocks c(16);
  c.Set(store::LeaseSummary{7, 1000, 7}, t0);
  (void)c.Decide(true, 1, t0);
  EXPECT_EQ(c.Decide(true, 1, t0 + milliseconds(1000)), (std::vector{Expiry{7, 7}}));
  EXPECT_FALSE(c.KeepAlive(7, 1, t0 + milliseconds(1001)));  // in flight
  c.Settled(7);                                              // timed out: it may still be applied
  EXPECT_FALSE(c.KeepAlive(7, 1, t0 + milliseconds(1002)));
  // A keepalive through the log was applied: the expiry based on index 7 can no longer win.
  c.Set(store::LeaseSummary{7, 1000, 40}, t0 + milliseconds(1100));
  EXPECT_EQ(c.KeepAlive(7, 1, t0 + milliseconds(1200)), 1000u);
}

}  // namespace
}  // namespace nds::api
