// Goal: the Wal keeps the raft::Storage contract, writes with one sync per batch, replaces a
// conflicting suffix, rolls and compacts segments, moves onto snapshots, and on reopening finds
// exactly what was made durable, cutting only a torn tail and calling every other damage
// corruption with its file and offset. ENOSPC fails one Save cleanly; EIO and fsync failures make
// the Wal unusable. Method: every test runs on the in-memory FaultFileSystem with small segments;
// damage is made with FlipBit, zeroed ranges and injected faults, and recovery is a fresh Open.
#include "wal/wal.h"

#include <atomic>
#include <memory>
#include <stdlib.h>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "util/fault_file_system.h"
#include "wal/record.h"
#include "wal/snapshot_store.h"
#include "wal/test_util.h"

namespace nds::wal {
namespace {

using testing::EntryData;
using testing::MakeEntries;
using testing::ReadAll;

constexpr uint64_t kSegmentBytes = 4096;
const std::string kDir = "/data";

class WalTest : public ::testing::Test {
 protected:
  std::unique_ptr<Wal> OpenOk() {
    auto w = Wal::Open(&fs_, kDir, {kSegmentBytes});
    NDS_CHECK(w.ok(), "{}", w.status().ToString());
    return std::move(w).value();
  }
  Status OpenStatus() { return Wal::Open(&fs_, kDir, {kSegmentBytes}).status(); }
  std::string SegmentPath(uint64_t seq) { return fmt::format("{}/wal/{:016x}.wal", kDir, seq); }
  // Overwrites [from, to) of a file with zeros, durably (a write that never happened).
  void Zero(const std::string& path, uint64_t from, uint64_t to) {
    auto f = fs_.Open(path, OpenMode::kReadWrite);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->WriteAt(from, std::string(to - from, '\0')).ok());
    ASSERT_TRUE((*f)->Sync().ok());
  }
  // Builds a snapshot at (index, term) in DIR/snap with an empty checkpoint.
  void StoreSnapshot(uint64_t index, uint64_t term) {
    auto store = SnapshotStore::Open(&fs_, kDir + "/snap");
    ASSERT_TRUE(store.ok());
    raft::SnapshotMetadata meta{LogIndex(index), Term(term), {{NodeId(1)}, {}, {}, {}, false}};
    ASSERT_TRUE((*store)->Create(meta, [](const std::string&) { return Status::Ok(); }).ok());
  }

