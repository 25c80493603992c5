// Goal: RaftLog's view over storage plus the unstable tail is right: term lookups across the
// boundary, appends that truncate, conflict search for fast back-off, slicing by bytes, commit and
// applied bookkeeping, snapshot restore. Also the MemoryStorage it sits on.
// Method: a MemoryStorage filled by hand, direct calls.
#include "raft/log.h"

#include <gtest/gtest.h>

#include "raft/memory_storage.h"

namespace nds::raft {
namespace {

Entry E(uint64_t term, uint64_t index, std::string data = "") {
  return Entry{Term(term), LogIndex(index), EntryType::kNormal, std::move(data)};
}

TEST(RaftLog, TermsSpanStableAndUnstableParts) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append({E(1, 1), E(1, 2)}).ok());
  RaftLog log(&s);
  log.Append({E(2, 3), E(3, 4)});
  EXPECT_EQ(log.LastIndex(), LogIndex(4));
  EXPECT_EQ(*log.TermAt(LogIndex(2)), Term(1));
  EXPECT_EQ(*log.TermAt(LogIndex(4)), Term(3));
  EXPECT_EQ(*log.TermAt(LogIndex(9)), Term(0));
  EXPECT_EQ(log.StableLastIndex(), LogIndex(2));
  log.StableTo(LogIndex(3), Term(2));
  EXPECT_EQ(log.UnstableEntries().size(), 1u);
  log.StableTo(LogIndex(4), Term(9));  // wrong term: ignored
  EXPECT_EQ(log.UnstableEntries().size(), 1u);
}

TEST(RaftLog, MaybeAppendTruncatesConflictingSuffix) {
  MemoryStorage s;
  RaftLog log(&s);
  log.Append({E(1, 1), E(1, 2), E(1, 3)});
  auto r = log.MaybeAppend(LogIndex(1), Term(1), LogIndex(0), {E(2, 2)});
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, LogIndex(2));
  EXPECT_EQ(log.LastIndex(), LogIndex(2));
  EXPECT_EQ(*log.TermAt(LogIndex(2)), Term(2));
}

TEST(RaftLog, MaybeAppendRefusesMismatchedPrevious) {
  MemoryStorage s;
  RaftLog log(&s);
  log.Append({E(1, 1)});
  auto r = log.MaybeAppend(LogIndex(1), Term(2), LogIndex(0), {E(2, 2)});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(RaftLog, MaybeAppendCommitsOnlyUpToLastNewEntry) {
  MemoryStorage s;
  RaftLog log(&s);
  log.Append({E(1, 1), E(1, 2), E(1, 3)});
  auto r = log.MaybeAppend(LogIndex(1), Term(1), LogIndex(3), {E(1, 2)});
  ASSERT_TRUE(r.ok());
  // Index 3 may diverge from the leader's: only the verified prefix commits.
  EXPECT_EQ(log.committed(), LogIndex(2));
}

TEST(RaftLog, ConflictBelowCommitIsCorruptionNotACrash) {
  MemoryStorage s;
  RaftLog log(&s);
  log.Append({E(1, 1), E(1, 2)});
  log.CommitTo(LogIndex(2));
  auto r = log.MaybeAppend(LogIndex(0), Term(0), LogIndex(0), {E(1, 1), E(5, 2)});
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
}

TEST(RaftLog, FindConflictByTermSkipsWholeTerms) {
  MemoryStorage s;
  RaftLog log(&s);
  log.Append({E(1, 1), E(2, 2), E(2, 3), E(4, 4), E(4, 5), E(4, 6)});
  EXPECT_EQ(log.FindConflictByTerm(LogIndex(6), Term(3)).first, LogIndex(3));
  EXPECT_EQ(log.FindConflictByTerm(LogIndex(6), Term(4)).first, LogIndex(6));
  EXPECT_EQ(log.FindConflictByTerm(LogIndex(6), Term(1)).first, LogIndex(1));
  EXPECT_EQ(log.FindConflictByTerm(LogIndex(99), Term(9)).first, LogIndex(6));
}

TEST(RaftLog, SliceHonoursByteLimitButReturnsAtLeastOne) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append({E(1, 1, "aaaa"), E(1, 2, "bbbb")}).ok());
  RaftLog log(&s);
  log.Append({E(1, 3, "cccc"), E(1, 4, "dddd")});
  EXPECT_EQ(log.Slice(LogIndex(1), LogIndex(5), 1)->size(), 1u);
  EXPECT_EQ(log.Slice(LogIndex(1), LogIndex(5), 8)->size(), 2u);
  EXPECT_EQ(log.Slice(LogIndex(2), LogIndex(5), 8)->size(), 2u);  // crosses into unstable
  EXPECT_EQ(log.Slice(LogIndex(1), LogIndex(5), 100)->size(), 4u);
}

