// Goal: a full disk never costs the node a write it already accepted. The Wal keeps the next
// segment reserved; SpaceLow() reports when it cannot and clears once space is back; a Save that
// fails with kNoSpace leaves the log (in memory and as recovery reads it) as it was, and the same
// Save succeeds once space is freed; Open() on a disk too small for one segment says so. Method:
// the in-memory FaultFileSystem with a capacity (a small disk), injected ENOSPC writes that leave
// a prefix of their data (a short pwrite), and recovery as a fresh Open, with and without Crash().
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "util/fault_file_system.h"
#include "wal/test_util.h"
#include "wal/wal.h"

namespace nds::wal {
namespace {

using testing::MakeEntries;
using testing::ReadAll;

constexpr uint64_t kSegmentBytes = 4096;
const std::string kDir = "/data";

class WalSpaceTest : public ::testing::Test {
 protected:
  std::unique_ptr<Wal> OpenOk() {
    auto w = Wal::Open(&fs_, kDir, {kSegmentBytes});
    NDS_CHECK(w.ok(), "{}", w.status().ToString());
    return std::move(w).value();
  }
  std::string SegmentPath(uint64_t seq) { return fmt::format("{}/wal/{:016x}.wal", kDir, seq); }
  // Opens the log on a disk with room for segment 1, its spare and 500 bytes more, then appends
  // batches of 5 entries of 100 bytes from `*next` until the roll into segment 2 has used the
  // spare and could not reserve another.
  std::unique_ptr<Wal> OpenAndRunLowOnSpace(uint64_t* next) {
    auto wal = OpenOk();
    NDS_CHECK(!wal->SpaceLow());
    NDS_CHECK(*fs_.Exists(SegmentPath(2) + ".spare"));  // reserved at Open
    fs_.SetCapacityBytes(2 * kSegmentBytes + 500);
    for (int i = 0; i < 100 && wal->segment_count() < 2; ++i) {
      NDS_CHECK(wal->Append(MakeEntries(*next, *next + 4, 1, 100)).ok());
      *next += 5;
    }
    NDS_CHECK(wal->segment_count() == 2u);
    NDS_CHECK(wal->SpaceLow());
    return wal;
  }