  FaultFileSystem fs_;
};

TEST_F(WalTest, FreshLogIsEmpty) {
  auto wal = OpenOk();
  EXPECT_EQ(wal->FirstIndex(), LogIndex(1));
  EXPECT_EQ(wal->LastIndex(), LogIndex(0));
  EXPECT_EQ(*wal->TermAt(LogIndex(0)), Term(0));
  EXPECT_TRUE(wal->InitialHardState()->IsEmpty());
  EXPECT_TRUE(wal->InitialConfState()->voters.empty());
  EXPECT_EQ(wal->SnapshotMeta().index, LogIndex(0));
  EXPECT_EQ(wal->segment_count(), 1u);
  EXPECT_TRUE(wal->Entries(LogIndex(1), LogIndex(1), 100)->empty());
}

TEST_F(WalTest, SavedEntriesAndHardStateSurviveACrash) {
  raft::HardState hs{Term(2), NodeId(3), LogIndex(4)};
  {
    auto wal = OpenOk();
    ASSERT_TRUE(wal->Save(hs, MakeEntries(1, 10, 2)).ok());
  }
  fs_.Crash();
  auto wal = OpenOk();
  EXPECT_EQ(wal->LastIndex(), LogIndex(10));
  EXPECT_EQ(*wal->InitialHardState(), hs);
  EXPECT_EQ(ReadAll(*wal), MakeEntries(1, 10, 2));
  EXPECT_EQ(*wal->TermAt(LogIndex(7)), Term(2));
  EXPECT_FALSE(wal->recovery_report().torn_tail_cut);
  wal->CheckInvariants();
}

TEST_F(WalTest, ABatchIsOneWriteAndOneSync) {
  auto wal = OpenOk();
  uint64_t before = fs_.mutating_ops();
  ASSERT_TRUE(wal->Save({Term(1), NodeId(1), LogIndex(20)}, MakeEntries(1, 20, 1, 100)).ok());
  EXPECT_EQ(fs_.mutating_ops() - before, 2u);  // one pwrite, one fdatasync
  before = fs_.mutating_ops();
  ASSERT_TRUE(wal->Save({Term(1), NodeId(1), LogIndex(20)}, {}).ok());  // unchanged: no I/O
  EXPECT_EQ(fs_.mutating_ops(), before);
}

// Entries of at least Wal::kSpliceBytesMin are written from their own buffers (a gather write),
// smaller ones copied: a batch mixing both is still one write and one sync, and reads back
// exactly, from the in-memory file system and from the real disk.
TEST_F(WalTest, BigEntriesWrittenFromTheirOwnBuffersReadBackExactly) {
  std::vector<raft::Entry> entries;
  for (uint64_t i = 1; i <= 8; ++i) {
    size_t bytes = i % 2 == 0 ? Wal::kSpliceBytesMin + 1000 * i : 30 + i;
    entries.push_back({Term(1), LogIndex(i), raft::EntryType::kNormal, EntryData(i, 1, bytes)});
  }
  const raft::HardState hs{Term(1), NodeId(1), LogIndex(8)};
  {
    auto w = Wal::Open(&fs_, kDir, {1 << 20});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    uint64_t before = fs_.mutating_ops();
    ASSERT_TRUE((*w)->Save(hs, entries).ok());
    EXPECT_EQ(fs_.mutating_ops() - before, 2u);  // one write, one fdatasync
  }
  fs_.Crash();
  auto w = Wal::Open(&fs_, kDir, {1 << 20});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(ReadAll(**w), entries);
  EXPECT_EQ(*(*w)->InitialHardState(), hs);

  char tmpl[] = "/tmp/nds_wal_test_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    auto disk = Wal::Open(DefaultFileSystem(), dir, {1 << 20});
    ASSERT_TRUE(disk.ok()) << disk.status().ToString();
    ASSERT_TRUE((*disk)->Save(hs, entries).ok());
    // A second batch after the first, so that a gather write lands at an offset past zero too.
    ASSERT_TRUE((*disk)->Append(MakeEntries(9, 10, 1, Wal::kSpliceBytesMin)).ok());
  }
  {
    auto disk = Wal::Open(DefaultFileSystem(), dir, {1 << 20});
    ASSERT_TRUE(disk.ok()) << disk.status().ToString();
    std::vector<raft::Entry> all = entries;
    for (raft::Entry& e : MakeEntries(9, 10, 1, Wal::kSpliceBytesMin)) all.push_back(e);
    EXPECT_EQ(ReadAll(**disk), all);
    EXPECT_FALSE((*disk)->recovery_report().torn_tail_cut);
  }
  IgnoreError(RemoveRecursively(DefaultFileSystem(), dir), "test cleanup");
}

TEST_F(WalTest, ConflictingAppendReplacesTheTailAlsoAfterReplay) {
  {
    auto wal = OpenOk();
    ASSERT_TRUE(wal->Append(MakeEntries(1, 10, 1)).ok());
    ASSERT_TRUE(wal->Append(MakeEntries(6, 7, 2)).ok());
    EXPECT_EQ(wal->LastIndex(), LogIndex(7));
    EXPECT_EQ(*wal->TermAt(LogIndex(6)), Term(2));
    auto want = MakeEntries(1, 5, 1);
    for (auto& e : MakeEntries(6, 7, 2)) want.push_back(e);
    EXPECT_EQ(ReadAll(*wal), want);
  }
  fs_.Crash();
  auto wal = OpenOk();
  EXPECT_EQ(wal->LastIndex(), LogIndex(7));  // entries 8..10 of term 1 stay void
  EXPECT_EQ(*wal->TermAt(LogIndex(5)), Term(1));
  EXPECT_EQ(*wal->TermAt(LogIndex(7)), Term(2));
  ASSERT_TRUE(wal->Append(MakeEntries(8, 8, 3)).ok());
  EXPECT_EQ(wal->Entries(LogIndex(8), LogIndex(9), 0)->front(), MakeEntries(8, 8, 3).front());
}

