// Goal: what only the RocksDB engine promises: data and applied index survive a reopen (with
// RocksDB's WAL on and off), a synced write with the WAL off is on disk when Write returns, the
// reserved meta keys are out of users' reach, damage and a locked directory are reported as
// Status values, and a full disk gives kNoSpace and then recovers once space is freed.
// Method: real RocksDB directories under a scratch directory; the "crash image" of a running
// engine is a copy of its directory taken while it is open; the full disk is a small tmpfs
// mounted for the test (skipped, with the reason, when not root).
#include "engine/rocksdb_engine.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/mount.h>

#include "engine/engine_test_util.h"
#include "util/coding.h"

namespace nds::engine {
namespace {

using testing::GetOrAbsent;
using testing::Put;
using testing::ReadAll;
using testing::ScratchDir;
using Pairs = std::map<std::string, std::string>;

std::unique_ptr<Engine> OpenOrDie(const std::string& dir, const RocksDbOptions& options = {}) {
  Result<std::unique_ptr<Engine>> opened = OpenRocksDbEngine(dir, options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

TEST(RocksDbEngine, ReopenAfterCloseKeepsDataAndAppliedIndex) {
  for (bool disable_wal : {false, true}) {
    SCOPED_TRACE(disable_wal ? "WAL off" : "WAL on");
    ScratchDir dir;
    RocksDbOptions options;
    options.disable_wal = disable_wal;
    {
      std::unique_ptr<Engine> e = OpenOrDie(dir.path(), options);
      ASSERT_NE(e, nullptr);
      Put(*e, "a", "1", 5);
      WriteBatch batch;
      batch.Put("b", "2");
      batch.DeleteRange("a", "b");
      ASSERT_TRUE(e->Write(batch, LogIndex(6), /*sync=*/true).ok());
    }
    std::unique_ptr<Engine> e = OpenOrDie(dir.path(), options);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->AppliedIndex(), LogIndex(6));
    EXPECT_EQ(ReadAll(*e), (Pairs{{"b", "2"}}));
  }
}

TEST(RocksDbEngine, WalOffSyncedWriteIsOnDiskWhenWriteReturns) {
  ScratchDir dir;
  RocksDbOptions options;
  options.disable_wal = true;
  std::unique_ptr<Engine> e = OpenOrDie(dir.Sub("live"), options);
  ASSERT_NE(e, nullptr);
  WriteBatch synced;
  synced.Put("synced", "1");
  ASSERT_TRUE(e->Write(synced, LogIndex(1), /*sync=*/true).ok());
  WriteBatch unsynced;
  unsynced.Put("unsynced", "2");
  ASSERT_TRUE(e->Write(unsynced, LogIndex(2), /*sync=*/false).ok());
  // What a crash now would leave on disk: the files as they are, without the memtable.
  std::filesystem::copy(dir.Sub("live"), dir.Sub("image"),
                        std::filesystem::copy_options::recursive);
  std::unique_ptr<Engine> image = OpenOrDie(dir.Sub("image"), options);
  ASSERT_NE(image, nullptr);
  // The applied index on disk matches the data on disk: the Raft log replays entry 2.
  EXPECT_EQ(image->AppliedIndex(), LogIndex(1));
  EXPECT_EQ(ReadAll(*image), (Pairs{{"synced", "1"}}));
}

TEST(RocksDbEngine, MetaKeysAreOutOfUsersReach) {
  ScratchDir dir;
  std::unique_ptr<Engine> e = OpenOrDie(dir.path());
  ASSERT_NE(e, nullptr);
  Put(*e, "applied_index", "user value", 3);
  Put(*e, "format_version", "user value", 4);
  EXPECT_EQ(e->AppliedIndex(), LogIndex(4));
  EXPECT_EQ(ReadAll(*e),
            (Pairs{{"applied_index", "user value"}, {"format_version", "user value"}}));
  WriteBatch wipe;
  wipe.DeleteRange("", std::string(8, '\xff'));
  ASSERT_TRUE(e->Write(wipe, LogIndex(5), false).ok());
  EXPECT_TRUE(ReadAll(*e).empty());
  e.reset();
  e = OpenOrDie(dir.path());
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->AppliedIndex(), LogIndex(5));
}

TEST(RocksDbEngine, UnknownFormatVersionIsCorruption) {
  ScratchDir dir;
  ASSERT_NE(OpenOrDie(dir.path()), nullptr);
  {
    // Rewrite the meta column family's format version behind the engine's back.
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {"meta", rocksdb::ColumnFamilyOptions()}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.path(), families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string version;
    PutFixed32(&version, 99);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[1], "format_version", version).ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  Result<std::unique_ptr<Engine>> opened = OpenRocksDbEngine(dir.path(), {});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find(dir.path()), std::string::npos);
}

TEST(RocksDbEngine, DamagedFilesAreReportedNotCrashed) {
  ScratchDir dir;
  {
    std::unique_ptr<Engine> e = OpenOrDie(dir.path());
    ASSERT_NE(e, nullptr);
    Put(*e, "a", "1", 1);
  }
  std::ofstream(dir.Sub("CURRENT"), std::ios::trunc) << "MANIFEST-999999\n";
  Result<std::unique_ptr<Engine>> opened = OpenRocksDbEngine(dir.path(), {});
  ASSERT_FALSE(opened.ok());
  EXPECT_TRUE(opened.status().code() == StatusCode::kCorruption ||
              opened.status().code() == StatusCode::kIoError)
      << opened.status().ToString();
}

TEST(RocksDbEngine, SecondOpenOfTheSameDirectoryIsAnError) {
  ScratchDir dir;
  std::unique_ptr<Engine> first = OpenOrDie(dir.path());
  ASSERT_NE(first, nullptr);
  Result<std::unique_ptr<Engine>> second = OpenRocksDbEngine(dir.path(), {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError) << second.status().ToString();
}

TEST(RocksDbEngine, ZeroSizedOptionsAreRejected) {
  ScratchDir dir;
  RocksDbOptions options;
  options.block_cache_bytes = 0;
  Result<std::unique_ptr<Engine>> opened = OpenRocksDbEngine(dir.path(), options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
}

// Mounts a tmpfs of `bytes` on `dir` for the life of the object.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, size_t bytes) : dir_(dir) {
    std::string data = "size=" + std::to_string(bytes);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, data.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

// Writes zeros into `path` until the file system is full; returns the bytes written.
size_t FillDisk(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  if (f == nullptr) return 0;
  std::string chunk(64 << 10, '\0');
  size_t written = 0;
  for (int i = 0; i < 4096; ++i) {  // far more than the tmpfs holds
    size_t n = std::fwrite(chunk.data(), 1, chunk.size(), f);
    written += n;
    if (n < chunk.size() || std::fflush(f) != 0) break;
  }
  std::fclose(f);
  return written;
}

// Fills the disk under an engine, checks kNoSpace and that reads go on, frees the space and
// checks that writes work again (through a reopen with the WAL on, DB::Resume with it off).
void CheckDiskFullAndRecovery(bool disable_wal) {
  ScratchDir dir;
  TmpfsMount mount(dir.path(), 8 << 20);
  if (!mount.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << mount.error();
  RocksDbOptions options;
  options.write_buffer_bytes = 1 << 20;
  options.block_cache_bytes = 1 << 20;
  options.disable_wal = disable_wal;
  std::unique_ptr<Engine> e = OpenOrDie(dir.Sub("engine"), options);
  ASSERT_NE(e, nullptr);
  WriteBatch first;
  first.Put("before", "kept");
  ASSERT_TRUE(e->Write(first, LogIndex(1), /*sync=*/true).ok());
  ASSERT_GT(FillDisk(dir.Sub("filler")), 0u);

  // The WAL may have room left in its preallocated tail: write until the disk refuses.
  const std::string value(256 << 10, 'v');
  Status status;
  uint64_t index = 2;
  for (int i = 0; i < 64 && status.ok(); ++i, ++index) {
    WriteBatch batch;
    batch.Put(fmt::format("fill{:02}", i), value);
    status = e->Write(batch, LogIndex(index), /*sync=*/true);
  }
  ASSERT_EQ(status.code(), StatusCode::kNoSpace) << status.ToString();
  // With the WAL on nothing of the failed batch is applied; with it off the batch reached the
  // memtable and only its flush failed (visible, not durable: the caller stops).
  EXPECT_EQ(e->AppliedIndex(), LogIndex(disable_wal ? index - 1 : index - 2));
  // Reads go on; further writes keep failing with kNoSpace while the disk is full.
  EXPECT_EQ(GetOrAbsent(*e, "before"), "kept");
  WriteBatch small;
  small.Put("small", "1");
  EXPECT_EQ(e->Write(small, LogIndex(index), true).code(), StatusCode::kNoSpace);

  std::filesystem::remove(dir.Sub("filler"));
  if (!disable_wal) {
    // The reopen waits for open views, which hold the old database.
    std::unique_ptr<View> view = e->NewView();
    EXPECT_EQ(e->Write(small, LogIndex(index), true).code(), StatusCode::kUnavailable);
    EXPECT_EQ(GetOrAbsent(*view, "before"), "kept");
  }
  Status after = e->Write(small, LogIndex(index), /*sync=*/true);
  ASSERT_TRUE(after.ok()) << after.ToString();
  EXPECT_EQ(e->AppliedIndex(), LogIndex(index));
  EXPECT_EQ(GetOrAbsent(*e, "small"), "1");
  EXPECT_EQ(GetOrAbsent(*e, "before"), "kept");

  e.reset();
  e = OpenOrDie(dir.Sub("engine"), options);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->AppliedIndex(), LogIndex(index));
  EXPECT_EQ(GetOrAbsent(*e, "small"), "1");
}

TEST(RocksDbEngine, DiskFullIsNoSpaceAndWritesResumeOnceSpaceIsFreedWalOn) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  CheckDiskFullAndRecovery(/*disable_wal=*/false);
}

TEST(RocksDbEngine, DiskFullIsNoSpaceAndWritesResumeOnceSpaceIsFreedWalOff) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  CheckDiskFullAndRecovery(/*disable_wal=*/true);
}

TEST(RocksDbEngine, ACheckpointsAppliedIndexIsReadWithoutChangingIt) {
  ScratchDir dir;
  RocksDbOptions options;
  options.disable_wal = true;
  std::unique_ptr<Engine> e = OpenOrDie(dir.path() + "/db", options);
  ASSERT_NE(e, nullptr);
  Put(*e, "a", "1", 41);
  Put(*e, "b", "2", 42);
  const std::string ck = dir.path() + "/ck";
  ASSERT_TRUE(e->Checkpoint(ck).ok());
  Put(*e, "c", "3", 43);  // after the checkpoint: not in it
  auto list = [&] {
    std::map<std::string, uintmax_t> files;
    for (const auto& f : std::filesystem::directory_iterator(ck)) {
      files[f.path().filename().string()] = f.file_size();
    }
    return files;
  };
  const auto before = list();
  Result<LogIndex> index = ReadRocksDbCheckpointAppliedIndex(ck);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(*index, LogIndex(42));
  EXPECT_EQ(list(), before) << "reading the checkpoint changed its files";
  EXPECT_FALSE(ReadRocksDbCheckpointAppliedIndex(dir.path() + "/none").ok());
}

// Values of 64 KiB and more go to blob files (flushes copy them once, compactions move only
// references): they are read back from the live engine, from a checkpoint (which is what a
// snapshot ships) and after a reopen.
TEST(RocksDbEngine, BigValuesLiveInBlobFilesAndTravelWithCheckpoints) {
  ScratchDir dir;
  RocksDbOptions options;
  options.disable_wal = true;
  const std::string big(256 << 10, 'b');
  const std::string small(100, 's');
  {
    std::unique_ptr<Engine> e = OpenOrDie(dir.path() + "/db", options);
    ASSERT_NE(e, nullptr);
    WriteBatch batch;
    batch.Put("big", big);
    batch.Put("small", small);
    ASSERT_TRUE(e->Write(batch, LogIndex(7), /*sync=*/true).ok());  // flushed: WAL off
    ASSERT_TRUE(e->Checkpoint(dir.path() + "/ck").ok());
  }
  auto blob_files = [](const std::string& d) {
    int n = 0;
    for (const auto& f : std::filesystem::directory_iterator(d)) {
      n += f.path().extension() == ".blob" ? 1 : 0;
    }
    return n;
  };
  EXPECT_GE(blob_files(dir.path() + "/db"), 1) << "the big value is not in a blob file";
  EXPECT_GE(blob_files(dir.path() + "/ck"), 1) << "the checkpoint lacks the blob file";
  for (const std::string sub : {"/db", "/ck"}) {
    SCOPED_TRACE(sub);
    std::unique_ptr<Engine> e = OpenOrDie(dir.path() + sub, options);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->AppliedIndex(), LogIndex(7));
    EXPECT_EQ(ReadAll(*e), (Pairs{{"big", big}, {"small", small}}));
  }
}

