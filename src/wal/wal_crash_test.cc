// Goal: whatever moment a crash hits (any step of an append, of a segment roll, of a snapshot
// install), the log recovers, and what it recovers is a prefix of what was written that holds
// everything reported durable. Method: a workload runs on FaultFileSystem frozen after k mutating
// operations, for every k until the workload completes; then Crash() (with torn writes) and a
// fresh Open() are checked against a model of what was acknowledged. Last, a real process test: a
// child writes through PosixFileSystem and reports durable indexes through a pipe, and is killed
// with SIGKILL at random moments (30 rounds); each time the log must recover with every reported
// index present.
#include <memory>
#include <optional>
#include <random>
#include <signal.h>
#include <stdlib.h>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "util/fault_file_system.h"
#include "wal/snapshot_store.h"
#include "wal/snapshot_transfer.h"
#include "wal/test_util.h"
#include "wal/wal.h"

namespace nds::wal {
namespace {

using testing::EntryData;
using testing::MakeEntries;
using testing::ReadAll;

constexpr uint64_t kSegmentBytes = 4096;
const std::string kDir = "/data";
constexpr uint64_t kStepsMax = 2000;  // bound on the crash-point loop

// What the caller was told, and what the failed call would have made durable.
struct Model {
  std::vector<raft::Entry> log;  // entries 1..n
  raft::HardState hs;