TEST_F(WalTest, EntriesHonoursBytesMaxAndItsErrorContract) {
  auto wal = OpenOk();
  ASSERT_TRUE(wal->Append(MakeEntries(1, 10, 1, 40)).ok());
  EXPECT_EQ(wal->Entries(LogIndex(1), LogIndex(11), 0)->size(), 1u);  // at least one
  EXPECT_EQ(wal->Entries(LogIndex(1), LogIndex(11), 40)->size(), 1u);
  EXPECT_EQ(wal->Entries(LogIndex(1), LogIndex(11), 80)->size(), 2u);
  EXPECT_EQ(wal->Entries(LogIndex(3), LogIndex(6), UINT64_MAX)->size(), 3u);
  EXPECT_EQ(wal->Entries(LogIndex(1), LogIndex(12), 100).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(wal->TermAt(LogIndex(11)).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(WalTest, SaveRejectsMalformedBatchesWithoutWriting) {
  auto wal = OpenOk();
  ASSERT_TRUE(wal->Append(MakeEntries(1, 5, 2)).ok());
  uint64_t before = fs_.mutating_ops();
  EXPECT_EQ(wal->Append(MakeEntries(7, 8, 2)).code(), StatusCode::kInvalidArgument);  // gap
  auto holey = MakeEntries(6, 8, 2);
  holey[1].index = LogIndex(9);
  EXPECT_EQ(wal->Append(holey).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wal->Append(MakeEntries(6, 6, 1)).code(), StatusCode::kInvalidArgument);  // term
  EXPECT_EQ(wal->Append(MakeEntries(6, 6, 2, kSegmentBytes)).code(),
            StatusCode::kInvalidArgument);  // too big
  EXPECT_EQ(wal->SaveHardState({Term(2), NodeId(1), LogIndex(6)}).code(),
            StatusCode::kInvalidArgument);  // commit beyond the log
  EXPECT_EQ(fs_.mutating_ops(), before);
  EXPECT_EQ(wal->LastIndex(), LogIndex(5));
}

TEST_F(WalTest, RollsSegmentsAndReadsAcrossThem) {
  {
    auto wal = OpenOk();
    for (uint64_t i = 1; i <= 300; i += 10) ASSERT_TRUE(wal->Append(MakeEntries(i, i + 9, 1)).ok());
    EXPECT_GT(wal->segment_count(), 3u);
    ASSERT_TRUE(wal->Append(MakeEntries(301, 500, 1)).ok());  // one batch over several segments
    wal->CheckInvariants();
  }
  fs_.Crash();
  auto wal = OpenOk();
  EXPECT_EQ(ReadAll(*wal), MakeEntries(1, 500, 1));
  EXPECT_GT(wal->recovery_report().segments, 5u);
}

TEST_F(WalTest, CompactDropsWholeSegmentsBelowTheSnapshot) {
  size_t segments_before;
  {
    auto wal = OpenOk();
    ASSERT_TRUE(wal->Save({Term(1), NodeId(1), LogIndex(300)}, MakeEntries(1, 300, 1)).ok());
    segments_before = wal->segment_count();
    EXPECT_EQ(wal->Compact(LogIndex(200)).code(), StatusCode::kInvalidArgument);  // no snapshot
    StoreSnapshot(250, 1);
    ASSERT_TRUE(
        wal->ApplySnapshot({LogIndex(250), Term(1), {{NodeId(1)}, {}, {}, {}, false}}).ok());
    EXPECT_EQ(wal->FirstIndex(), LogIndex(1));  // the log held (250, 1): nothing dropped yet
    ASSERT_TRUE(wal->Compact(LogIndex(200)).ok());
    EXPECT_EQ(wal->FirstIndex(), LogIndex(201));
    EXPECT_EQ(*wal->TermAt(LogIndex(200)), Term(1));
    EXPECT_EQ(wal->Entries(LogIndex(200), LogIndex(201), 0).status().code(), StatusCode::kNotFound);
    EXPECT_LT(wal->segment_count(), segments_before);
    wal->CheckInvariants();
  }
  fs_.Crash();
  auto wal = OpenOk();
  // Entry 201 opens the first segment left; the term of 200 is not on disk any more, so the log
  // may restart one entry later.
  EXPECT_LE(wal->FirstIndex(), LogIndex(202));
  EXPECT_EQ(wal->LastIndex(), LogIndex(300));
  EXPECT_EQ(wal->SnapshotMeta().index, LogIndex(250));
  EXPECT_EQ(wal->InitialConfState()->voters, std::vector<NodeId>{NodeId(1)});
  EXPECT_EQ(wal->InitialHardState()->commit, LogIndex(300));
  auto entries = ReadAll(*wal);
  EXPECT_EQ(entries.back(), MakeEntries(300, 300, 1).front());
}

TEST_F(WalTest, CompactCanLeaveTheFilesForAnotherThreadAndARestartSkipsThem) {
  std::vector<std::string> leftover;
  size_t segments_before = 0;
  {
    auto wal = OpenOk();
    ASSERT_TRUE(wal->Save({Term(1), NodeId(1), LogIndex(300)}, MakeEntries(1, 300, 1)).ok());
    segments_before = wal->segment_count();
    StoreSnapshot(250, 1);
    ASSERT_TRUE(
        wal->ApplySnapshot({LogIndex(250), Term(1), {{NodeId(1)}, {}, {}, {}, false}}).ok());
    ASSERT_TRUE(wal->Compact(LogIndex(200), &leftover).ok());
    // The log forgot the segments at once; their files are still there, oldest first.
    EXPECT_EQ(wal->FirstIndex(), LogIndex(201));
    EXPECT_EQ(wal->segment_count() + leftover.size(), segments_before);
    ASSERT_GE(leftover.size(), 2u);
    EXPECT_EQ(leftover.front(), SegmentPath(1));
    for (const std::string& path : leftover) EXPECT_TRUE(*fs_.Exists(path)) << path;
    wal->CheckInvariants();
  }
  // A crash before they are removed: the log opens with them, up to the same last entry.
  fs_.Crash();
  {
    auto wal = OpenOk();
    EXPECT_EQ(wal->LastIndex(), LogIndex(300));
    EXPECT_EQ(wal->SnapshotMeta().index, LogIndex(250));
    EXPECT_EQ(ReadAll(*wal).back(), MakeEntries(300, 300, 1).front());
  }
  // Removed, durably, they stay gone after a crash, and the log opens on what is left.
  ASSERT_TRUE(Wal::RemoveSegmentFiles(&fs_, kDir + "/wal", leftover).ok());
  fs_.Crash();
  for (const std::string& path : leftover) EXPECT_FALSE(*fs_.Exists(path)) << path;
  auto wal = OpenOk();
  EXPECT_LE(wal->FirstIndex(), LogIndex(202));
  EXPECT_EQ(wal->LastIndex(), LogIndex(300));
}

TEST_F(WalTest, ApplyingAConflictingSnapshotClearsTheLog) {
  {
    auto wal = OpenOk();
    ASSERT_TRUE(wal->Append(MakeEntries(1, 10, 1)).ok());
    StoreSnapshot(20, 3);
    ASSERT_TRUE(wal->ApplySnapshot({LogIndex(20), Term(3), {}}).ok());
    EXPECT_EQ(wal->FirstIndex(), LogIndex(21));
    EXPECT_EQ(wal->LastIndex(), LogIndex(20));
    EXPECT_EQ(*wal->TermAt(LogIndex(20)), Term(3));
    ASSERT_TRUE(wal->Append(MakeEntries(21, 25, 3)).ok());
  }
  fs_.Crash();
  auto wal = OpenOk();
  EXPECT_EQ(wal->FirstIndex(), LogIndex(21));
  EXPECT_EQ(ReadAll(*wal), MakeEntries(21, 25, 3));
  EXPECT_FALSE(wal->recovery_report().cleared_onto_snapshot);
}

TEST_F(WalTest, OpenFinishesASnapshotInstallThatACrashInterrupted) {
  {
    auto wal = OpenOk();
    ASSERT_TRUE(wal->Append(MakeEntries(1, 10, 1)).ok());
  }
  StoreSnapshot(30, 4);  // sealed in DIR/snap, but ApplySnapshot never ran
  fs_.Crash();
  {
    auto wal = OpenOk();
    EXPECT_TRUE(wal->recovery_report().cleared_onto_snapshot);
    EXPECT_EQ(wal->FirstIndex(), LogIndex(31));
    ASSERT_TRUE(wal->Append(MakeEntries(31, 32, 4)).ok());
  }
  fs_.Crash();
  auto wal = OpenOk();
  EXPECT_EQ(ReadAll(*wal), MakeEntries(31, 32, 4));
}

TEST_F(WalTest, ALogThatStartsAfterTheNewestSnapshotIsCorruption) {
  {
    auto wal = OpenOk();
    ASSERT_TRUE(wal->Save({Term(1), NodeId(1), LogIndex(300)}, MakeEntries(1, 300, 1)).ok());
    StoreSnapshot(250, 1);
    ASSERT_TRUE(wal->ApplySnapshot({LogIndex(250), Term(1), {}}).ok());
    ASSERT_TRUE(wal->Compact(LogIndex(250)).ok());
  }
  ASSERT_TRUE(RemoveRecursively(&fs_, kDir + "/snap").ok());
  Status s = OpenStatus();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("snapshot"), std::string::npos) << s.message();
}

TEST_F(WalTest, TornTailIsCutAtEveryByteOfTheLastRecord) {
  {
    auto wal = OpenOk();
    ASSERT_TRUE(wal->Append(MakeEntries(1, 5, 1)).ok());
  }
  const std::string path = SegmentPath(1);
  const std::string original = *fs_.Contents(path);
  // The last record ends where the zeros start; it began one record size earlier.
  uint64_t end = original.find_last_not_of('\0') + 1;
  uint64_t record_bytes = FramedBytes(EncodedEntryBytes(MakeEntries(5, 5, 1).front()));
  uint64_t start = end - record_bytes;
  for (uint64_t cut = start; cut < end; ++cut) {
    SCOPED_TRACE(cut);
    {
      auto f = fs_.Open(path, OpenMode::kReadWrite);
      ASSERT_TRUE((*f)->WriteAt(0, original).ok());
      ASSERT_TRUE((*f)->Sync().ok());
    }
    Zero(path, cut, end);
    auto wal = OpenOk();
    EXPECT_EQ(wal->LastIndex(), LogIndex(4));
    EXPECT_EQ(wal->recovery_report().torn_tail_cut, cut != start);
    if (cut != start) {
      EXPECT_EQ(wal->recovery_report().torn_tail_offset, start);
    }
    // The log goes on from the cut, and the torn bytes never come back.
    ASSERT_TRUE(wal->Append(MakeEntries(5, 5, 2)).ok());
    wal.reset();
    auto again = OpenOk();
    EXPECT_EQ(again->LastIndex(), LogIndex(5));
    EXPECT_EQ(*again->TermAt(LogIndex(5)), Term(2));
    EXPECT_FALSE(again->recovery_report().torn_tail_cut);
  }
}

TEST_F(WalTest, BitFlipInTheMiddleIsCorruptionNamingFileAndOffset) {
  {
    auto wal = OpenOk();
    ASSERT_TRUE(wal->Append(MakeEntries(1, 10, 1)).ok());
  }
  const std::string path = SegmentPath(1);
  const std::string original = *fs_.Contents(path);
  uint64_t record_bytes = FramedBytes(EncodedEntryBytes(MakeEntries(5, 5, 1).front()));
  uint64_t end = original.find_last_not_of('\0') + 1;
  uint64_t rec5 = end - 6 * record_bytes;  // entry 5 of 10
  for (uint64_t off :
       {rec5, rec5 + 3, rec5 + 4, rec5 + 8, rec5 + 13, rec5 + 16, rec5 + record_bytes - 1}) {
    SCOPED_TRACE(off);
    ASSERT_TRUE(fs_.FlipBit(path, off, 2).ok());
    Status s = OpenStatus();
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(fmt::format("offset {}", rec5)), std::string::npos) << s.message();
    ASSERT_TRUE(fs_.FlipBit(path, off, 2).ok());
  }
  EXPECT_TRUE(OpenStatus().ok());
}

TEST_F(WalTest, DamageInASealedSegmentIsCorruptionEvenAtItsEnd) {
  {
    auto wal = OpenOk();
    ASSERT_TRUE(wal->Append(MakeEntries(1, 200, 1)).ok());
    ASSERT_GT(wal->segment_count(), 2u);
  }
  const std::string path = SegmentPath(1);
  std::string bytes = *fs_.Contents(path);
  uint64_t end = bytes.find_last_not_of('\0') + 1;
  ASSERT_TRUE(fs_.FlipBit(path, end - 1, 0).ok());  // the last byte of its last record
  Status s = OpenStatus();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  ASSERT_TRUE(fs_.FlipBit(path, end - 1, 0).ok());
  ASSERT_LT(end, kSegmentBytes);
  ASSERT_TRUE(fs_.FlipBit(path, kSegmentBytes - 1, 0).ok());  // junk after its end
  EXPECT_EQ(OpenStatus().code(), StatusCode::kCorruption);
}

TEST_F(WalTest, AMissingSegmentIsCorruption) {
  {
    auto wal = OpenOk();
    ASSERT_TRUE(wal->Append(MakeEntries(1, 200, 1)).ok());
  }
  ASSERT_TRUE(fs_.Remove(SegmentPath(2)).ok());
  Status s = OpenStatus();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("0000000000000002.wal"), std::string::npos) << s.message();
}

