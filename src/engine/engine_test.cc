// Goal: both engines (RocksDB and memory) keep the Engine contract of engine/engine.h.
// Method: one typed test suite, instantiated for each engine through a small factory; each test
// writes through the public interface only and reads back through Get, views and iterators. A
// model-based test drives random writes and view lifetimes against a std::map reference; a
// threaded test checks that a batch is never seen half-applied.
#include "engine/engine.h"

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/engine_factory.h"
#include "engine/engine_test_util.h"
#include "engine/memory_engine.h"
#include "engine/rocksdb_engine.h"

namespace nds::engine {
namespace {

using testing::GetOrAbsent;
using testing::Put;
using testing::ReadAll;
using testing::ScratchDir;
using Pairs = std::map<std::string, std::string>;

struct RocksDbKind {
  static constexpr std::string_view kName = "rocksdb";
  static Result<std::unique_ptr<Engine>> Open(const std::string& dir) {
    RocksDbOptions options;
    // Small memtables make flushes (and so SST files) part of even the small tests.
    options.write_buffer_bytes = 256 << 10;
    return OpenRocksDbEngine(dir, options);
  }
};

// The mode used under Raft: RocksDB's own WAL off.
struct RocksDbWalOffKind {
  static constexpr std::string_view kName = "rocksdb_wal_off";
  static Result<std::unique_ptr<Engine>> Open(const std::string& dir) {
    RocksDbOptions options;
    options.write_buffer_bytes = 256 << 10;
    options.disable_wal = true;
    return OpenRocksDbEngine(dir, options);
  }
};

struct MemoryKind {
  static constexpr std::string_view kName = "memory";
  static Result<std::unique_ptr<Engine>> Open(const std::string& dir) {
    return OpenEngine("memory", dir);
  }
};

template <typename Kind>
class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { engine_ = OpenOrDie(dir_.Sub("engine")); }