TEST(RaftLog, CompactedRangesReportNotFound) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append({E(1, 1), E(1, 2), E(2, 3)}).ok());
  ASSERT_TRUE(s.Compact(LogIndex(2)).ok());
  RaftLog log(&s);
  EXPECT_EQ(log.FirstIndex(), LogIndex(3));
  EXPECT_EQ(*log.TermAt(LogIndex(2)), Term(1));  // the snapshot's term still answers
  EXPECT_EQ(log.TermAt(LogIndex(1)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log.Slice(LogIndex(1), LogIndex(3), 100).status().code(), StatusCode::kNotFound);
}

TEST(RaftLog, CommittedEntriesAreHandedOutOnce) {
  MemoryStorage s;
  RaftLog log(&s);
  log.Append({E(1, 1), E(1, 2), E(1, 3)});
  log.CommitTo(LogIndex(2));
  EXPECT_TRUE(log.HasNextCommittedEntries());
  auto ents = log.NextCommittedEntries(1 << 20);
  ASSERT_EQ(ents.size(), 2u);
  log.ApplyingTo(LogIndex(2));
  EXPECT_FALSE(log.HasNextCommittedEntries());
  log.AppliedTo(LogIndex(2));
  EXPECT_EQ(log.applied(), LogIndex(2));
}

// What the driver does with a Ready: persist the unstable entries, then report them stable.
void Persist(RaftLog* log, MemoryStorage* s) {
  std::vector<Entry> unstable = log->UnstableEntries();
  ASSERT_FALSE(unstable.empty());
  ASSERT_TRUE(s->Append(unstable).ok());
  log->StableTo(unstable.back().index, unstable.back().term);
}

// The data of each entry of a slice, in order.
std::vector<std::string> Data(const Result<std::vector<Entry>>& entries) {
  std::vector<std::string> out;
  if (entries.ok()) {
    for (const Entry& e : *entries) out.push_back(e.data.str());
  }
  return out;
}

// Entries just persisted are still served from memory (the storage is not read back) until they
// are applied; then they come from storage. The test tells the two apart by changing what the
// storage holds behind the log's back.
TEST(RaftLog, PersistedEntriesAreServedFromMemoryUntilApplied) {
  MemoryStorage s;
  RaftLog log(&s, 1 << 20);
  log.Append({E(1, 1, "a"), E(1, 2, "b"), E(1, 3, "c")});
  Persist(&log, &s);
  EXPECT_EQ(log.PersistedTailEntries(), 3u);
  ASSERT_TRUE(s.Append({E(1, 1, "A"), E(1, 2, "B"), E(1, 3, "C")}).ok());
  log.CommitTo(LogIndex(3));
  EXPECT_EQ(Data(log.NextCommittedEntries(1 << 20)), (std::vector<std::string>{"a", "b", "c"}));
  log.ApplyingTo(LogIndex(3));
  log.AppliedTo(LogIndex(2));
  EXPECT_EQ(log.PersistedTailEntries(), 1u);
  EXPECT_EQ(Data(log.Slice(LogIndex(1), LogIndex(4), 1 << 20)),
            (std::vector<std::string>{"A", "B", "c"}));
}

// A leader's append that replaces persisted entries drops them from memory too.
TEST(RaftLog, AConflictingAppendDropsThePersistedEntriesItReplaces) {
  MemoryStorage s;
  RaftLog log(&s, 1 << 20);
  log.Append({E(1, 1, "a"), E(1, 2, "b"), E(1, 3, "c")});
  Persist(&log, &s);
  auto r = log.MaybeAppend(LogIndex(1), Term(1), LogIndex(0), {E(2, 2, "x")});
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ(log.PersistedTailEntries(), 1u);
  EXPECT_EQ(Data(log.Slice(LogIndex(1), LogIndex(3), 1 << 20)),
            (std::vector<std::string>{"a", "x"}));
  Persist(&log, &s);
  EXPECT_EQ(Data(log.Slice(LogIndex(1), LogIndex(3), 1 << 20)),
            (std::vector<std::string>{"a", "x"}));
  EXPECT_EQ(log.LastIndex(), LogIndex(2));
}