TEST_F(WalTest, AnUnknownFormatVersionIsRefused) {
  { auto wal = OpenOk(); }
  const std::string path = SegmentPath(1);
  // Rewrite the header record with format version 2 (valid CRCs).
  std::string payload = EncodeSegmentHeader(1);
  payload[8] = 2;
  std::string bad;
  AppendRecord(&bad, RecordType::kSegmentHeader, payload);
  auto f = fs_.Open(path, OpenMode::kReadWrite);
  ASSERT_TRUE((*f)->WriteAt(0, bad).ok());
  Status s = OpenStatus();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("version 2"), std::string::npos) << s.message();
}

TEST_F(WalTest, ReadsCheckEachRecordAndNameTheDamage) {
  auto wal = OpenOk();
  ASSERT_TRUE(wal->Append(MakeEntries(1, 3, 1)).ok());
  const std::string path = SegmentPath(1);
  uint64_t end = fs_.Contents(path)->find_last_not_of('\0') + 1;
  ASSERT_TRUE(fs_.FlipBit(path, end - 1, 3).ok());
  auto r = wal->Entries(LogIndex(1), LogIndex(4), UINT64_MAX);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find(path), std::string::npos);
  EXPECT_EQ(wal->Entries(LogIndex(1), LogIndex(3), UINT64_MAX)->size(), 2u);
}