  void Apply(const raft::HardState& new_hs, const std::vector<raft::Entry>& entries) {
    if (!entries.empty()) {
      log.resize(entries.front().index.value - 1);
      log.insert(log.end(), entries.begin(), entries.end());
    }
    if (!new_hs.IsEmpty()) hs = new_hs;
  }
};

struct SaveOp {
  raft::HardState hs;
  std::vector<raft::Entry> entries;
};

bool IsPrefix(const std::vector<raft::Entry>& a, const std::vector<raft::Entry>& b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Runs `ops` on a Wal over `fs`, which freezes after `crash_after` mutating operations. Returns
// the acknowledged model, the attempted one and the first index of the failed op (0 if none).
struct RunResult {
  Model durable;
  Model attempted;
  uint64_t failed_first = 0;
  bool completed = false;
};

RunResult RunOps(FaultFileSystem* fs, const std::vector<SaveOp>& ops, uint64_t crash_after,
                 const Model& base = {}) {
  RunResult r;
  r.durable = base;
  fs->SetCrashAfterOps(crash_after);
  auto wal = Wal::Open(fs, kDir, {kSegmentBytes});
  if (!wal.ok()) {
    r.attempted = r.durable;
    return r;
  }
  for (const SaveOp& op : ops) {
    Status s = (*wal)->Save(op.hs, op.entries);
    if (!s.ok()) {
      r.attempted = r.durable;
      r.attempted.Apply(op.hs, op.entries);
      r.failed_first = op.entries.empty() ? 0 : op.entries.front().index.value;
      return r;
    }
    r.durable.Apply(op.hs, op.entries);
  }
  r.attempted = r.durable;
  r.completed = !fs->frozen();
  return r;
}

void CheckRecovered(FaultFileSystem* fs, const RunResult& r) {
  auto wal = Wal::Open(fs, kDir, {kSegmentBytes});
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  (*wal)->CheckInvariants();
  std::vector<raft::Entry> got = ReadAll(**wal);
  bool as_acked = got == r.durable.log;
  bool as_attempted =
      r.failed_first != 0 && IsPrefix(got, r.attempted.log) && got.size() >= r.failed_first;
  EXPECT_TRUE(as_acked || as_attempted)
      << "recovered " << got.size() << " entries; acknowledged " << r.durable.log.size()
      << ", attempted " << r.attempted.log.size();
  raft::HardState hs = *(*wal)->InitialHardState();
  EXPECT_TRUE(hs == r.durable.hs || hs == r.attempted.hs)
      << "recovered commit " << hs.commit << " term " << hs.term;
  // The recovered log takes new entries, and keeps them across another crash.
  LogIndex next = (*wal)->LastIndex().Next();
  Term term = got.empty() ? Term(9) : std::max(Term(9), got.back().term);
  ASSERT_TRUE((*wal)->Append(MakeEntries(next.value, next.value + 2, term.value)).ok());
  wal->reset();
  fs->Crash();
  auto again = Wal::Open(fs, kDir, {kSegmentBytes});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->LastIndex(), LogIndex(next.value + 2));
}

// `steps_min`: how many mutating operations the workload must take (so that a workload that
// silently stopped doing its I/O fails the test).
void CrashAtEveryStep(const std::vector<SaveOp>& setup, const std::vector<SaveOp>& ops,
                      uint64_t steps_min) {
  for (uint64_t k = 0; k < kStepsMax; ++k) {
    SCOPED_TRACE(::testing::Message() << "crash after " << k << " operations");
    FaultFileSystem fs(k + 1);
    fs.SetTearOnCrash(true);
    RunResult base = RunOps(&fs, setup, UINT64_MAX);
    ASSERT_TRUE(base.completed);
    RunResult r = RunOps(&fs, ops, k, base.durable);
    if (r.completed) {
      // Every step has had its crash; a workload of a handful of steps tests nothing.
      EXPECT_GE(k, steps_min);
      return;
    }
    fs.Crash();
    CheckRecovered(&fs, r);
    if (::testing::Test::HasFailure()) return;
  }
  FAIL() << "workload did not complete within " << kStepsMax << " operations";
}

std::vector<raft::Entry> Big(uint64_t first, uint64_t last, uint64_t term) {
  return MakeEntries(first, last, term, 100);
}

TEST(WalCrash, CrashAtEveryStepOfAppendsTruncationsAndHardStates) {
  std::vector<SaveOp> ops = {
      {{Term(1), NodeId(1), LogIndex(0)}, Big(1, 15, 1)},
      {{Term(1), NodeId(1), LogIndex(10)}, Big(16, 60, 1)},  // rolls segments
      {{}, Big(50, 55, 2)},                                  // replaces a suffix
      {{Term(2), NodeId(2), LogIndex(50)}, {}},
      {{Term(2), NodeId(2), LogIndex(70)}, Big(56, 90, 2)},
  };
  CrashAtEveryStep({}, ops, 30);
}

TEST(WalCrash, CrashAtEveryStepOfASegmentRoll) {
  // The setup leaves the first segment nearly full; the next batch must roll.
  std::vector<SaveOp> setup = {{{Term(1), NodeId(1), LogIndex(20)}, Big(1, 32, 1)}};
  std::vector<SaveOp> ops = {{{Term(1), NodeId(1), LogIndex(36)}, Big(33, 38, 1)}};
  // Open (4) + prepare the segment (4) + flush the old one (2) + publish (2) + write, sync (2).
  CrashAtEveryStep(setup, ops, 14);
}

// ENOSPC at any single operation fails at most that Save: a kNoSpace Save changes nothing and the
// same Save retried succeeds; ENOSPC while reserving the next segment after a Save only makes
// SpaceLow() true; an ENOSPC reported by an fsync makes the Wal unusable (kIoError).
// Either way, reopening finds every acknowledged entry.
TEST(WalFaults, NoSpaceAtAnyStepFailsOnlyThatSave) {
  const std::vector<SaveOp> ops = {
      {{Term(1), NodeId(1), LogIndex(0)}, Big(1, 15, 1)},
      {{Term(1), NodeId(1), LogIndex(10)}, Big(16, 60, 1)},
      {{}, Big(50, 55, 2)},
      {{Term(2), NodeId(2), LogIndex(70)}, Big(56, 90, 2)},
  };
  for (uint64_t n = 0; n < kStepsMax; ++n) {
    SCOPED_TRACE(::testing::Message() << "ENOSPC at operation " << n);
    FaultFileSystem fs(n + 1);
    auto wal = Wal::Open(&fs, kDir, {kSegmentBytes});
    ASSERT_TRUE(wal.ok());
    fs.AddFault({FileOp::kWrite, true, "", n, 1, StatusCode::kNoSpace});
    RunResult r;
    bool fired = false;
    bool unusable = false;
    for (const SaveOp& op : ops) {
      Status s = (*wal)->Save(op.hs, op.entries);
      if (s.code() == StatusCode::kNoSpace) {
        fired = true;
        EXPECT_EQ(ReadAll(**wal), r.durable.log);  // nothing changed in memory
        s = (*wal)->Save(op.hs, op.entries);       // space is back
      }
      if (s.code() == StatusCode::kIoError) {
        fired = unusable = true;
        r.attempted = r.durable;
        r.attempted.Apply(op.hs, op.entries);
        r.failed_first = op.entries.empty() ? 0 : op.entries.front().index.value;
        break;
      }
      ASSERT_TRUE(s.ok()) << s.ToString();
      r.durable.Apply(op.hs, op.entries);
      // ENOSPC while reserving the next segment after a Save fails no Save: it shows here.
      if ((*wal)->SpaceLow()) fired = true;
    }
    if (!fired) {
      EXPECT_GT(n, 20u);
      return;
    }
    if (!unusable) {
      r.attempted = r.durable;
      EXPECT_EQ(ReadAll(**wal), r.durable.log);
    }
    wal->reset();
    CheckRecovered(&fs, r);  // reopen without a crash: the disk holds what it holds
    if (::testing::Test::HasFailure()) return;
  }
  FAIL() << "workload did not complete";
}

// --- snapshot install ---

// A source snapshot at (100, 5) with three files, read as chunks.
std::vector<SnapshotChunk> SourceChunks() {
  FaultFileSystem src;
  auto store = SnapshotStore::Open(&src, "/snap");
  NDS_CHECK(store.ok());
  raft::SnapshotMetadata meta{LogIndex(100), Term(5), {{NodeId(1), NodeId(2)}, {}, {}, {}, false}};
  Status s = (*store)->Create(meta, [&](const std::string& dir) -> Status {
    NDS_RETURN_IF_ERROR(src.CreateDir(dir));
    NDS_RETURN_IF_ERROR(src.CreateDir(dir + "/sub"));
    NDS_RETURN_IF_ERROR(WriteFileAtomically(&src, dir, "a", std::string(3000, 'a')));
    NDS_RETURN_IF_ERROR(WriteFileAtomically(&src, dir + "/sub", "b", "0123456789"));
    return WriteFileAtomically(&src, dir, "empty", "");
  });
  NDS_CHECK(s.ok(), "{}", s.ToString());
  auto newest = (*store)->Newest();
  NDS_CHECK(newest.ok());
  auto reader = SnapshotReader::Open(&src, *newest, 1024);
  NDS_CHECK(reader.ok());
  std::vector<SnapshotChunk> chunks;
  while (!(*reader)->done()) chunks.push_back(*(*reader)->Next());
  return chunks;
}

TEST(WalCrash, CrashAtEveryStepOfASnapshotInstall) {
  const std::vector<SnapshotChunk> chunks = SourceChunks();
  const raft::SnapshotMetadata meta{
      LogIndex(100), Term(5), {{NodeId(1), NodeId(2)}, {}, {}, {}, false}};
  for (uint64_t k = 0; k < kStepsMax; ++k) {
    SCOPED_TRACE(::testing::Message() << "crash after " << k << " operations");
    FaultFileSystem fs(k + 1);
    fs.SetTearOnCrash(true);
    ASSERT_TRUE(
        RunOps(&fs, {{{Term(1), NodeId(1), LogIndex(20)}, Big(1, 30, 1)}}, UINT64_MAX).completed);
    fs.SetCrashAfterOps(k);
    bool sealed = false, applied = false, appended = false;
    auto run = [&]() -> Status {
      NDS_ASSIGN_OR_RETURN(auto wal, Wal::Open(&fs, kDir, {kSegmentBytes}));
      NDS_ASSIGN_OR_RETURN(auto store, SnapshotStore::Open(&fs, kDir + "/snap"));
      NDS_ASSIGN_OR_RETURN(auto receiver, SnapshotReceiver::Start(store.get(), {}));
      for (const SnapshotChunk& c : chunks) NDS_RETURN_IF_ERROR(receiver->Accept(c));
      NDS_RETURN_IF_ERROR(receiver->Finish().status());
      sealed = true;
      NDS_RETURN_IF_ERROR(wal->ApplySnapshot(meta));
      applied = true;
      NDS_RETURN_IF_ERROR(wal->Append(Big(101, 105, 5)));
      appended = true;
      return Status::Ok();
    };
    Status s = run();
    if (s.ok() && !fs.frozen()) return;
    fs.Crash();
    auto store = SnapshotStore::Open(&fs, kDir + "/snap");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto wal = Wal::Open(&fs, kDir, {kSegmentBytes});
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    auto newest = (*store)->Newest();
    bool has_snapshot = newest.ok();
    if (sealed) {
      EXPECT_TRUE(has_snapshot);
    }
    if (has_snapshot) {
      EXPECT_EQ(newest->manifest.meta, meta);
      EXPECT_TRUE((*store)->Verify(*newest).ok());
      EXPECT_EQ((*wal)->FirstIndex(), LogIndex(101));
      EXPECT_EQ(*(*wal)->TermAt(LogIndex(100)), Term(5));
      EXPECT_EQ((*wal)->SnapshotMeta(), meta);
    } else {
      EXPECT_FALSE(applied);
      EXPECT_EQ(ReadAll(**wal), Big(1, 30, 1));
    }
    if (appended) {
      EXPECT_EQ(ReadAll(**wal), Big(101, 105, 5));
    }
    auto names = fs.ListDir(kDir + "/snap");
    ASSERT_TRUE(names.ok());
    for (const DirEntry& e : *names) {
      EXPECT_FALSE(e.name.starts_with(kSnapshotTmpPrefix)) << e.name;
    }
    if (::testing::Test::HasFailure()) return;
  }
  FAIL() << "workload did not complete";
}

// --- a real process killed with SIGKILL ---

constexpr int kRounds = 30;
constexpr int kBatchesPerChildMax = 2000;

// The child: appends batches of term `round` and reports each durable last index on `fd`.
[[noreturn]] void ChildWriter(const std::string& dir, int round, int fd) {
  auto wal = Wal::Open(DefaultFileSystem(), dir, {64 << 10});
  if (!wal.ok()) ::_exit(2);
  std::mt19937_64 rng(static_cast<uint64_t>(round));
  uint64_t last = (*wal)->LastIndex().value;
  for (int b = 0; b < kBatchesPerChildMax; ++b) {
    uint64_t n = rng() % 40 + 1;
    auto entries = MakeEntries(last + 1, last + n, static_cast<uint64_t>(round), 100 + rng() % 200);
    raft::HardState hs{Term(static_cast<uint64_t>(round)), NodeId(1), LogIndex(last)};
    if (!(*wal)->Save(hs, entries).ok()) ::_exit(3);
    last += n;
    if (::write(fd, &last, sizeof(last)) != sizeof(last)) ::_exit(4);
  }
  ::_exit(0);
}

TEST(WalProcessCrash, SigkillAtRandomMomentsNeverLosesWhatWasReportedDurable) {
  char tmpl[] = "/tmp/nds_wal_kill_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = std::string(tmpl) + "/data";
  std::mt19937_64 rng(7);
  uint64_t reported_max = 0;
  for (int round = 1; round <= kRounds; ++round) {
    SCOPED_TRACE(round);
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      ChildWriter(dir, round, fds[1]);
    }
    ::close(fds[1]);
    uint64_t kill_after = rng() % 30 + 1;  // reports to wait for before the kill
    uint64_t reports = 0;
    uint64_t value;
    while (::read(fds[0], &value, sizeof(value)) == sizeof(value)) {
      reported_max = std::max(reported_max, value);
      if (++reports == kill_after) ::kill(pid, SIGKILL);
    }
    ::close(fds[0]);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus) || (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0))
        << "child failed with status " << wstatus;
    auto wal = Wal::Open(DefaultFileSystem(), dir, {64 << 10});
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    ASSERT_GE((*wal)->LastIndex().value, reported_max);
    std::vector<raft::Entry> all = ReadAll(**wal);
    ASSERT_EQ(all.size(), (*wal)->LastIndex().value);
    for (const raft::Entry& e : all) {
      ASSERT_EQ(e.data, EntryData(e.index.value, e.term.value, e.data.size()))
          << "entry " << e.index;
    }
  }
  IgnoreError(RemoveRecursively(DefaultFileSystem(), tmpl), "test cleanup");
}

}  // namespace
}  // namespace nds::wal