  std::unique_ptr<Engine> OpenOrDie(const std::string& dir) {
    Result<std::unique_ptr<Engine>> opened = Kind::Open(dir);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  void Write(const WriteBatch& batch, uint64_t index) {
    Status s = engine_->Write(batch, LogIndex(index), /*sync=*/false);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  ScratchDir dir_;
  std::unique_ptr<Engine> engine_;
};

using Kinds = ::testing::Types<RocksDbKind, RocksDbWalOffKind, MemoryKind>;
class KindNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::string(T::kName);
  }
};
TYPED_TEST_SUITE(EngineTest, Kinds, KindNames);

TYPED_TEST(EngineTest, NameMatchesKind) {
  EXPECT_TRUE(TypeParam::kName.starts_with(this->engine_->Name())) << this->engine_->Name();
}

TYPED_TEST(EngineTest, PutGetOverwriteDelete) {
  Engine& e = *this->engine_;
  EXPECT_EQ(GetOrAbsent(e, "k"), "<absent>");
  Put(e, "k", "v1", 1);
  EXPECT_EQ(GetOrAbsent(e, "k"), "v1");
  Put(e, "k", "v2", 2);
  EXPECT_EQ(GetOrAbsent(e, "k"), "v2");
  WriteBatch del;
  del.Delete("k");
  del.Delete("never-existed");
  this->Write(del, 3);
  EXPECT_EQ(GetOrAbsent(e, "k"), "<absent>");
  EXPECT_TRUE(ReadAll(e).empty());
}

TYPED_TEST(EngineTest, AppliedIndexStartsAtZeroAndIsRecordedWithEachBatch) {
  Engine& e = *this->engine_;
  EXPECT_EQ(e.AppliedIndex(), LogIndex(0));
  EXPECT_EQ(e.NewView()->applied_index(), LogIndex(0));
  Put(e, "a", "1", 7);
  EXPECT_EQ(e.AppliedIndex(), LogIndex(7));
  // An empty batch still advances the applied index (a Raft entry with no effect on the data).
  this->Write(WriteBatch(), 9);
  EXPECT_EQ(e.AppliedIndex(), LogIndex(9));
  EXPECT_EQ(e.NewView()->applied_index(), LogIndex(9));
}

TYPED_TEST(EngineTest, LaterOpsInABatchOverrideEarlierOnes) {
  WriteBatch batch;
  batch.Put("a", "1");
  batch.Put("a", "2");
  batch.Put("b", "1");
  batch.Delete("b");
  batch.Delete("c");
  batch.Put("c", "3");
  this->Write(batch, 1);
  EXPECT_EQ(ReadAll(*this->engine_), (Pairs{{"a", "2"}, {"c", "3"}}));
}

// An engine may hand a batch's ops to its store in another order (RocksDB's goes by key): the
// result is still that of the ops in the order given, keys out of order and repeated, and with a
// range delete between puts.
TYPED_TEST(EngineTest, ABatchActsInTheOrderGivenWhateverTheOrderOfItsKeys) {
  WriteBatch batch;
  batch.Put("z", "1");
  batch.Put("a", "1");
  batch.Delete("z");
  batch.Put("m", "1");
  batch.Put("a", "2");
  batch.Put("z", "3");
  batch.Delete("m");
  batch.Put("b", "1");
  this->Write(batch, 1);
  EXPECT_EQ(ReadAll(*this->engine_), (Pairs{{"a", "2"}, {"b", "1"}, {"z", "3"}}));
  WriteBatch ranged;
  ranged.Put("y", "4");
  ranged.Put("c", "4");
  ranged.DeleteRange("b", "d");
  ranged.Put("b", "5");
  ranged.Put("a", "5");
  this->Write(ranged, 2);
  EXPECT_EQ(ReadAll(*this->engine_), (Pairs{{"a", "5"}, {"b", "5"}, {"y", "4"}, {"z", "3"}}));
}

// WriteConsuming writes the same as Write; an engine may free the batch's strings as it goes
// (RocksDB's does: a batch of big values is not held twice), and what it wrote stays readable.
TYPED_TEST(EngineTest, AConsumedBatchWritesWhatItHeld) {
  const std::string big(1 << 20, 'v');
  WriteBatch batch;
  batch.Put("a", "1");
  batch.PutOwned("big", big);
  batch.Delete("gone");
  batch.DeleteRange("r0", "r9");
  batch.Put("z", "26");
  ASSERT_TRUE(this->engine_->WriteConsuming(&batch, LogIndex(1), /*sync=*/false).ok());
  EXPECT_EQ(ReadAll(*this->engine_), (Pairs{{"a", "1"}, {"big", big}, {"z", "26"}}));
  EXPECT_EQ(this->engine_->AppliedIndex(), LogIndex(1));
  ASSERT_EQ(batch.ops().size(), 5u);
  if (std::string_view(TypeParam::kName) != "memory") {
    for (const WriteBatch::Op& op : batch.ops()) {
      EXPECT_TRUE(op.key.empty() && op.value.empty()) << "an op was not freed";
    }
  }
}

TYPED_TEST(EngineTest, BatchIsNeverSeenHalfApplied) {
  Engine& e = *this->engine_;
  constexpr int kBatches = 300;
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    // Bounded: stops when the writer is done (or after a fixed number of looks).
    for (int looks = 0; looks < 1'000'000 && !done.load(); ++looks) {
      std::unique_ptr<View> view = e.NewView();
      Pairs all = ReadAll(*view);
      uint64_t index = view->applied_index().value;
      std::string want = index == 0 ? "" : std::to_string(index);
      for (const char* key : {"x", "y", "z"}) {
        auto it = all.find(key);
        std::string got = it == all.end() ? "" : it->second;
        if (got != want) torn.fetch_add(1);
      }
    }
  });
  for (int i = 1; i <= kBatches; ++i) {
    WriteBatch batch;
    for (const char* key : {"x", "y", "z"}) batch.Put(key, std::to_string(i));
    this->Write(batch, static_cast<uint64_t>(i));
  }
  done.store(true);
  reader.join();
  EXPECT_EQ(torn.load(), 0);
}

