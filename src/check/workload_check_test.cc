// Goal: the analyses of the watch, lease and lock workloads (watch_check.h, lease_check.h,
// lock_check.h) pass a correct history and fail each kind of wrong one: a lost, duplicated or
// out-of-order watch event, a watcher that fell short, a phantom value; a kept-alive key that
// vanished, an expired key read again; two lock holders, repeated or shrinking fencing revisions,
// a fenced register that went back. Method: small hand-made histories.
#include <gtest/gtest.h>

#include "check/lease_check.h"
#include "check/lock_check.h"
#include "check/watch_check.h"

namespace nds::check {
namespace {

// Acknowledged writes at revisions 11..15 of keys a and b, watched from 10 by two watchers that
// saw them all and reached 15.
WatchHistory GoodWatchHistory() {
  WatchHistory h;
  for (uint64_t r = 11; r <= 15; ++r) {
    WatchedChange c{r, r % 2 ? "a" : "b", "v" + std::to_string(r), false};
    h.acknowledged.push_back(c);
    h.attempted_values.push_back(c.value);
  }
  for (size_t w = 0; w < 2; ++w) {
    WatcherLog log;
    log.id = w;
    log.from = 10;
    log.reached = 15;
    log.events = h.acknowledged;
    h.watchers.push_back(log);
  }
  h.final_revision = 15;
  return h;
}

bool Mentions(const WorkloadFindings& f, const std::string& text) {
  for (const std::string& p : f.problems) {
    if (p.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(WatchCheck, EveryWriteSeenOnceInOrderPasses) {
  WorkloadFindings f = CheckWatchHistory(GoodWatchHistory());
  EXPECT_TRUE(f.problems.empty()) << f.problems.front();
  EXPECT_EQ(f.checked, 10u);  // five changes, two watchers
}

TEST(WatchCheck, ALostEventFails) {
  WatchHistory h = GoodWatchHistory();
  h.watchers[1].events.erase(h.watchers[1].events.begin() + 2);  // revision 13
  WorkloadFindings f = CheckWatchHistory(h);
  ASSERT_EQ(f.problems.size(), 1u);
  EXPECT_TRUE(Mentions(f, "watcher 1 missed revision 13")) << f.problems[0];
}

TEST(WatchCheck, AnUnacknowledgedWriteOneWatcherSawMustReachTheOthers) {
  // Revision 16 was applied (watcher 0 saw it) though its writer got no answer.
  WatchHistory h = GoodWatchHistory();
  h.attempted_values.push_back("late");
  h.watchers[0].events.push_back({16, "a", "late", false});
  h.watchers[0].reached = h.watchers[1].reached = 16;
  EXPECT_TRUE(Mentions(CheckWatchHistory(h), "watcher 1 missed revision 16"));
  h.watchers[1].events.push_back({16, "a", "late", false});
  EXPECT_TRUE(CheckWatchHistory(h).problems.empty());
}

TEST(WatchCheck, ADuplicatedEventFails) {
  WatchHistory h = GoodWatchHistory();
  h.watchers[0].events.insert(h.watchers[0].events.begin() + 3, h.watchers[0].events[2]);
  EXPECT_TRUE(Mentions(CheckWatchHistory(h), "watcher 0 got revision 13 put 'a' twice"));
}

TEST(WatchCheck, OutOfOrderEventsFail) {
  WatchHistory h = GoodWatchHistory();
  std::swap(h.watchers[0].events[1], h.watchers[0].events[3]);
  EXPECT_TRUE(Mentions(CheckWatchHistory(h), "out of order"));
}

TEST(WatchCheck, AWatcherThatFellShortFailsAndACompactionIsReported) {
  WatchHistory h = GoodWatchHistory();
  h.watchers[1].events.resize(2);
  h.watchers[1].reached = 12;
  WorkloadFindings f = CheckWatchHistory(h);
  EXPECT_TRUE(Mentions(f, "watcher 1 reached revision 12 only")) << f.problems.size();
  EXPECT_EQ(f.problems.size(), 1u);
  // The same watcher stopped by a compaction: a note, no problem.
  h.watchers[1].compacted = 14;
  f = CheckWatchHistory(h);
  EXPECT_TRUE(f.problems.empty());
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_NE(f.notes[0].find("compacted to revision 14"), std::string::npos);
}

TEST(WatchCheck, AValueNoWriterSentOrAWrongValueFails) {
  WatchHistory h = GoodWatchHistory();
  h.watchers[0].events[0].value = "forged";
  WorkloadFindings f = CheckWatchHistory(h);
  EXPECT_TRUE(Mentions(f, "which no writer sent"));
  EXPECT_TRUE(Mentions(f, "another source"));
}

TEST(WatchCheck, ProblemsAreBounded) {
  WatchHistory h = GoodWatchHistory();
  for (WatcherLog& w : h.watchers) w.events.clear();
  WorkloadFindings f = CheckWatchHistory(h, 3);
  ASSERT_EQ(f.problems.size(), 4u);
  EXPECT_EQ(f.problems.back(), "... and 7 more problems");
}

constexpr uint64_t kTtl = 1'000'000;

LeaseProbe At(ProbeKind kind, uint64_t invoked, ProbeResult result) {
  return LeaseProbe{kind, invoked, invoked + 1'000, result};
}

// Granted at 0, kept alive at 0.5 s and 1.2 s, read present in between; seen gone at 3 s and read
// absent afterwards.
LeaseCycle GoodLeaseCycle() {
  LeaseCycle c;
  c.lease = 7;
  c.key = "k";
  c.ttl_us = kTtl;
  c.granted_invoked_us = 0;
  c.kept = {At(ProbeKind::kRead, 100'000, ProbeResult::kPresent),
            At(ProbeKind::kKeepAlive, 500'000, ProbeResult::kPresent),
            At(ProbeKind::kRead, 1'100'000, ProbeResult::kPresent),
            At(ProbeKind::kKeepAlive, 1'200'000, ProbeResult::kPresent),
            At(ProbeKind::kRead, 2'000'000, ProbeResult::kPresent)};
  c.expiry_seen_us = 3'000'000;
  c.after_expiry = {At(ProbeKind::kRead, 3'100'000, ProbeResult::kGone),
                    At(ProbeKind::kRead, 3'200'000, ProbeResult::kGone)};
  return c;
}

TEST(LeaseCheck, AKeptLeaseThatStaysAndAnExpiredOneThatStaysGonePass) {
  WorkloadFindings f = CheckLeaseHistory({GoodLeaseCycle()});
  EXPECT_TRUE(f.problems.empty()) << f.problems.front();
  EXPECT_EQ(f.checked, 7u);
}

TEST(LeaseCheck, AKeptAliveKeyThatVanishesFails) {
  LeaseCycle c = GoodLeaseCycle();
  // 2.0 s is within the TTL of the keepalive sent at 1.2 s.
  c.kept.back().result = ProbeResult::kGone;
  EXPECT_TRUE(Mentions(CheckLeaseHistory({c}), "found key 'k' gone"));
  // A keepalive answered "not found" within the TTL of the previous one fails too.
  c = GoodLeaseCycle();
  c.kept[3].result = ProbeResult::kGone;
  EXPECT_TRUE(Mentions(CheckLeaseHistory({c}), "a keepalive"));
  // Gone after the TTL of its last acknowledged keepalive: allowed.
  c = GoodLeaseCycle();
  c.kept.push_back(At(ProbeKind::kRead, 2'300'000, ProbeResult::kGone));
  EXPECT_TRUE(CheckLeaseHistory({c}).problems.empty());
}

TEST(LeaseCheck, AnExpiredKeyReadAgainFails) {
  LeaseCycle c = GoodLeaseCycle();
  c.after_expiry[1].result = ProbeResult::kPresent;
  EXPECT_TRUE(Mentions(CheckLeaseHistory({c}), "after the lease was seen gone"));
  // Unknown outcomes are no evidence either way.
  c.after_expiry[1].result = ProbeResult::kUnknown;
  EXPECT_TRUE(CheckLeaseHistory({c}).problems.empty());
}

LockHold Hold(size_t client, uint64_t revision, uint64_t from, uint64_t to,
              std::optional<uint64_t> seen) {
  LockHold h;
  h.client = client;
  h.fencing_revision = revision;
  h.acquired_us = from;
  h.releasing_us = to;
  h.register_read = true;
  h.register_value = seen;
  h.write = FenceWrite::kSwapped;
  return h;
}

std::vector<LockHold> GoodHolds() {
  return {Hold(0, 10, 0, 100, std::nullopt), Hold(1, 12, 150, 300, 10), Hold(0, 15, 310, 400, 12)};
}

TEST(LockCheck, SuccessiveHoldersWithGrowingFencingRevisionsPass) {
  WorkloadFindings f = CheckLockHistory(GoodHolds());
  EXPECT_TRUE(f.problems.empty()) << f.problems.front();
  EXPECT_EQ(f.checked, 3u);
}

TEST(LockCheck, OverlappingHoldsFail) {
  std::vector<LockHold> holds = GoodHolds();
  holds[1].acquired_us = 90;
  EXPECT_TRUE(Mentions(CheckLockHistory(holds), "two holders"));
  // Unless the earlier holder's lease was found lost: counted, not a problem.
  holds[0].lease_lost = true;
  WorkloadFindings f = CheckLockHistory(holds);
  EXPECT_TRUE(f.problems.empty());
}

TEST(LockCheck, RepeatedOrShrinkingFencingRevisionsFail) {
  std::vector<LockHold> holds = GoodHolds();
  holds[2].fencing_revision = 12;
  holds[2].register_value = 10;
  WorkloadFindings f = CheckLockHistory(holds);
  EXPECT_TRUE(Mentions(f, "both held the lock with fencing revision 12"));
  EXPECT_TRUE(Mentions(f, "fencing revisions went back"));
}

TEST(LockCheck, AFencedRegisterAheadOfTheHolderOrChangedUnderItFails) {
  std::vector<LockHold> holds = GoodHolds();
  holds[1].register_value = 13;
  EXPECT_TRUE(Mentions(CheckLockHistory(holds), "a later holder wrote before it"));
  holds = GoodHolds();
  holds[2].write = FenceWrite::kMismatch;
  EXPECT_TRUE(Mentions(CheckLockHistory(holds), "changed while it held"));
  // An earlier write whose outcome is unknown may have landed late: no conclusion.
  holds[0].write = FenceWrite::kUnknown;
  EXPECT_TRUE(CheckLockHistory(holds).problems.empty());
}

}  // namespace
}  // namespace nds::check
