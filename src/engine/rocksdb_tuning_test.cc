// Goal: the write-path settings of engine/rocksdb_tuning.h change no outcome: with memtable insert
// hints on a prefix, keys of that prefix written in ascending, descending and random order, beside
// other keys, deleted one by one and by ranges of other prefixes, across memtable flushes and a
// reopen, read back (Get and iteration) exactly as a std::map model says; a range deletion that
// begins with a hinted prefix is refused before it reaches RocksDB.
// Method: a RocksDB engine with 64 KiB memtables (so flushes happen) driven by a seeded random
// sequence of batches, compared with the model after every batch.
#include "engine/rocksdb_tuning.h"

#include <map>
#include <memory>
#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/engine_test_util.h"
#include "engine/rocksdb_engine.h"

namespace nds::engine {
namespace {

using testing::GetOrAbsent;
using testing::ReadAll;
using testing::ScratchDir;
using Pairs = std::map<std::string, std::string>;

RocksDbOptions HintedOptions() {
  RocksDbOptions options;
  options.write_buffer_bytes = 64 << 10;
  options.insert_hint_prefixes = {"he", "hx"};
  return options;
}

std::unique_ptr<Engine> OpenOrDie(const std::string& dir, const RocksDbOptions& options) {
  Result<std::unique_ptr<Engine>> opened = OpenRocksDbEngine(dir, options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

TEST(RocksDbTuning, HasInsertHintPrefixMatchesTheFirstTwoBytesOnly) {
  const std::vector<std::string> prefixes = {"he"};
  EXPECT_TRUE(HasInsertHintPrefix(prefixes, "he"));
  EXPECT_TRUE(HasInsertHintPrefix(prefixes, "hello"));
  EXPECT_FALSE(HasInsertHintPrefix(prefixes, "h"));
  EXPECT_FALSE(HasInsertHintPrefix(prefixes, "hu"));
  EXPECT_FALSE(HasInsertHintPrefix(prefixes, "xhe"));
  EXPECT_FALSE(HasInsertHintPrefix({}, "he"));
  EXPECT_EQ(NewInsertHintPrefix({}), nullptr);
  EXPECT_NE(NewInsertHintPrefix(prefixes), nullptr);
}

TEST(RocksDbTuning, HintedInsertsReadBackAsTheModelInEveryOrder) {
  ScratchDir dir;
  Pairs model;
  std::mt19937_64 rng(7);
  uint64_t index = 0;
  uint64_t ascending = 0;
  uint64_t descending = 1'000'000;
  auto key_of = [](std::string_view prefix, uint64_t n) {
    return fmt::format("{}{:08}", prefix, n);
  };
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<Engine> e = OpenOrDie(dir.path(), HintedOptions());
    ASSERT_NE(e, nullptr);
    ASSERT_EQ(ReadAll(*e), model);
    for (int b = 0; b < 150; ++b) {
      WriteBatch batch;
      Pairs next = model;
      for (int i = 0; i < 40; ++i) {
        std::string key;
        switch (rng() % 5) {
          case 0:
            key = key_of("he", ascending++);
            break;
          case 1:
            key = key_of("he", descending--);
            break;
          case 2:
            key = key_of("hx", rng() % 500);
            break;
          case 3:
            key = key_of("d", rng() % 500);
            break;
          default:
            key = key_of("hu", rng() % 500);
            break;
        }
        if (rng() % 4 == 0) {
          batch.Delete(key);
          next.erase(key);
        } else {
          std::string value(1 + rng() % 200, static_cast<char>('a' + rng() % 26));
          batch.Put(key, value);
          next[key] = value;
        }
      }
      if (rng() % 10 == 0) {
        // A range of a prefix without hints, beside hinted keys in the same batch.
        const std::string begin = key_of("d", rng() % 500);
        const std::string end = key_of("d", rng() % 500);
        batch.DeleteRange(begin, end);
        if (begin < end) next.erase(next.lower_bound(begin), next.lower_bound(end));
      }
      ASSERT_TRUE(e->Write(batch, LogIndex(++index), /*sync=*/false).ok());
      model = std::move(next);
      for (int probe = 0; probe < 5; ++probe) {
        const std::string key = key_of("he", rng() % (ascending + 1));
        auto it = model.find(key);
        EXPECT_EQ(GetOrAbsent(*e, key), it == model.end() ? "<absent>" : it->second) << key;
      }
    }
    ASSERT_EQ(ReadAll(*e), model);
  }
}

TEST(RocksDbTuningDeathTest, RangeDeletionFromAHintedPrefixIsRefused) {
  ScratchDir dir;
  std::unique_ptr<Engine> e = OpenOrDie(dir.path(), HintedOptions());
  ASSERT_NE(e, nullptr);
  WriteBatch batch;
  batch.DeleteRange("he1", "he9");
  EXPECT_DEATH((void)e->Write(batch, LogIndex(1), false), "insert hint prefix");
}

rocksdb::BlobMetaData BlobFile(uint64_t number, uint64_t total, uint64_t garbage) {
  rocksdb::BlobMetaData f;
  f.blob_file_number = number;
  f.total_blob_bytes = total;
  f.garbage_blob_bytes = garbage;
  return f;
}

TEST(RocksDbTuning, BlobGarbageCollectionFollowsTheGarbageOfTheOldestQuarter) {
  EXPECT_FALSE(WantBlobGarbageCollection({}, false));
  // Fewer than four files: none is old enough for RocksDB's age cutoff.
  EXPECT_FALSE(WantBlobGarbageCollection(
      {BlobFile(1, 100, 100), BlobFile(2, 100, 100), BlobFile(3, 100, 100)}, false));
  // Eight files listed out of order: the oldest two by number (2 and 3) decide, however much
  // garbage the newer ones hold.
  std::vector<rocksdb::BlobMetaData> files;
  for (uint64_t n : {9, 3, 7, 5, 4, 8, 6, 2}) files.push_back(BlobFile(n, 100, n >= 4 ? 100 : 0));
  EXPECT_FALSE(WantBlobGarbageCollection(files, false));
  files[1].garbage_blob_bytes = 50;  // file 3: 50 of the oldest 200 bytes, a quarter
  EXPECT_TRUE(WantBlobGarbageCollection(files, false));
  files[1].garbage_blob_bytes = 30;  // 15 %: not enough to turn it on, enough to keep it on
  EXPECT_FALSE(WantBlobGarbageCollection(files, false));
  EXPECT_TRUE(WantBlobGarbageCollection(files, true));
  files[1].garbage_blob_bytes = 20;  // 10 %: off again
  EXPECT_FALSE(WantBlobGarbageCollection(files, true));
}

}  // namespace
}  // namespace nds::engine