TYPED_TEST(EngineTest, DeleteRangeRemovesExactlyTheHalfOpenRange) {
  WriteBatch batch;
  for (char c = 'a'; c <= 'h'; ++c) batch.Put(std::string(1, c), "v");
  batch.Put("c\x01", "v");
  this->Write(batch, 1);
  WriteBatch range;
  range.DeleteRange("c", "f");
  // Empty and inverted ranges remove nothing.
  range.DeleteRange("g", "g");
  range.DeleteRange("h", "a");
  this->Write(range, 2);
  EXPECT_EQ(ReadAll(*this->engine_),
            (Pairs{{"a", "v"}, {"b", "v"}, {"f", "v"}, {"g", "v"}, {"h", "v"}}));
  // A DeleteRange then a Put in the same batch: the Put wins.
  WriteBatch again;
  again.DeleteRange("a", "z");
  again.Put("b", "back");
  this->Write(again, 3);
  EXPECT_EQ(ReadAll(*this->engine_), (Pairs{{"b", "back"}}));
}

TYPED_TEST(EngineTest, IterationIsInUnsignedByteOrder) {
  const std::vector<std::string> keys = {
      "b", "a", "ab", std::string("\0", 1), "\xff", "\x7f\xff", "\x80", "aa", "A"};
  WriteBatch batch;
  for (const std::string& k : keys) batch.Put(k, "v" + k);
  this->Write(batch, 1);
  std::vector<std::string> got;
  std::unique_ptr<Iterator> it = this->engine_->NewView()->NewIterator();
  for (it->Seek(""); it->Valid(); it->Next()) {
    got.emplace_back(it->key());
    EXPECT_EQ(it->value(), "v" + got.back());
  }
  EXPECT_TRUE(it->status().ok());
  const std::vector<std::string> want = {std::string("\0", 1), "A",    "a",   "aa", "ab", "b",
                                         "\x7f\xff",           "\x80", "\xff"};
  EXPECT_EQ(got, want);
}

TYPED_TEST(EngineTest, SeekPositionsAtFirstKeyAtOrAfterTarget) {
  WriteBatch batch;
  for (const char* k : {"b", "d", "f"}) batch.Put(k, k);
  this->Write(batch, 1);
  std::unique_ptr<Iterator> it = this->engine_->NewView()->NewIterator();
  EXPECT_FALSE(it->Valid());  // not positioned before the first Seek
  it->Seek("d");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "d");
  it->Seek("c");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "d");
  it->Next();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "f");
  it->Next();
  EXPECT_FALSE(it->Valid());
  it->Seek("a");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b");
  it->Seek("g");
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

TYPED_TEST(EngineTest, ViewIsUnaffectedByLaterWritesDeletesAndRanges) {
  Engine& e = *this->engine_;
  WriteBatch batch;
  for (int i = 0; i < 100; ++i) batch.Put(fmt::format("k{:03}", i), "old");
  this->Write(batch, 1);
  std::unique_ptr<View> view = e.NewView();
  const Pairs before = ReadAll(*view);
  ASSERT_EQ(before.size(), 100u);

  Put(e, "k000", "new", 2);
  Put(e, "new-key", "x", 3);
  WriteBatch del;
  del.Delete("k001");
  this->Write(del, 4);
  WriteBatch range;
  range.DeleteRange("k010", "k090");
  this->Write(range, 5);

  EXPECT_EQ(ReadAll(*view), before);
  EXPECT_EQ(GetOrAbsent(*view, "k000"), "old");
  EXPECT_EQ(GetOrAbsent(*view, "k001"), "old");
  EXPECT_EQ(GetOrAbsent(*view, "k050"), "old");
  EXPECT_EQ(GetOrAbsent(*view, "new-key"), "<absent>");
  EXPECT_EQ(view->applied_index(), LogIndex(1));
  // The latest state has every change.
  EXPECT_EQ(GetOrAbsent(e, "k000"), "new");
  EXPECT_EQ(GetOrAbsent(e, "k001"), "<absent>");
  EXPECT_EQ(GetOrAbsent(e, "k050"), "<absent>");
  EXPECT_EQ(ReadAll(e).size(), 100u - 1 - 80 + 1);
}