TEST_F(WalTest, NoSpaceFailsOneSaveCleanlyAndLaterSavesWork) {
  auto wal = OpenOk();
  ASSERT_TRUE(wal->Append(MakeEntries(1, 20, 1)).ok());
  // A full disk shows when the next segment is preallocated.
  fs_.AddFault({FileOp::kPreallocate, false, "", 0, 1, StatusCode::kNoSpace});
  Status s = wal->Append(MakeEntries(21, 200, 1));
  EXPECT_EQ(s.code(), StatusCode::kNoSpace);
  EXPECT_EQ(wal->LastIndex(), LogIndex(20));
  // And when a write into the segment fails.
  fs_.AddFault({FileOp::kWrite, false, ".wal", 0, 1, StatusCode::kNoSpace});
  EXPECT_EQ(wal->Append(MakeEntries(21, 22, 1)).code(), StatusCode::kNoSpace);
  EXPECT_EQ(wal->LastIndex(), LogIndex(20));
  ASSERT_TRUE(wal->Append(MakeEntries(21, 200, 1)).ok());
  wal->CheckInvariants();
  wal.reset();
  fs_.Crash();
  auto again = OpenOk();
  EXPECT_EQ(ReadAll(*again), MakeEntries(1, 200, 1));
}

TEST_F(WalTest, NoSpaceFromADiskFullOfBytesIsAlsoClean) {
  auto wal = OpenOk();
  ASSERT_TRUE(wal->Append(MakeEntries(1, 20, 1)).ok());
  fs_.SetCapacityBytes(kSegmentBytes + 100);  // no room for a second segment
  EXPECT_EQ(wal->Append(MakeEntries(21, 200, 1)).code(), StatusCode::kNoSpace);
  EXPECT_EQ(wal->LastIndex(), LogIndex(20));
  EXPECT_TRUE(wal->Append(MakeEntries(21, 22, 1)).ok());  // fits in the current segment
  fs_.SetCapacityBytes(UINT64_MAX);
  EXPECT_TRUE(wal->Append(MakeEntries(23, 200, 1)).ok());
}