// Blob garbage collection (engine/rocksdb_tuning.h) stays off while big values are only added,
// turns on once the oldest blob files are mostly garbage, and then gives their files back: the
// oldest file, which kept two live values beside six overwritten ones, is deleted, and every key
// reads back its latest value.
TEST(RocksDbEngine, BlobGarbageIsCollectedOnceTheOldestBlobFilesHoldEnough) {
  ScratchDir dir;
  RocksDbOptions options;
  options.disable_wal = true;  // every synced write is a flush: one blob file per batch
  options.blob_gc_check_interval = std::chrono::milliseconds(0);
  std::unique_ptr<Engine> e = OpenOrDie(dir.path(), options);
  ASSERT_NE(e, nullptr);
  auto blob_files = [&dir] {
    std::set<std::string> names;
    for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
      if (f.path().extension() == ".blob") names.insert(f.path().filename().string());
    }
    return names;
  };
  Pairs model;
  uint64_t index = 0;
  bool seen_on = false;  // garbage collection turned on after some write
  auto write = [&](const std::vector<std::pair<std::string, std::string>>& puts) {
    WriteBatch batch;
    for (const auto& [k, v] : puts) {
      batch.Put(k, v);
      model[k] = v;
    }
    ASSERT_TRUE(e->Write(batch, LogIndex(++index), /*sync=*/true).ok());
    seen_on = seen_on || e->Stats().blob_garbage_collection;
  };
  auto big = [](char c, int i) { return std::string(80 << 10, c) + std::to_string(i); };
  for (int file = 0; file < 4; ++file) {
    std::vector<std::pair<std::string, std::string>> puts;
    puts.reserve(8);
    for (int i = 0; i < 8; ++i) puts.emplace_back(fmt::format("k{}{}", file, i), big('a', i));
    write(puts);
  }
  const std::string oldest = *blob_files().begin();
  EngineStats stats = e->Stats();
  EXPECT_FALSE(seen_on) << "on while values were only added";
  EXPECT_EQ(stats.blob_garbage_bytes, 0u);
  EXPECT_GE(stats.blob_bytes, 32u * (80 << 10));
  // Six of the eight values of the two oldest files overwritten.
  std::vector<std::pair<std::string, std::string>> over;
  over.reserve(12);
  for (int file = 0; file < 2; ++file) {
    for (int i = 0; i < 6; ++i) over.emplace_back(fmt::format("k{}{}", file, i), big('b', i));
  }
  write(over);
  // More big values, one file each: RocksDB forces the collection of the oldest files only while
  // they are within its age cutoff (a quarter of the files).
  for (int i = 0; i < 8; ++i) write({{fmt::format("new{}", i), big('c', i)}});
  // Small writes (each a flush and a look at the garbage) until the oldest file is gone: bounded.
  bool collected = false;
  for (int i = 0; i < 200 && !collected; ++i) {
    write({{fmt::format("small{}", i), "s"}});
    collected = !blob_files().contains(oldest);
    if (!collected) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(seen_on);
  EXPECT_TRUE(collected) << oldest << " is still there";
  EXPECT_EQ(ReadAll(*e), model);
}

}  // namespace
}  // namespace nds::engine
