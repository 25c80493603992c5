// Goal: the Raft log's writer (node/wal_writer.h): jobs saved in the order pushed, those waiting
// together in one save, a later job's entries replacing an earlier one's, messages handed back
// in order, a full disk failing every job after the first failure until Reset (the log never gets
// a hole), an I/O error stopping the node, WaitIdle with a thread of its own, and a snapshot
// recorded (and the log compacted) after the entries pushed before it, its obsolete segment files
// reported back.
// Method: a Wal on the in-memory FaultFileSystem; the jobs run by hand (Config::run holds them)
// or on the writer's own thread.
#include "node/wal_writer.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "util/fault_file_system.h"
#include "wal/test_util.h"

namespace nds::node {
namespace {

using wal::testing::MakeEntries;
using wal::testing::ReadAll;

raft::Message Msg(uint64_t to) {
  raft::Message m;
  m.type = raft::MessageType::kAppendResponse;
  m.to = NodeId(to);
  return m;
}

std::vector<uint64_t> Tos(const std::vector<raft::Message>& messages) {
  std::vector<uint64_t> out;
  out.reserve(messages.size());
  for (const raft::Message& m : messages) out.push_back(m.to.value);
  return out;
}

class WalWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto w = wal::Wal::Open(&fs_, "/data", {4096});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    wal_ = std::move(w).value();
  }
  std::unique_ptr<WalWriter> Make(bool held, bool threaded = false) {
    WalWriter::Config c;
    c.wal = wal_.get();
    c.now = [] { return WalWriter::Clock::now(); };
    c.wake = [this] { ++wakes_; };
    c.die = [this](std::string_view, const Status& s) { died_ = s; };
    if (held) c.run = [this](std::function<void()> work) { held_.push_back(std::move(work)); };
    c.threaded = threaded;
    return std::make_unique<WalWriter>(std::move(c));
  }

  FaultFileSystem fs_;
  std::unique_ptr<wal::Wal> wal_;
  std::vector<std::function<void()>> held_;
  int wakes_ = 0;
  Status died_;
};

TEST_F(WalWriterTest, JobsWaitingTogetherAreSavedInOneSaveAndReportedInOrder) {
  auto writer = Make(/*held=*/true);
  writer->Push({raft::HardState{Term(1), NodeId(1), LogIndex(0)}, MakeEntries(1, 3, 1), {Msg(2)}});
  writer->Push({raft::HardState{Term(1), NodeId(1), LogIndex(2)}, MakeEntries(4, 5, 1), {Msg(3)}});
  writer->Push({raft::HardState{}, {}, {Msg(2), Msg(3)}});
  EXPECT_FALSE(writer->Idle());
  EXPECT_FALSE(writer->HasDone());
  EXPECT_EQ(wal_->LastIndex(), LogIndex(0));  // nothing saved before a job runs
  ASSERT_EQ(held_.size(), 3u);
  held_[0]();  // the oldest closure saves every job waiting
  EXPECT_TRUE(writer->Idle());
  EXPECT_EQ(wakes_, 1);
  EXPECT_EQ(ReadAll(*wal_), MakeEntries(1, 5, 1));
  EXPECT_EQ(wal_->InitialHardState()->commit, LogIndex(2));  // the last hard state given
  std::deque<WalWriter::Done> done = writer->TakeDone();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].index, LogIndex(3));
  EXPECT_EQ(done[1].index, LogIndex(5));
  EXPECT_EQ(done[2].index, LogIndex(0));
  EXPECT_TRUE(done[0].took.has_value());  // one save: its time counted once
  EXPECT_FALSE(done[1].took.has_value());
  EXPECT_FALSE(done[2].took.has_value());
  EXPECT_EQ(Tos(done[0].after), std::vector<uint64_t>{2});
  EXPECT_EQ(Tos(done[1].after), std::vector<uint64_t>{3});
  EXPECT_EQ(Tos(done[2].after), (std::vector<uint64_t>{2, 3}));
  for (const auto& d : done) EXPECT_TRUE(d.status.ok());
  held_[1]();  // the later closures find nothing left
  held_[2]();
  EXPECT_FALSE(writer->HasDone());
  EXPECT_EQ(wakes_, 1);
}

TEST_F(WalWriterTest, ALaterJobReplacesTheEntriesOfAnEarlierOneFromItsFirstIndexOn) {
  auto writer = Make(/*held=*/true);
  writer->Push({{}, MakeEntries(1, 5, 1), {}});
  writer->Push({{}, MakeEntries(4, 6, 2), {}});
  held_[0]();
  std::vector<raft::Entry> want = MakeEntries(1, 3, 1);
  for (const raft::Entry& e : MakeEntries(4, 6, 2)) want.push_back(e);
  EXPECT_EQ(ReadAll(*wal_), want);
  // And across saves: a job that starts before the log's end truncates it there.
  writer->Push({{}, MakeEntries(2, 2, 3), {}});
  held_[2]();
  std::vector<raft::Entry> now = MakeEntries(1, 1, 1);
  now.push_back(MakeEntries(2, 2, 3)[0]);
  EXPECT_EQ(ReadAll(*wal_), now);
}