TEST_F(WalTest, ABatchSpanningSegmentsReservesThemAllBeforeWriting) {
  auto wal = OpenOk();
  ASSERT_TRUE(wal->Append(MakeEntries(1, 20, 1)).ok());
  // The batch needs several new segments; one is reserved, the second cannot be: the Save fails
  // before it writes anything.
  fs_.AddFault({FileOp::kPreallocate, false, "", 0, 1, StatusCode::kNoSpace});
  uint64_t before = fs_.mutating_ops();
  EXPECT_EQ(wal->Append(MakeEntries(21, 300, 1)).code(), StatusCode::kNoSpace);
  // Created a spare, failed to preallocate it, removed it.
  EXPECT_EQ(fs_.mutating_ops() - before, 3u);
  EXPECT_TRUE(wal->SpaceLow());
  EXPECT_EQ(wal->LastIndex(), LogIndex(20));
  EXPECT_EQ(wal->segment_count(), 1u);
  ASSERT_TRUE(wal->Append(MakeEntries(21, 300, 1)).ok());  // the same Save, space back
  EXPECT_FALSE(wal->SpaceLow());
  wal.reset();
  fs_.Crash();
  EXPECT_EQ(ReadAll(*OpenOk()), MakeEntries(1, 300, 1));
}

TEST_F(WalTest, NoSpaceWritingAfterABatchSealedASegmentMakesTheWalUnusable) {
  auto wal = OpenOk();
  ASSERT_TRUE(wal->Append(MakeEntries(1, 20, 1)).ok());
  // Space was reserved, yet the write into the new segment fails (a copy-on-write file system):
  // part of the batch is already sealed in a segment, so the failure cannot be clean.
  fs_.AddFault({FileOp::kWrite, false, "0000000000000002.wal", 1, 1, StatusCode::kNoSpace});
  EXPECT_EQ(wal->Append(MakeEntries(21, 100, 1)).code(), StatusCode::kIoError);
  EXPECT_EQ(wal->Append(MakeEntries(21, 22, 1)).code(), StatusCode::kIoError);
  wal.reset();
  auto again = OpenOk();  // the disk still holds a valid log: the old one plus a prefix
  EXPECT_GE(again->LastIndex(), LogIndex(20));
  EXPECT_EQ(ReadAll(*again), MakeEntries(1, again->LastIndex().value, 1));
}