// The persisted entries kept in memory stay under their byte bound (the oldest go first), and a
// log without a bound keeps none; a snapshot restore drops them.
TEST(RaftLog, PersistedEntriesInMemoryAreBoundedInBytes) {
  MemoryStorage s;
  RaftLog log(&s, 10);
  log.Append({E(1, 1, "aaaa"), E(1, 2, "bbbb"), E(1, 3, "cccc")});
  Persist(&log, &s);
  EXPECT_EQ(log.PersistedTailEntries(), 2u);
  EXPECT_EQ(log.PersistedTailBytes(), 8u);
  EXPECT_EQ(Data(log.Slice(LogIndex(1), LogIndex(4), 1 << 20)),
            (std::vector<std::string>{"aaaa", "bbbb", "cccc"}));
  log.Restore(SnapshotMetadata{LogIndex(10), Term(3), {}});
  EXPECT_EQ(log.PersistedTailEntries(), 0u);

  MemoryStorage s2;
  RaftLog unbounded(&s2);
  unbounded.Append({E(1, 1, "a")});
  Persist(&unbounded, &s2);
  EXPECT_EQ(unbounded.PersistedTailEntries(), 0u);
}

TEST(RaftLog, RestoreReplacesTheLogBySnapshot) {
  MemoryStorage s;
  RaftLog log(&s);
  log.Append({E(1, 1), E(1, 2)});
  log.Restore(SnapshotMetadata{LogIndex(10), Term(3), {}});
  EXPECT_EQ(log.FirstIndex(), LogIndex(11));
  EXPECT_EQ(log.LastIndex(), LogIndex(10));
  EXPECT_EQ(log.committed(), LogIndex(10));
  EXPECT_EQ(log.applied(), LogIndex(10));
  EXPECT_EQ(*log.TermAt(LogIndex(10)), Term(3));
  EXPECT_TRUE(log.UnstableSnapshot().has_value());
}

TEST(RaftLog, UpToDateComparesLastTermThenIndex) {
  MemoryStorage s;
  RaftLog log(&s);
  log.Append({E(1, 1), E(2, 2)});
  EXPECT_TRUE(log.IsUpToDate(LogIndex(1), Term(3)));
  EXPECT_TRUE(log.IsUpToDate(LogIndex(2), Term(2)));
  EXPECT_FALSE(log.IsUpToDate(LogIndex(1), Term(2)));
  EXPECT_FALSE(log.IsUpToDate(LogIndex(9), Term(1)));
}

TEST(MemoryStorage, AppendTruncatesAndRejectsGaps) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append({E(1, 1), E(1, 2), E(1, 3)}).ok());
  ASSERT_TRUE(s.Append({E(2, 2)}).ok());
  EXPECT_EQ(s.LastIndex(), LogIndex(2));
  EXPECT_EQ(*s.TermAt(LogIndex(2)), Term(2));
  EXPECT_EQ(s.Append({E(2, 9)}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Append({E(2, 3), E(2, 5)}).code(), StatusCode::kInvalidArgument);
}

TEST(MemoryStorage, SnapshotAndCompactKeepTheTermOfTheBoundary) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append({E(1, 1), E(2, 2), E(2, 3)}).ok());
  ConfState cs;
  cs.voters = {NodeId(1)};
  ASSERT_TRUE(s.CreateSnapshotAndCompact(LogIndex(2), cs).ok());
  EXPECT_EQ(s.FirstIndex(), LogIndex(3));
  EXPECT_EQ(s.SnapshotMeta().term, Term(2));
  EXPECT_EQ(s.InitialConfState()->voters, cs.voters);
  EXPECT_EQ(s.Entries(LogIndex(1), LogIndex(3), 100).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s.Compact(LogIndex(9)).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(s.ApplySnapshot(SnapshotMetadata{LogIndex(7), Term(3), cs}).ok());
  EXPECT_EQ(s.LastIndex(), LogIndex(7));
  EXPECT_EQ(s.ApplySnapshot(SnapshotMetadata{LogIndex(5), Term(3), cs}).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nds::raft
