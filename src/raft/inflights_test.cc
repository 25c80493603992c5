// Goal: the in-flight window is bounded by count and by bytes, and frees in order.
// Method: direct calls on Inflights.
#include "raft/inflights.h"

#include <gtest/gtest.h>

namespace nds::raft {
namespace {

TEST(Inflights, FullAtCountLimit) {
  Inflights in(3, 1000);
  in.Add(LogIndex(1), 1);
  in.Add(LogIndex(2), 1);
  EXPECT_FALSE(in.Full());
  in.Add(LogIndex(3), 1);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(in.Count(), 3u);
}

TEST(Inflights, FullAtBytesLimit) {
  Inflights in(100, 10);
  in.Add(LogIndex(1), 6);
  EXPECT_FALSE(in.Full());
  in.Add(LogIndex(2), 4);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(in.Bytes(), 10u);
}

TEST(Inflights, FreeLEReleasesAcknowledgedPrefixOnly) {
  Inflights in(10, 100);
  in.Add(LogIndex(2), 5);
  in.Add(LogIndex(5), 7);
  in.Add(LogIndex(9), 11);
  in.FreeLE(LogIndex(6));
  EXPECT_EQ(in.Count(), 1u);
  EXPECT_EQ(in.Bytes(), 11u);
  in.FreeLE(LogIndex(3));  // stale ack: nothing more to free
  EXPECT_EQ(in.Count(), 1u);
  in.FreeLE(LogIndex(9));
  EXPECT_EQ(in.Count(), 0u);
  EXPECT_EQ(in.Bytes(), 0u);
}

TEST(Inflights, ResetEmptiesTheWindow) {
  Inflights in(2, 100);
  in.Add(LogIndex(1), 50);
  in.Add(LogIndex(2), 50);
  in.Reset();
  EXPECT_FALSE(in.Full());
  EXPECT_EQ(in.Bytes(), 0u);
}

TEST(Inflights, FreeFirstOneMakesRoomForOneMore) {
  Inflights in(2, 100);
  in.Add(LogIndex(1), 1);
  in.Add(LogIndex(2), 1);
  ASSERT_TRUE(in.Full());
  in.FreeFirstOne();
  EXPECT_FALSE(in.Full());
  EXPECT_EQ(in.Count(), 1u);
}

TEST(InflightsDeathTest, AddWhenFullIsAProgrammerError) {
  Inflights in(1, 100);
  in.Add(LogIndex(1), 1);
  EXPECT_DEATH(in.Add(LogIndex(2), 1), "inflights full");
}

}  // namespace
}  // namespace nds::raft