TEST_F(WalTest, AFailedFsyncMakesTheWalUnusableAndIsNeverRetried) {
  auto wal = OpenOk();
  ASSERT_TRUE(wal->Append(MakeEntries(1, 5, 1)).ok());
  fs_.AddFault({FileOp::kSync, false, "", 0, 1, StatusCode::kIoError});
  EXPECT_EQ(wal->Append(MakeEntries(6, 6, 1)).code(), StatusCode::kIoError);
  uint64_t ops = fs_.mutating_ops();
  EXPECT_EQ(wal->Append(MakeEntries(6, 6, 1)).code(), StatusCode::kIoError);
  EXPECT_EQ(wal->SaveHardState({Term(1), NodeId(1), LogIndex(1)}).code(), StatusCode::kIoError);
  EXPECT_EQ(wal->Entries(LogIndex(1), LogIndex(2), 10).status().code(), StatusCode::kIoError);
  EXPECT_EQ(wal->TermAt(LogIndex(1)).status().code(), StatusCode::kIoError);
  EXPECT_EQ(wal->InitialHardState().status().code(), StatusCode::kIoError);
  EXPECT_EQ(fs_.mutating_ops(), ops);  // nothing touched the disk again
}

TEST_F(WalTest, AnIoErrorOnWriteMakesTheWalUnusable) {
  auto wal = OpenOk();
  fs_.AddFault({FileOp::kWrite, false, "", 0, 1, StatusCode::kIoError});
  EXPECT_EQ(wal->Append(MakeEntries(1, 1, 1)).code(), StatusCode::kIoError);
  EXPECT_EQ(wal->Append(MakeEntries(1, 1, 1)).code(), StatusCode::kIoError);
}

