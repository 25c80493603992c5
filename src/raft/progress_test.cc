// Goal: the leader's per-follower state machine (probe, replicate, snapshot) moves as etcd's does.
// Method: direct calls on Progress.
#include "raft/progress.h"

#include <gtest/gtest.h>

namespace nds::raft {
namespace {

Progress Make(uint64_t next) { return Progress(LogIndex(next), 4, 1000, false); }

TEST(Progress, ProbePausesAfterOneAppendUntilResponse) {
  Progress pr = Make(5);
  EXPECT_FALSE(pr.IsPaused());
  pr.SentEntries(2, LogIndex(6), 10);
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_EQ(pr.next(), LogIndex(5));  // probe does not advance next optimistically
  EXPECT_TRUE(pr.MaybeUpdate(LogIndex(6)));
  EXPECT_FALSE(pr.IsPaused());
  EXPECT_EQ(pr.next(), LogIndex(7));
}

TEST(Progress, ReplicateAdvancesNextAndPausesWhenWindowFull) {
  Progress pr = Make(1);
  pr.BecomeReplicate();
  for (uint64_t i = 1; i <= 4; ++i) {
    EXPECT_FALSE(pr.IsPaused());
    pr.SentEntries(1, LogIndex(i), 1);
  }
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_EQ(pr.next(), LogIndex(5));
  pr.MaybeUpdate(LogIndex(2));
  pr.inflights_mut().FreeLE(LogIndex(2));
  EXPECT_FALSE(pr.IsPaused());
}

TEST(Progress, MaybeUpdateIgnoresStaleAcks) {
  Progress pr = Make(1);
  EXPECT_TRUE(pr.MaybeUpdate(LogIndex(5)));
  EXPECT_FALSE(pr.MaybeUpdate(LogIndex(3)));
  EXPECT_EQ(pr.match(), LogIndex(5));
}

TEST(Progress, ReplicateRejectFallsBackToMatchPlusOne) {
  Progress pr = Make(1);
  pr.MaybeUpdate(LogIndex(3));
  pr.BecomeReplicate();
  pr.SentEntries(5, LogIndex(8), 5);
  EXPECT_FALSE(pr.MaybeDecrTo(LogIndex(2), LogIndex(0)));  // stale: below match
  EXPECT_TRUE(pr.MaybeDecrTo(LogIndex(5), LogIndex(0)));
  EXPECT_EQ(pr.next(), LogIndex(4));
}

TEST(Progress, ProbeRejectUsesHintButOnlyForTheLastProbe) {
  Progress pr = Make(10);
  EXPECT_FALSE(pr.MaybeDecrTo(LogIndex(5), LogIndex(2)));  // not our probe (next-1 == 9)
  EXPECT_TRUE(pr.MaybeDecrTo(LogIndex(9), LogIndex(3)));
  EXPECT_EQ(pr.next(), LogIndex(4));
}

TEST(Progress, SnapshotStatePausesThenProbesAfterIt) {
  Progress pr = Make(3);
  pr.BecomeSnapshot(LogIndex(20));
  EXPECT_TRUE(pr.IsPaused());
  pr.BecomeProbe();
  EXPECT_EQ(pr.next(), LogIndex(21));
  EXPECT_FALSE(pr.IsPaused());
}

TEST(Progress, FailedSnapshotProbesFromMatch) {
  Progress pr = Make(3);
  pr.MaybeUpdate(LogIndex(2));
  pr.BecomeSnapshot(LogIndex(20));
  pr.BecomeSnapshotFailed();
  pr.BecomeProbe();
  EXPECT_EQ(pr.next(), LogIndex(3));
}

}  // namespace
}  // namespace nds::raft