TYPED_TEST(EngineTest, ManyViewsAtOnceEachSeeTheirOwnPointInTime) {
  Engine& e = *this->engine_;
  std::vector<std::unique_ptr<View>> views;
  for (int i = 1; i <= 60; ++i) {
    WriteBatch batch;
    batch.Put("counter", std::to_string(i));
    batch.Put(fmt::format("key{:02}", i), "v");
    if (i % 3 == 0) batch.Delete(fmt::format("key{:02}", i - 1));
    this->Write(batch, static_cast<uint64_t>(i));
    views.push_back(e.NewView());
  }
  // Release every other view first, so that garbage collection runs between live views.
  for (size_t i = 0; i < views.size(); i += 2) views[i].reset();
  for (size_t i = 1; i < views.size(); i += 2) {
    const int n = static_cast<int>(i) + 1;
    EXPECT_EQ(views[i]->applied_index(), LogIndex(n));
    EXPECT_EQ(GetOrAbsent(*views[i], "counter"), std::to_string(n));
    Pairs all = ReadAll(*views[i]);
    EXPECT_EQ(all.size(), 1u + static_cast<size_t>(n - n / 3)) << "view " << n;
  }
}

TYPED_TEST(EngineTest, IteratorSkipsLongRunsOfKeysDeletedAfterAnOlderView) {
  Engine& e = *this->engine_;
  WriteBatch batch;
  for (int i = 0; i < 10'000; ++i) batch.Put(fmt::format("k{:05}", i), "v");
  this->Write(batch, 1);
  std::unique_ptr<View> old_view = e.NewView();
  WriteBatch range;
  range.DeleteRange("k00010", "k09990");
  this->Write(range, 2);
  std::unique_ptr<View> new_view = e.NewView();
  EXPECT_EQ(ReadAll(*new_view).size(), 20u);
  EXPECT_EQ(ReadAll(*old_view).size(), 10'000u);
}

TYPED_TEST(EngineTest, ViewAndIteratorOutliveTheEngine) {
  Put(*this->engine_, "a", "1", 1);
  std::unique_ptr<View> view = this->engine_->NewView();
  std::unique_ptr<Iterator> it = view->NewIterator();
  this->engine_.reset();
  EXPECT_EQ(GetOrAbsent(*view, "a"), "1");
  view.reset();
  it->Seek("");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "a");
}

TYPED_TEST(EngineTest, CheckpointReopensAsACopyAtThatPoint) {
  Engine& e = *this->engine_;
  WriteBatch batch;
  for (int i = 0; i < 500; ++i) batch.Put(fmt::format("k{:03}", i), std::string(100, 'x'));
  this->Write(batch, 10);
  WriteBatch del;
  del.Delete("k000");
  this->Write(del, 11);
  const Pairs at_checkpoint = ReadAll(e);
  const std::string dir = this->dir_.Sub("checkpoint");
  Status s = e.Checkpoint(dir);
  ASSERT_TRUE(s.ok()) << s.ToString();
  Put(e, "after", "checkpoint", 12);

  std::unique_ptr<Engine> copy = this->OpenOrDie(dir);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->Name(), this->engine_->Name());
  EXPECT_EQ(copy->AppliedIndex(), LogIndex(11));
  EXPECT_EQ(ReadAll(*copy), at_checkpoint);
  // The copy is independent: writes to it do not reach the original and the other way round.
  Put(*copy, "only-in-copy", "1", 12);
  EXPECT_EQ(GetOrAbsent(e, "only-in-copy"), "<absent>");
  EXPECT_EQ(GetOrAbsent(*copy, "after"), "<absent>");
}

TYPED_TEST(EngineTest, CheckpointIntoAnExistingDirectoryIsRefused) {
  const std::string dir = this->dir_.Sub("taken");
  ASSERT_TRUE(std::filesystem::create_directory(dir));
  Status s = this->engine_->Checkpoint(dir);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
}