TEST_F(WalWriterTest, AFullDiskFailsTheJobAndEveryOneAfterItUntilReset) {
  auto writer = Make(/*held=*/true);
  FaultFileSystem::Fault full;
  full.op = FileOp::kWrite;
  full.times = 1;
  full.code = StatusCode::kNoSpace;
  fs_.AddFault(full);
  writer->Push({{}, MakeEntries(1, 2, 1), {Msg(2)}});
  held_[0]();
  writer->Push({{}, MakeEntries(3, 4, 1), {Msg(3)}});  // the disk has room again: still refused
  held_[1]();
  std::deque<WalWriter::Done> done = writer->TakeDone();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].status.code(), StatusCode::kNoSpace);
  EXPECT_EQ(done[1].status.code(), StatusCode::kNoSpace);
  EXPECT_EQ(wal_->LastIndex(), LogIndex(0));  // no hole: entries 3-4 were not saved alone
  EXPECT_TRUE(died_.ok());                    // a full disk does not stop the node
  writer->Reset();
  writer->Push({{}, MakeEntries(1, 4, 1), {}});
  held_[2]();
  EXPECT_TRUE(writer->TakeDone()[0].status.ok());
  EXPECT_EQ(ReadAll(*wal_), MakeEntries(1, 4, 1));
}

TEST_F(WalWriterTest, ASnapshotIsRecordedAfterTheEntriesBeforeItAndTheLogCompactedUpToIt) {
  auto writer = Make(/*held=*/true);
  // 1.5 KiB entries in 4 KiB segments: a few segments fill up before the snapshot's index.
  writer->Push({{}, MakeEntries(1, 8, 1, 1500), {Msg(2)}});
  raft::SnapshotMetadata meta;
  meta.index = LogIndex(6);
  meta.term = Term(1);
  meta.conf_state.voters = {NodeId(1)};
  WalWriter::Job record;
  record.snapshot = meta;
  writer->Push(std::move(record));
  writer->Push({{}, MakeEntries(9, 10, 1, 1500), {Msg(3)}});
  EXPECT_EQ(wal_->SnapshotMeta().index, LogIndex(0));  // nothing before the jobs run
  held_[0]();                                          // all three together, in their order
  EXPECT_EQ(wal_->SnapshotMeta().index, LogIndex(6));
  EXPECT_EQ(wal_->FirstIndex(), LogIndex(7));
  EXPECT_EQ(ReadAll(*wal_), MakeEntries(7, 10, 1, 1500));
  std::deque<WalWriter::Done> done = writer->TakeDone();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_FALSE(done[0].snapshot.has_value());
  ASSERT_TRUE(done[1].snapshot.has_value());
  EXPECT_EQ(done[1].snapshot->index, LogIndex(6));
  EXPECT_EQ(done[1].index, LogIndex(0));  // no entries of its own
  // The compaction left whole segments below index 6 for the caller to remove, oldest first.
  EXPECT_FALSE(done[1].segment_files.empty());
  EXPECT_TRUE(std::is_sorted(done[1].segment_files.begin(), done[1].segment_files.end()));
  EXPECT_TRUE(done[2].segment_files.empty());
  EXPECT_EQ(done[2].index, LogIndex(10));
  for (const auto& d : done) EXPECT_TRUE(d.status.ok()) << d.status.ToString();
  // The log reopened from what is on disk holds every entry (the segments left are still there).
  wal_.reset();
  auto reopened = wal::Wal::Open(&fs_, "/data", {4096});
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->LastIndex(), LogIndex(10));
}

TEST_F(WalWriterTest, AnIoErrorStopsTheNode) {
  auto writer = Make(/*held=*/false);  // runs at once, inside Push
  FaultFileSystem::Fault eio;
  eio.op = FileOp::kSync;
  eio.code = StatusCode::kIoError;
  fs_.AddFault(eio);
  writer->Push({{}, MakeEntries(1, 1, 1), {Msg(2)}});
  EXPECT_EQ(died_.code(), StatusCode::kIoError);
}

TEST_F(WalWriterTest, WaitIdleReturnsOnceEveryJobPushedIsDurableOnTheWritersThread) {
  auto writer = Make(/*held=*/false, /*threaded=*/true);
  for (uint64_t i = 1; i <= 200; ++i) writer->Push({{}, MakeEntries(i, i, 1), {Msg(2)}});
  writer->WaitIdle();
  EXPECT_TRUE(writer->Idle());
  EXPECT_EQ(wal_->LastIndex(), LogIndex(200));
  size_t reported = 0;
  LogIndex last;
  for (const auto& d : writer->TakeDone()) {
    EXPECT_TRUE(d.status.ok());
    EXPECT_GT(d.index, last);  // in the order pushed
    last = d.index;
    ++reported;
  }
  EXPECT_EQ(reported, 200u);
  writer->Close();
  writer->Push({{}, MakeEntries(201, 201, 1), {}});  // after Close: never saved
  EXPECT_EQ(wal_->LastIndex(), LogIndex(200));
}

}  // namespace
}  // namespace nds::node