  FaultFileSystem fs_;
};

TEST_F(WalSpaceTest, SpaceLowWhenTheNextSegmentCannotBeReservedAndClearedOnceSpaceIsFreed) {
  uint64_t next = 1;
  auto wal = OpenAndRunLowOnSpace(&next);  // the roll used the spare and could not replace it
  EXPECT_FALSE(*fs_.Exists(SegmentPath(3) + ".spare"));
  // What was accepted keeps going into the reserved segment while SpaceLow().
  ASSERT_TRUE(wal->Append(MakeEntries(next, next + 1, 1, 100)).ok());
  next += 2;
  EXPECT_TRUE(wal->SpaceLow());
  EXPECT_EQ(wal->RetryReserve().code(), StatusCode::kNoSpace);
  EXPECT_TRUE(wal->SpaceLow());
  fs_.SetCapacityBytes(UINT64_MAX);  // space freed
  ASSERT_TRUE(wal->RetryReserve().ok());
  EXPECT_FALSE(wal->SpaceLow());
  EXPECT_TRUE(*fs_.Exists(SegmentPath(3) + ".spare"));
  wal.reset();
  fs_.Crash();
  EXPECT_EQ(ReadAll(*OpenOk()), MakeEntries(1, next - 1, 1, 100));
}

TEST_F(WalSpaceTest, SavesRetryTheReserveEveryFewCallsWhileSpaceIsLow) {
  uint64_t next = 1;
  auto wal = OpenAndRunLowOnSpace(&next);
  fs_.SetCapacityBytes(UINT64_MAX);
  uint64_t saves = 0;
  while (wal->SpaceLow() && saves <= Wal::kReserveRetrySaves) {
    ASSERT_TRUE(wal->SaveHardState({Term(1), NodeId(1), LogIndex(saves + 1)}).ok());
    ++saves;
  }
  EXPECT_FALSE(wal->SpaceLow());
  // Not every Save tries (each try costs a create, a fallocate and a remove on a full disk).
  EXPECT_EQ(saves, Wal::kReserveRetrySaves);
}

TEST_F(WalSpaceTest, ASaveFailedForSpaceSucceedsWhenRetriedAndRecoverySeesEachEntryOnce) {
  uint64_t next = 1;
  auto wal = OpenAndRunLowOnSpace(&next);
  // A batch bigger than the room left in segment 2, with a hard state: it needs a segment that
  // cannot be reserved.
  const raft::HardState hs{Term(1), NodeId(2), LogIndex(next - 1)};
  const std::vector<raft::Entry> batch = MakeEntries(next, next + 39, 1, 100);
  const LogIndex last_before = wal->LastIndex();
  auto seg2_before = fs_.Contents(SegmentPath(2));
  ASSERT_TRUE(seg2_before.ok());
  EXPECT_EQ(wal->Save(hs, batch).code(), StatusCode::kNoSpace);
  EXPECT_EQ(wal->LastIndex(), last_before);
  EXPECT_TRUE(wal->InitialHardState()->IsEmpty());
  auto seg2_after = fs_.Contents(SegmentPath(2));
  EXPECT_EQ(*seg2_after, *seg2_before);                          // nothing written
  EXPECT_EQ(wal->Save(hs, batch).code(), StatusCode::kNoSpace);  // still full: still clean
  fs_.SetCapacityBytes(UINT64_MAX);
  ASSERT_TRUE(wal->Save(hs, batch).ok());  // the same arguments, once space is back
  EXPECT_FALSE(wal->SpaceLow());
  wal->CheckInvariants();
  wal.reset();
  fs_.Crash();
  auto again = OpenOk();
  EXPECT_EQ(ReadAll(*again), MakeEntries(1, next + 39, 1, 100));
  EXPECT_EQ(*again->InitialHardState(), hs);
}

TEST_F(WalSpaceTest, ANoSpaceWriteLeavesNoPartialRecordForRecovery) {
  auto wal = OpenOk();
  ASSERT_TRUE(wal->Append(MakeEntries(1, 5, 1, 100)).ok());
  // The next write into segment 1 stores 30 bytes of its records, then reports ENOSPC.
  fs_.SetFailedWritePrefixBytes(30);
  fs_.AddFault({FileOp::kWrite, false, "0000000000000001.wal", 0, 1, StatusCode::kNoSpace});
  const raft::HardState hs{Term(1), NodeId(1), LogIndex(7)};
  const std::vector<raft::Entry> batch = MakeEntries(6, 8, 1, 100);
  EXPECT_EQ(wal->Save(hs, batch).code(), StatusCode::kNoSpace);
  EXPECT_TRUE(wal->SpaceLow());
  EXPECT_EQ(wal->LastIndex(), LogIndex(5));
  // A restart now (no power loss: the page cache keeps what the short write left) finds the
  // log exactly as before the failed Save, with no torn record to cut.
  wal.reset();
  wal = OpenOk();
  EXPECT_FALSE(wal->recovery_report().torn_tail_cut);
  EXPECT_EQ(ReadAll(*wal), MakeEntries(1, 5, 1, 100));
  EXPECT_TRUE(wal->InitialHardState()->IsEmpty());
  ASSERT_TRUE(wal->Save(hs, batch).ok());
  wal.reset();
  fs_.Crash();
  wal = OpenOk();
  EXPECT_FALSE(wal->recovery_report().torn_tail_cut);
  EXPECT_EQ(ReadAll(*wal), MakeEntries(1, 8, 1, 100));
  EXPECT_EQ(*wal->InitialHardState(), hs);
}

TEST_F(WalSpaceTest, OpenOnADiskTooSmallForOneSegmentIsNoSpaceNamingDirAndSize) {
  fs_.SetCapacityBytes(kSegmentBytes - 1);
  auto w = Wal::Open(&fs_, kDir, {kSegmentBytes});
  ASSERT_EQ(w.status().code(), StatusCode::kNoSpace);
  const std::string msg = w.status().message();
  EXPECT_NE(msg.find(kDir + "/wal"), std::string::npos) << msg;
  EXPECT_NE(msg.find("4096 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--wal-segment-bytes"), std::string::npos) << msg;
  EXPECT_TRUE(fs_.ListDir(kDir + "/wal")->empty());  // nothing left behind
}

TEST_F(WalSpaceTest, OpenWithRoomForOneSegmentWorksButReportsSpaceLow) {
  fs_.SetCapacityBytes(kSegmentBytes + 100);
  auto wal = OpenOk();
  EXPECT_TRUE(wal->SpaceLow());
  ASSERT_TRUE(wal->Append(MakeEntries(1, 3, 1)).ok());
  fs_.SetCapacityBytes(UINT64_MAX);
  wal.reset();
  wal = OpenOk();  // a restart removes the leftover spare files and reserves again
  EXPECT_FALSE(wal->SpaceLow());
  EXPECT_EQ(ReadAll(*wal), MakeEntries(1, 3, 1));
}

TEST_F(WalSpaceTest, ASegmentShorterThanTheSegmentSizeIsAllocatedBeforeItIsTrusted) {
  {
    auto wal = OpenOk();
    ASSERT_TRUE(wal->Append(MakeEntries(1, 3, 1)).ok());
  }
  // Restart with a larger --wal-segment-bytes on a disk with no room for the rest of segment 1.
  fs_.SetCapacityBytes(2 * kSegmentBytes - 1);
  auto w = Wal::Open(&fs_, kDir, {2 * kSegmentBytes});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE((*w)->SpaceLow());
  fs_.SetCapacityBytes(UINT64_MAX);
  ASSERT_TRUE((*w)->RetryReserve().ok());
  EXPECT_FALSE((*w)->SpaceLow());
  auto seg1 = fs_.Contents(SegmentPath(1));
  EXPECT_EQ(seg1->size(), 2 * kSegmentBytes);
  ASSERT_TRUE((*w)->Append(MakeEntries(4, 60, 1)).ok());  // goes past the old 4096 bytes
  EXPECT_EQ((*w)->segment_count(), 1u);
}

}  // namespace
}  // namespace nds::wal