TEST_F(WalTest, LeftoverTemporarySegmentIsRemoved) {
  { auto wal = OpenOk(); }
  {
    auto f = fs_.Open(SegmentPath(2) + ".tmp", OpenMode::kCreateTruncate);
    ASSERT_TRUE((*f)->WriteAt(0, "partial").ok());
  }
  auto wal = OpenOk();
  EXPECT_FALSE(*fs_.Exists(SegmentPath(2) + ".tmp"));
  EXPECT_EQ(wal->segment_count(), 1u);
}

TEST_F(WalTest, StorageReadsRunConcurrentlyWithTheWriter) {
  auto wal = OpenOk();
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (uint64_t i = 1; i <= 600; i += 20) {
      NDS_CHECK(wal->Append(MakeEntries(i, i + 19, 1)).ok());
    }
    done = true;
  });
  // The reader sees only whole, durable Saves: every entry it can name reads back intact.
  uint64_t reads = 0;
  while (!done || reads == 0) {
    LogIndex last = wal->LastIndex();
    auto got = wal->Entries(wal->FirstIndex(), last.Next(), UINT64_MAX);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->size(), last.value);
    if (!got->empty()) {
      ASSERT_EQ(got->back(), MakeEntries(last.value, last.value, 1).front());
      ASSERT_EQ(last.value % 20, 0u);
    }
    ++reads;
    ASSERT_LT(reads, 1'000'000u);
  }
  writer.join();
  EXPECT_EQ(wal->LastIndex(), LogIndex(600));
}

TEST_F(WalTest, OptionsAreValidated) {
  EXPECT_EQ(Wal::Open(&fs_, kDir, {100}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nds::wal
