// Goal: every data write the applier makes is in the change history, in revision order, with the
// value as of any kept revision readable, /clear recorded as a delete of each key it removed,
// secrets kept out, compaction bounded per commit (by revisions and by bytes, the size entry
// counting exactly what the history holds, also over events written by an earlier version), and
// all of it surviving a reopen.
// Method: BatchApplier over both engines (memory and RocksDB, parameterised), then the history
// readers of store/history.h on fresh views.
#include "store/history.h"

#include <gtest/gtest.h>

#include "engine/engine_test_util.h"
#include "engine/memory_engine.h"
#include "store/applier.h"
#include "store/engine_options.h"
#include "store/txn.h"
#include "util/coding.h"

namespace nds::store {
namespace {

class HistoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    if (GetParam() == "memory") {
      if (!engine_) engine_ = engine::NewMemoryEngine();
      return;
    }
    engine_.reset();
    auto opened = OpenStoreEngine("rocksdb", dir_.Sub("engine"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
  }

  // Applies `cmds` in one batch, one index each; returns the last index.
  uint64_t Apply(const std::vector<Command>& cmds, uint64_t keep = 1000,
                 uint64_t bytes = kHistoryBytesDefault) {
    BatchApplier a(engine_.get(), keep, bytes);
    for (const Command& c : cmds) {
      ++next_;
      ApplyResult r = a.Apply(c, LogIndex(next_));
      EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    }
    Status s = a.Commit(engine_.get(), false);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return next_;
  }

  std::vector<HistoryEvent> Events(uint64_t after) {
    std::vector<HistoryEvent> out;
    auto view = engine_->NewView();
    auto read =
        ReadHistoryEvents(*view, after, view->applied_index().value, 1 << 30, 1 << 30, &out);
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    return out;
  }

  std::string At(std::string_view key, uint64_t revision) {
    auto view = engine_->NewView();
    auto rec = ReadAtRevision(*view, key, revision);
    if (!rec.ok()) return "<error " + rec.status().ToString() + ">";
    return *rec ? (*rec)->value : "<absent>";
  }

  uint64_t Floor() {
    auto c = ReadCompactRevision(*engine_->NewView());
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : 0;
  }

  engine::testing::ScratchDir dir_;
  std::unique_ptr<engine::Engine> engine_;
  uint64_t next_ = 0;
};

std::string Describe(const std::vector<HistoryEvent>& events) {
  std::string out;
  for (const HistoryEvent& e : events) {
    out += std::to_string(e.revision) + (e.type == HistoryEventType::kPut ? " put " : " del ") +
           e.key + (e.type == HistoryEventType::kPut ? "=" + e.value : "") + ";";
  }
  return out;
}

TEST_P(HistoryTest, EveryWriteIsAnEventInRevisionOrder) {
  Apply({PutCommand("a", "1", "text/plain"), PutCommand("b", "2")});
  Apply(
      {DeleteCommand("a"), PutSecretCommand(std::string(32, 'x'), "sealed"), PutCommand("b", "3")});
  auto events = Events(0);
  EXPECT_EQ(Describe(events), "1 put a=1;2 put b=2;3 del a;5 put b=3;");
  EXPECT_EQ(events[0].content_type, "text/plain");
  EXPECT_EQ(Describe(Events(3)), "5 put b=3;");
  // The secret (index 4) left nothing: no event and no undo entry names it.
  for (const auto& [key, value] : engine::testing::ReadAll(*engine_)) {
    if (key[0] == kHistoryPrefix) {
      EXPECT_EQ(value.find("sealed"), std::string::npos) << key;
    }
  }
}

TEST_P(HistoryTest, ValueAsOfAnyKeptRevision) {
  Apply({PutCommand("k", "v1")});     // 1
  Apply({PutCommand("other", "x")});  // 2
  Apply({PutCommand("k", "v3")});     // 3
  Apply({DeleteCommand("k")});        // 4
  Apply({PutCommand("k", "v5")});     // 5
  EXPECT_EQ(At("k", 0), "<absent>");
  EXPECT_EQ(At("k", 1), "v1");
  EXPECT_EQ(At("k", 2), "v1");
  EXPECT_EQ(At("k", 3), "v3");
  EXPECT_EQ(At("k", 4), "<absent>");
  EXPECT_EQ(At("k", 5), "v5");
  EXPECT_EQ(At("nothing", 3), "<absent>");
  // A key that is a prefix of another is not confused with it.
  Apply({PutCommand("kk", "z")});  // 6
  EXPECT_EQ(At("k", 6), "v5");
  EXPECT_EQ(At("kk", 5), "<absent>");
}

TEST_P(HistoryTest, ClearIsADeleteOfEveryKeyAtItsOneRevision) {
  Apply({PutCommand("a", "1"), PutCommand("b", "2")});
  // In one batch: c written, a deleted, then /clear: it removes b and c only.
  Apply({PutCommand("c", "3"), DeleteCommand("a"), ClearCommand(), PutCommand("d", "4")});
  EXPECT_EQ(Describe(Events(2)), "3 put c=3;4 del a;5 del b;5 del c;6 put d=4;");
  EXPECT_EQ(At("b", 4), "2");
  EXPECT_EQ(At("c", 4), "3");
  EXPECT_EQ(At("b", 5), "<absent>");
}

TEST_P(HistoryTest, TxnKeyWrittenTwiceReadsAsBeforeTheTxn) {
  Apply({PutCommand("t", "old")});
  Txn txn;
  txn.success = {{TxnOpKind::kPut, "t", "mid", ""}, {TxnOpKind::kPut, "t", "new", ""}};
  Apply({TxnCommand(txn)});
  EXPECT_EQ(Describe(Events(1)), "2 put t=mid;2 put t=new;");
  EXPECT_EQ(At("t", 1), "old");
  EXPECT_EQ(At("t", 2), "new");
}

TEST_P(HistoryTest, CompactionKeepsTheLastRevisionsAndMovesTheFloor) {
  EXPECT_EQ(Floor(), 0u);
  for (int i = 0; i < 20; ++i) Apply({PutCommand("k", std::to_string(i + 1))}, /*keep=*/5);
  // The last 5 revisions are kept: 16 to 20.
  EXPECT_EQ(Floor(), 15u);
  EXPECT_EQ(Events(15).size(), 5u);
  EXPECT_EQ(Describe(Events(0)).substr(0, 8), "16 put k");
  EXPECT_EQ(At("k", 15), "15");
  EXPECT_EQ(At("k", 20), "20");
  Reopen();
  EXPECT_EQ(Floor(), 15u);
  EXPECT_EQ(At("k", 16), "16");
}

// With --history-revisions of 640, compaction waits until 10 revisions (640 / 64) are due, then
// removes them all in one commit; the history never holds fewer than 640 revisions.
TEST_P(HistoryTest, CompactionWaitsForItsSlackThenRemovesEveryRevisionDue) {
  constexpr uint64_t kKeep = 640;
  constexpr uint64_t kSlack = kKeep / kCompactSlackShare;
  for (uint64_t i = 0; i < kKeep + kSlack; ++i) Apply({PutCommand("k", "v")}, kKeep);
  EXPECT_EQ(Floor(), 0u);  // kSlack revisions due: not yet
  EXPECT_EQ(Events(0).size(), kKeep + kSlack);
  Apply({PutCommand("k", "v")}, kKeep);
  EXPECT_EQ(Floor(), kSlack + 1);  // one more: all kSlack + 1 go at once
  EXPECT_EQ(Events(Floor()).size(), kKeep);
  EXPECT_EQ(Events(0).size(), kKeep);
}

TEST_P(HistoryTest, CompactionOfAHugeBacklogGoesInBoundedSlices) {
  std::vector<Command> many;
  for (size_t i = 0; i < kCompactEventsPerCommitMax + 10; ++i) {
    many.push_back(PutCommand("key" + std::to_string(i), "v"));
  }
  Apply({ClearCommand()});  // 1
  Apply(many);
  const uint64_t last = next_;
  // Keep 1 revision: the first commit may only remove kCompactEventsPerCommitMax events.
  Apply({PutCommand("x", "y")}, /*keep=*/1);
  uint64_t floor = Floor();
  EXPECT_LT(floor, last);
  EXPECT_GT(floor, 1u);
  EXPECT_EQ(Events(floor).size(), last - floor + 1);  // kept: (floor, last] and the put of x
  Apply({PutCommand("x", "z")}, /*keep=*/1);
  EXPECT_EQ(Floor(), last + 1);
  EXPECT_EQ(Describe(Events(last + 1)), std::to_string(last + 2) + " put x=z;");
  // Nothing left behind at or below the floor.
  for (const auto& [key, value] : engine::testing::ReadAll(*engine_)) {
    if (key.size() > 1 && key[0] == kHistoryPrefix && key[1] == 'u') {
      EXPECT_TRUE(key.ends_with(HistoryUndoKey("", last + 1).substr(6)) ||
                  key.ends_with(HistoryUndoKey("", last + 2).substr(6)));
    }
  }
}

TEST_P(HistoryTest, AStoreWithoutHistoryStartsItsFloorAtItsAppliedIndex) {
  engine::WriteBatch b;
  b.Put(DataKey("old"), EncodeRecord(7, "", "v"));
  ASSERT_TRUE(engine_->Write(b, LogIndex(7), false).ok());
  next_ = 7;
  EXPECT_EQ(Floor(), 7u);
  Apply({PutCommand("old", "w")});
  EXPECT_EQ(Floor(), 7u);
  EXPECT_EQ(At("old", 7), "v");
  EXPECT_EQ(Describe(Events(7)), "8 put old=w;");
}

// The entries of a group's events, each under its own key (the entry itself when it is one event).
std::vector<std::pair<std::string, std::string>> SplitGroup(const std::string& key,
                                                            const std::string& value) {
  if (value[0] != 6) return {{key, value}};
  std::vector<std::pair<std::string, std::string>> out;
  Decoder d(std::string_view(value).substr(1));
  uint64_t count = d.Varint64().value();
  uint64_t revision = 0;
  for (uint64_t i = 0; i < count; ++i) {
    revision += d.Varint64().value();
    auto seq = static_cast<uint32_t>(d.Varint64().value());
    out.emplace_back(HistoryEventKey(revision, seq), std::string(d.LengthPrefixed().value()));
  }
  EXPECT_TRUE(d.done());
  return out;
}

// The event entries (groups or single events) of `e`.
size_t EventEntries(const engine::Engine& e) {
  size_t n = 0;
  for (const auto& [key, value] : engine::testing::ReadAll(e)) {
    n += key.size() > 1 && key[0] == kHistoryPrefix && key[1] == 'e' ? 1 : 0;
  }
  return n;
}

// The bytes of every history event and undo entry in the engine, counted from scratch.
uint64_t HistoryEntryBytes(const engine::Engine& e) {
  uint64_t n = 0;
  for (const auto& [key, value] : engine::testing::ReadAll(e)) {
    if (key.size() > 1 && key[0] == kHistoryPrefix && (key[1] == 'e' || key[1] == 'u')) {
      n += key.size() + value.size();
    }
  }
  return n;
}

// A /clear of 5000 keys is one revision of 5000 events, in entries of kHistoryGroupEventsMax:
// compaction removes them a slice at a time, counting the revision as compacted once part of it
// is gone, and the size entry stays exact throughout.
TEST_P(HistoryTest, ARevisionSpanningEntriesIsCompactedInSlices) {
  std::vector<Command> many;
  many.reserve(5000);
  for (int i = 0; i < 5000; ++i) many.push_back(PutCommand("key" + std::to_string(i), "v"));
  Apply(many, /*keep=*/1'000'000);              // 1..5000
  Apply({ClearCommand()}, /*keep=*/1'000'000);  // 5001
  EXPECT_EQ(Events(5000).size(), 5000u);
  std::vector<uint64_t> floors;
  for (int i = 0; i < 4; ++i) {
    Apply({PutCommand("x", std::to_string(i))}, /*keep=*/1);
    floors.push_back(Floor());
    ASSERT_EQ(*ReadHistoryBytes(*engine_->NewView()), HistoryEntryBytes(*engine_)) << i;
  }
  // 4096 of the puts' events, then the other 904 and part of the /clear, then the rest of it.
  EXPECT_EQ(floors[0], 4096u);
  EXPECT_EQ(floors[1], 5001u);
  EXPECT_EQ(floors[2], 5003u);
  EXPECT_EQ(floors[3], 5004u);
  EXPECT_EQ(Describe(Events(floors[3])), "5005 put x=3;");
  EXPECT_EQ(EventEntries(*engine_), 1u);
}

TEST_P(HistoryTest, TheSizeEntryCountsExactlyWhatTheHistoryHolds) {
  Apply({PutCommand("a", "1"), PutCommand("b", std::string(100, 'b'))});
  Apply({ClearCommand()});
  Txn t;
  t.success = {{TxnOpKind::kPut, "a", "x", ""}, {TxnOpKind::kPut, "a", "yy", ""}};
  Apply({TxnCommand(t)});
  for (int i = 0; i < 10; ++i) Apply({PutCommand("k", std::to_string(i))}, /*keep=*/4);
  auto bytes = ReadHistoryBytes(*engine_->NewView());
  ASSERT_TRUE(bytes.ok());
  EXPECT_GT(*bytes, 0u);
  EXPECT_EQ(*bytes, HistoryEntryBytes(*engine_));
}

TEST_P(HistoryTest, OverItsByteBoundTheOldestRevisionsAreCompacted) {
  const std::string value(1000, 'v');
  // Each put costs its event (about 1 KB) and its undo entry (about 1 KB from the second on).
  const uint64_t cap = 10'000;
  for (int i = 0; i < 30; ++i) Apply({PutCommand("k", value + std::to_string(i))}, 1000, cap);
  auto bytes = ReadHistoryBytes(*engine_->NewView());
  ASSERT_TRUE(bytes.ok());
  EXPECT_LE(*bytes, cap);
  EXPECT_GT(*bytes, cap / 2);
  EXPECT_EQ(*bytes, HistoryEntryBytes(*engine_));
  // The floor moved just past what was removed: the newest revisions are all there.
  const uint64_t floor = Floor();
  EXPECT_GT(floor, 20u);
  EXPECT_LT(floor, 30u);
  EXPECT_EQ(Events(floor).size(), 30 - floor);
  EXPECT_EQ(At("k", floor + 1), value + std::to_string(floor));
  Reopen();
  EXPECT_EQ(Floor(), floor);
  EXPECT_EQ(*ReadHistoryBytes(*engine_->NewView()), HistoryEntryBytes(*engine_));
  // Under the bound, only --history-revisions compacts: the floor stays.
  Apply({PutCommand("small", "s")}, 1000, 1 << 20);
  EXPECT_EQ(Floor(), floor);
}

// The events an applier keeps in memory for the watch hub are exactly those its commit wrote to
// the history, a batch over the budget keeps none (and copies no value), and the next batch of
// the same applier keeps its own again.
TEST_P(HistoryTest, EventsKeptInMemoryAreThoseWrittenAndABatchOverTheBudgetKeepsNone) {
  auto line = [](const std::vector<HistoryEvent>& events) {
    std::string out;
    for (const HistoryEvent& e : events) {
      out += std::to_string(e.revision) + (e.type == HistoryEventType::kPut ? " put " : " del ") +
             e.key + "=" + e.value + "(" + e.content_type + ");";
    }
    return out;
  };
  BatchApplier a(engine_.get(), 1000);
  a.CaptureEvents(1000);
  Txn t;
  t.success = {{TxnOpKind::kPut, "t", "1", ""}, {TxnOpKind::kPut, "u", "2", ""}};
  for (const Command& c :
       {PutCommand("a", "x", "text/plain"), TxnCommand(t), DeleteCommand("a"), ClearCommand()}) {
    EXPECT_TRUE(a.Apply(c, LogIndex(++next_)).status.ok());
  }
  ASSERT_TRUE(a.Commit(engine_.get(), false).ok());
  size_t bytes = 0;
  std::optional<std::vector<HistoryEvent>> kept = a.TakeEvents(&bytes);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(line(*kept), line(Events(0)));
  EXPECT_EQ(line(*kept),
            "1 put a=x(text/plain);2 put t=1();2 put u=2();3 del a=();4 del t=();"
            "4 del u=();");
  size_t sum = 0;
  for (const HistoryEvent& e : *kept) sum += e.ByteSize();
  EXPECT_EQ(bytes, sum);

  EXPECT_TRUE(a.Apply(PutCommand("big", std::string(2000, 'v')), LogIndex(++next_)).status.ok());
  ASSERT_TRUE(a.Commit(engine_.get(), false).ok());
  EXPECT_FALSE(a.TakeEvents(&bytes).has_value());
  EXPECT_TRUE(a.Apply(PutCommand("small", "s"), LogIndex(++next_)).status.ok());
  ASSERT_TRUE(a.Commit(engine_.get(), false).ok());
  kept = a.TakeEvents(&bytes);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(line(*kept), "6 put small=s();");
  // Without CaptureEvents nothing is kept.
  BatchApplier plain(engine_.get(), 1000);
  EXPECT_TRUE(plain.Apply(PutCommand("p", "q"), LogIndex(++next_)).status.ok());
  ASSERT_TRUE(plain.Commit(engine_.get(), false).ok());
  EXPECT_FALSE(plain.TakeEvents(&bytes).has_value());
}

// A big put's event refers to the key's record instead of holding its value a second time. Read
// back, every event has its value: from the current record, from the undo entry of the key's next
// change, and, for a key put twice in one revision, from the event of the first put, which alone
// carries its record. A small put's event carries its record.
TEST_P(HistoryTest, APutEventRefersToItsRecordAndStillReadsBackItsValue) {
  const std::string big(kHistoryReferenceRecordBytesMin, 'x');
  Apply({PutCommand("k", big + "1"), PutCommand("k", big + "2")});  // 1, 2
  Txn t;
  t.success = {{TxnOpKind::kPut, "k", big + "3", ""}, {TxnOpKind::kPut, "k", big + "4", ""}};
  Apply({TxnCommand(t), DeleteCommand("k")});  // 3, 4
  if (GetParam() == "rocksdb") Reopen();
  Apply({PutCommand("k", big + "5"), PutCommand("small", big.substr(100))});  // 5, 6
  std::string seen;
  for (const HistoryEvent& e : Events(0)) {
    seen += std::to_string(e.revision);
    if (e.type == HistoryEventType::kPut && e.key == "k") {
      EXPECT_EQ(e.value.substr(0, big.size()), big);
      seen += "=" + e.value.substr(big.size());
    } else if (e.type == HistoryEventType::kPut) {
      seen += " " + e.key + "=" + std::to_string(e.value.size());
    }
    seen += ";";
  }
  EXPECT_EQ(seen, "1=1;2=2;3=3;3=4;4;5=5;6 small=" + std::to_string(big.size() - 100) + ";");
  // The values in history: the undo entries at 2, 3 and 4, the first put at 3 (in the entry of its
  // batch, keyed by that batch's last event, 4), and the small put at 6 (in the entry of 5 and 6).
  // The entry of 1 and 2 holds none, nor do the second put at 3 and the put at 5.
  std::vector<std::string> holding;
  for (const auto& [key, value] : engine::testing::ReadAll(*engine_)) {
    if (key[0] == kHistoryPrefix && value.size() >= big.size() - 100) {
      // The revision's low byte: the last of its 8 bytes, before the seq in an event key.
      const char low = key[1] == 'e' ? key[9] : key.back();
      holding.push_back(key.substr(0, 2) + std::to_string(static_cast<uint8_t>(low)));
    }
  }
  EXPECT_EQ(holding, (std::vector<std::string>{"he4", "he6", "hu2", "hu3", "hu4"}));
  auto bytes = ReadHistoryBytes(*engine_->NewView());
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, HistoryEntryBytes(*engine_));
  EXPECT_EQ(At("k", 3), big + "4");
}

// The events of one batch share entries (kind 6): one key, and one delete when compacted, for many
// events. Readers see every event as before, from any revision, also inside an entry; an entry
// holds at most kHistoryGroupEventsMax events, also of one revision; compaction removes whole
// entries and never moves the floor past an event it kept.
TEST_P(HistoryTest, EventsOfABatchShareEntriesAndReadBackFromAnyRevision) {
  Apply({PutCommand("a", "1"), PutCommand("b", "2"), DeleteCommand("a"), PutCommand("c", "4"),
         PutCommand("b", "5")});  // 1..5
  EXPECT_EQ(EventEntries(*engine_), 1u);
  EXPECT_EQ(Describe(Events(0)), "1 put a=1;2 put b=2;3 del a;4 put c=4;5 put b=5;");
  EXPECT_EQ(Describe(Events(2)), "3 del a;4 put c=4;5 put b=5;");
  EXPECT_EQ(Describe(Events(4)), "5 put b=5;");
  {
    std::vector<HistoryEvent> part;
    auto view = engine_->NewView();
    auto read = ReadHistoryEvents(*view, 1, 3, 1 << 30, 1 << 30, &part);
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(*read, 3u);
    EXPECT_EQ(Describe(part), "2 put b=2;3 del a;");
    part.clear();
    read = ReadHistoryEvents(*view, 0, 5, 1 << 30, /*count_max=*/2, &part);
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(*read, 2u);
    EXPECT_EQ(Describe(part), "1 put a=1;2 put b=2;");
  }
  EXPECT_EQ(At("b", 4), "2");
  EXPECT_EQ(At("a", 2), "1");
  EXPECT_EQ(At("a", 3), "<absent>");

  // 300 puts in one batch: two entries; 300 puts in one revision (a transaction): two as well.
  std::vector<Command> many;
  many.reserve(300);
  for (int i = 0; i < 300; ++i) many.push_back(PutCommand("k" + std::to_string(i), "v"));
  Apply(many);  // 6..305
  EXPECT_EQ(EventEntries(*engine_), 3u);
  Txn t;
  for (int i = 0; i < 300; ++i)
    t.success.push_back({TxnOpKind::kPut, "t" + std::to_string(i), "w", ""});
  Apply({TxnCommand(t)});  // 306
  EXPECT_EQ(EventEntries(*engine_), 5u);
  EXPECT_EQ(Events(0).size(), 5u + 300u + 300u);
  EXPECT_EQ(Events(305).size(), 300u);
  if (GetParam() == "rocksdb") Reopen();
  ASSERT_EQ(*ReadHistoryBytes(*engine_->NewView()), HistoryEntryBytes(*engine_));

  // Keeping 100 revisions puts the target (307 - 100 = 207) inside the entry of 6..261: that entry
  // stays whole, and the floor stops just below it.
  Apply({PutCommand("z", "z")}, /*keep=*/100);  // 307
  EXPECT_EQ(Floor(), 5u);
  EXPECT_EQ(EventEntries(*engine_), 5u);
  EXPECT_EQ(Events(5).size(), 300u + 300u + 1u);
  EXPECT_EQ(At("k0", 5), "<absent>");
  EXPECT_EQ(At("k0", 6), "v");
  ASSERT_EQ(*ReadHistoryBytes(*engine_->NewView()), HistoryEntryBytes(*engine_));
  // Once the target passes its end, it goes whole; the next entry (262..305) holds the target and
  // stays, and the floor stops just below it.
  Apply({PutCommand("z", "y")}, /*keep=*/40);  // 308: target 268
  EXPECT_EQ(Floor(), 261u);
  EXPECT_EQ(EventEntries(*engine_), 5u);  // 262..305, 306 (two), 307, 308
  EXPECT_EQ(Describe(Events(305)).substr(0, 10), "306 put t0");
  EXPECT_EQ(Events(261).size(), 44u + 300u + 2u);
  EXPECT_EQ(At("k256", 261), "<absent>");
  EXPECT_EQ(At("k256", 262), "v");
  ASSERT_EQ(*ReadHistoryBytes(*engine_->NewView()), HistoryEntryBytes(*engine_));
}

INSTANTIATE_TEST_SUITE_P(Engines, HistoryTest, ::testing::Values("memory", "rocksdb"));

// The applier keeps the record it last read from the engine for the write that follows and
// hands it to the history without a copy: no later command of the batch may see it again.
TEST_P(HistoryTest, EachCommandOfABatchSeesTheWritesBeforeIt) {
  Apply({PutCommand("k", "a"), PutCommand("j", "x")});  // 1, 2
  BatchApplier a(engine_.get());
  auto apply = [&](const Command& c) { return a.Apply(c, LogIndex(++next_)); };
  EXPECT_TRUE(apply(PutCommand("k", "b")).status.ok());                                        // 3
  EXPECT_TRUE(apply(PutCommand("j", "y", "", Precondition::kRevisionEquals, 2)).status.ok());  // 4
  EXPECT_TRUE(apply(PutCommand("k", "c", "", Precondition::kRevisionEquals, 3)).status.ok());  // 5
  EXPECT_EQ(apply(PutCommand("k", "d", "", Precondition::kRevisionEquals, 1)).status.code(),
            StatusCode::kFailedPrecondition);                                          // 6
  EXPECT_TRUE(apply(DeleteCommand("k")).status.ok());                                  // 7
  ApplyResult created = apply(PutCommand("k", "e", "", Precondition::kMustNotExist));  // 8
  EXPECT_TRUE(created.status.ok());
  EXPECT_TRUE(created.created);
  ASSERT_TRUE(a.Commit(engine_.get(), false).ok());
  EXPECT_EQ(Describe(Events(2)), "3 put k=b;4 put j=y;5 put k=c;7 del k;8 put k=e;");
  EXPECT_EQ(At("k", 2), "a");
  EXPECT_EQ(At("k", 3), "b");
  EXPECT_EQ(At("k", 4), "b");
  EXPECT_EQ(At("k", 6), "c");
  EXPECT_EQ(At("k", 7), "<absent>");
  EXPECT_EQ(At("k", 8), "e");
  EXPECT_EQ(At("j", 3), "x");
  EXPECT_EQ(At("j", 4), "y");
}

// A revision that changes several keys (some twice) has one undo entry per key, with what the key
// held before the revision, and compaction counts each once.
TEST_P(HistoryTest, ATxnOfSeveralKeysHasOneUndoEntryPerKey) {
  Apply({PutCommand("a", "a0"), PutCommand("b", "b0")});  // 1, 2
  Txn t;
  t.success = {{TxnOpKind::kPut, "a", "a1", ""},
               {TxnOpKind::kPut, "b", "b1", ""},
               {TxnOpKind::kPut, "a", "a2", ""},
               {TxnOpKind::kPut, "c", "c1", ""},
               {TxnOpKind::kPut, "b", "b2", ""}};
  Apply({TxnCommand(t), PutCommand("a", "a4")});  // 3, 4
  EXPECT_EQ(At("a", 2), "a0");
  EXPECT_EQ(At("b", 2), "b0");
  EXPECT_EQ(At("c", 2), "<absent>");
  EXPECT_EQ(At("a", 3), "a2");
  EXPECT_EQ(At("b", 3), "b2");
  EXPECT_EQ(At("a", 4), "a4");
  size_t undos = 0;
  for (const auto& [key, value] : engine::testing::ReadAll(*engine_)) {
    if (key.size() > 1 && key[0] == kHistoryPrefix && key[1] == 'u') ++undos;
  }
  EXPECT_EQ(undos, 2u + 3u + 1u);
  for (int i = 0; i < 4; ++i) Apply({PutCommand("z", std::to_string(i))}, /*keep=*/2);
  auto bytes = ReadHistoryBytes(*engine_->NewView());
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, HistoryEntryBytes(*engine_));
}