TYPED_TEST(EngineTest, EmptyKeysEmptyValuesAndNulBytesRoundTrip) {
  const std::string nul_key("a\0b", 3);
  const std::string nul_value("\0\0x\0", 4);
  WriteBatch batch;
  batch.Put("", "empty-key");
  batch.Put("empty-value", "");
  batch.Put(nul_key, nul_value);
  batch.Put("a", "plain");
  this->Write(batch, 1);
  Engine& e = *this->engine_;
  EXPECT_EQ(GetOrAbsent(e, ""), "empty-key");
  EXPECT_EQ(GetOrAbsent(e, "empty-value"), "");
  EXPECT_EQ(GetOrAbsent(e, nul_key), nul_value);
  EXPECT_EQ(GetOrAbsent(e, std::string("a\0", 2)), "<absent>");
  EXPECT_EQ(ReadAll(e),
            (Pairs{{"", "empty-key"}, {"a", "plain"}, {nul_key, nul_value}, {"empty-value", ""}}));
  // The same survives a checkpoint.
  const std::string dir = this->dir_.Sub("checkpoint");
  ASSERT_TRUE(e.Checkpoint(dir).ok());
  std::unique_ptr<Engine> copy = this->OpenOrDie(dir);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(ReadAll(*copy), ReadAll(e));
}

TYPED_TEST(EngineTest, OneMebibyteValuesRoundTrip) {
  std::vector<std::string> values;
  WriteBatch batch;
  for (int i = 0; i < 4; ++i) {
    std::string value(1 << 20, '\0');
    for (size_t j = 0; j < value.size(); j += 4096) value[j] = static_cast<char>('a' + i + j);
    batch.Put(fmt::format("big{}", i), value);
    values.push_back(std::move(value));
  }
  this->Write(batch, 1);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(GetOrAbsent(*this->engine_, fmt::format("big{}", i)), values[i]) << i;
  }
  Pairs all = ReadAll(*this->engine_);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all["big3"], values[3]);
}

TYPED_TEST(EngineTest, StatsEstimateLiveKeysAndBytes) {
  EXPECT_EQ(this->engine_->Stats().keys_estimate, 0u);
  WriteBatch batch;
  for (int i = 0; i < 1000; ++i) batch.Put(fmt::format("key{:04}", i), std::string(100, 'v'));
  this->Write(batch, 1);
  EngineStats stats = this->engine_->Stats();
  EXPECT_GE(stats.keys_estimate, 900u);
  EXPECT_LE(stats.keys_estimate, 1100u);
  EXPECT_GE(stats.bytes_estimate, 1000u * 100);
  EXPECT_LE(stats.bytes_estimate, 1000u * 1000);
}

// A reference model: the state after each write, kept for as long as a view of it is open.
TYPED_TEST(EngineTest, RandomWritesAndViewsMatchAReferenceModel) {
  Engine& e = *this->engine_;
  std::mt19937_64 rng(20261123);
  auto random_key = [&rng] { return fmt::format("k{:02}", rng() % 40); };
  Pairs model;
  struct OpenView {
    std::unique_ptr<View> view;
    Pairs expected;
  };
  std::vector<OpenView> views;
  for (uint64_t step = 1; step <= 600; ++step) {
    WriteBatch batch;
    for (uint64_t n = rng() % 4; n > 0; --n) {
      switch (rng() % 6) {
        case 0: {
          std::string a = random_key(), b = random_key();
          if (a > b) std::swap(a, b);
          batch.DeleteRange(a, b);
          for (auto it = model.lower_bound(a); it != model.end() && it->first < b;) {
            it = model.erase(it);
          }
          break;
        }
        case 1: {
          std::string k = random_key();
          batch.Delete(k);
          model.erase(k);
          break;
        }
        default: {
          std::string k = random_key(), v = fmt::format("v{}", step);
          batch.Put(k, v);
          model[k] = v;
        }
      }
    }
    this->Write(batch, step);
    if (rng() % 4 == 0) views.push_back(OpenView{e.NewView(), model});
    if (!views.empty() && rng() % 5 == 0) views.erase(views.begin() + rng() % views.size());
    if (step % 50 == 0) {
      ASSERT_EQ(ReadAll(e), model) << "latest state at step " << step;
      for (const OpenView& v : views) ASSERT_EQ(ReadAll(*v.view), v.expected) << "step " << step;
    }
    if (!views.empty()) {
      const OpenView& v = views[rng() % views.size()];
      std::string k = random_key();
      auto it = v.expected.find(k);
      ASSERT_EQ(GetOrAbsent(*v.view, k), it == v.expected.end() ? "<absent>" : it->second);
    }
  }
  views.clear();
  EXPECT_EQ(ReadAll(e), model);
}

}  // namespace
}  // namespace nds::engine