// A store written by an earlier version holds events of kinds 1 and 2, which do not carry their
// undo entry's size: compaction reads the undo entries to count them, and the count stays exact,
// keys changed twice in one revision included.
TEST_P(HistoryTest, EventsOfAnEarlierVersionAreCompactedWithAnExactCount) {
  Apply({PutCommand("a", "a0"), PutCommand("b", "b0")});  // 1, 2
  Txn t;
  t.success = {{TxnOpKind::kPut, "a", "a1", ""},
               {TxnOpKind::kPut, "a", "a2", ""},
               {TxnOpKind::kPut, "c", "c1", ""}};
  Apply({TxnCommand(t)});                              // 3
  Apply({PutCommand("a", "a4"), DeleteCommand("b")});  // 4, 5
  // Every event rewritten as an earlier version wrote it: one entry each (no groups), of kind 1 or
  // 2, no size after it.
  engine::WriteBatch batch;
  uint64_t dropped = 0;
  uint64_t added = 0;
  size_t rewritten = 0;
  for (const auto& [key, value] : engine::testing::ReadAll(*engine_)) {
    if (key.size() < 2 || key[0] != kHistoryPrefix || key[1] != 'e') continue;
    batch.Delete(key);
    dropped += key.size() + value.size();
    for (const auto& [event_key, event] : SplitGroup(key, value)) {
      ASSERT_TRUE(event[0] == 3 || event[0] == 4) << "an event of kind " << int{event[0]};
      Decoder d(std::string_view(event).substr(1));
      ASSERT_TRUE(d.Varint64().ok());
      const std::string legacy =
          std::string(1, static_cast<char>(event[0] - 2)) +
          std::string(std::string_view(event).substr(event.size() - d.remaining()));
      added += event_key.size() + legacy.size();
      batch.Put(event_key, legacy);
      ++rewritten;
    }
  }
  ASSERT_EQ(rewritten, 7u);
  auto before = ReadHistoryBytes(*engine_->NewView());
  ASSERT_TRUE(before.ok());
  std::string size;
  for (int shift = 56; shift >= 0; shift -= 8) {
    size.push_back(static_cast<char>((*before - dropped + added) >> shift));
  }
  batch.Put(HistoryBytesKey(), size);
  ASSERT_TRUE(engine_->Write(batch, LogIndex(next_), false).ok());
  ASSERT_EQ(*ReadHistoryBytes(*engine_->NewView()), HistoryEntryBytes(*engine_));
  EXPECT_EQ(Describe(Events(0)),
            "1 put a=a0;2 put b=b0;3 put a=a1;3 put a=a2;3 put c=c1;4 put a=a4;5 del b;");
  EXPECT_EQ(At("a", 2), "a0");
  // New writes (events of kinds 3 and 4) compact the old ones away, and then themselves.
  for (int i = 0; i < 6; ++i) {
    Apply({PutCommand("z", std::to_string(i))}, /*keep=*/3);
    ASSERT_EQ(*ReadHistoryBytes(*engine_->NewView()), HistoryEntryBytes(*engine_)) << i;
  }
  EXPECT_EQ(Floor(), next_ - 3);
  EXPECT_EQ(At("z", next_ - 1), "4");
}

TEST(HistoryCodec, DamagedEventsAreCorruption) {
  const std::string key = HistoryEventKey(3, 0);
  auto engine = engine::NewMemoryEngine();
  auto view = engine->NewView();
  EXPECT_EQ(DecodeHistoryEvent(*view, key.substr(1), "").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeHistoryEvent(*view, key, "").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeHistoryEvent(*view, key, std::string("\x09\x01k", 3)).status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(DecodeHistoryEvent(*view, key, std::string("\x02\x01kx", 4)).status().code(),
            StatusCode::kCorruption);
  // A reference with trailing bytes, and one to a record that is not there.
  EXPECT_EQ(DecodeHistoryEvent(*view, key, EncodeHistoryPutReference("k", 0) + "x").status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(DecodeHistoryEvent(*view, key, EncodeHistoryPutReference("k", 0)).status().code(),
            StatusCode::kCorruption);
  // A reference to a record of another revision.
  engine::WriteBatch batch;
  batch.Put(DataKey("k"), EncodeRecord(5, "ct", "v5"));
  ASSERT_TRUE(engine->Write(batch, LogIndex(5), false).ok());
  view = engine->NewView();
  EXPECT_EQ(DecodeHistoryEvent(*view, key, EncodeHistoryPutReference("k", 0)).status().code(),
            StatusCode::kCorruption);
  auto five = DecodeHistoryEvent(*view, HistoryEventKey(5, 0), EncodeHistoryPutReference("k", 0));
  ASSERT_TRUE(five.ok()) << five.status().ToString();
  EXPECT_EQ(five->value, "v5");
  auto ok = DecodeHistoryEvent(
      *view, key, EncodeHistoryEvent(HistoryEventType::kPut, "k", EncodeRecord(3, "ct", "v")));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->revision, 3u);
  EXPECT_EQ(ok->content_type, "ct");
}

// A damaged group of events is corruption for every reader of the history: a group of fewer than
// two events, events out of order, trailing bytes, a last event other than its key, a group in a
// group.
TEST(HistoryCodec, DamagedGroupsAreCorruption) {
  const std::string event = EncodeHistoryEvent(HistoryEventType::kDelete, "k", "", 0);
  auto group = [&event](const std::vector<std::pair<uint64_t, uint64_t>>& events,
                        const std::string& tail = "") {
    std::string out(1, '\x06');
    PutVarint64(&out, events.size());
    uint64_t revision = 0;
    for (const auto& [rev, seq] : events) {
      PutVarint64(&out, rev - revision);
      PutVarint64(&out, seq);
      PutLengthPrefixed(&out, event);
      revision = rev;
    }
    return out + tail;
  };
  std::string nested(1, '\x06');
  PutVarint64(&nested, 2);
  PutVarint64(&nested, 3);
  PutVarint64(&nested, 0);
  PutLengthPrefixed(&nested, event);
  PutVarint64(&nested, 1);
  PutVarint64(&nested, 0);
  PutLengthPrefixed(&nested, group({{3, 0}, {4, 0}}));
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"one event", group({{4, 0}})},
      {"out of order", group({{4, 1}, {4, 0}, {4, 2}})},
      {"a seq repeated", group({{3, 0}, {4, 0}, {4, 0}})},
      {"trailing bytes", group({{3, 0}, {4, 0}}, "x")},
      {"last event is not the key", group({{3, 0}, {4, 1}})},
      {"a group in a group", nested},
      {"truncated", group({{3, 0}, {4, 0}}).substr(0, 6)},
  };
  for (const auto& [what, value] : damaged) {
    auto engine = engine::NewMemoryEngine();
    engine::WriteBatch batch;
    batch.Put(HistoryEventKey(4, 0), value);
    ASSERT_TRUE(engine->Write(batch, LogIndex(4), false).ok());
    auto view = engine->NewView();
    std::vector<HistoryEvent> out;
    EXPECT_EQ(ReadHistoryEvents(*view, 0, 4, 1 << 30, 1 << 30, &out).status().code(),
              StatusCode::kCorruption)
        << what;
    EXPECT_EQ(DecodeHistoryEvent(*view, HistoryEventKey(4, 0), value).status().code(),
              StatusCode::kCorruption)
        << what;
  }
  // The same builder makes a group that reads back.
  auto engine = engine::NewMemoryEngine();
  engine::WriteBatch batch;
  batch.Put(HistoryEventKey(4, 1), group({{3, 0}, {4, 0}, {4, 1}}));
  ASSERT_TRUE(engine->Write(batch, LogIndex(4), false).ok());
  std::vector<HistoryEvent> out;
  ASSERT_TRUE(ReadHistoryEvents(*engine->NewView(), 0, 4, 1 << 30, 1 << 30, &out).ok());
  EXPECT_EQ(Describe(out), "3 del k;4 del k;4 del k;");
}

}  // namespace
}  // namespace nds::store
