// Goal: both FileSystem implementations keep the same contract, and FaultFileSystem models a crash
// (loss of unsynced bytes and names, torn last writes) and injects faults exactly as documented.
// Method: one typed test suite runs the contract on PosixFileSystem (in a fresh temporary
// directory) and on FaultFileSystem; then direct tests of each fault of FaultFileSystem.
#include "util/file_system.h"

#include <memory>
#include <stdlib.h>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "util/fault_file_system.h"

namespace nds {
namespace {

// Owns a file system and a fresh root directory in it.
struct PosixEnv {
  PosixEnv() {
    char tmpl[] = "/tmp/nds_fs_test_XXXXXX";
    NDS_CHECK(::mkdtemp(tmpl) != nullptr);
    root = tmpl;
  }
  ~PosixEnv() { IgnoreError(RemoveRecursively(fs(), root), "test cleanup"); }
  FileSystem* fs() { return DefaultFileSystem(); }
  std::string root;
};

struct FaultEnv {
  FaultEnv() { NDS_CHECK(mem.CreateDir(root).ok()); }
  FileSystem* fs() { return &mem; }
  FaultFileSystem mem;
  std::string root = "/root";
};

template <typename Env>
class FileSystemContract : public ::testing::Test {
 protected:
  FileSystem* fs() { return env_.fs(); }
  std::string Path(std::string_view name) { return JoinPath(env_.root, name); }
  Env env_;
};

using Envs = ::testing::Types<PosixEnv, FaultEnv>;
TYPED_TEST_SUITE(FileSystemContract, Envs);

TYPED_TEST(FileSystemContract, WrittenBytesReadBackAtTheirOffsets) {
  auto file = this->fs()->Open(this->Path("a"), OpenMode::kCreateExclusive);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->WriteAt(0, "hello").ok());
  ASSERT_TRUE((*file)->WriteAt(8, "world").ok());  // leaves a hole of zeros
  ASSERT_TRUE((*file)->Sync().ok());
  EXPECT_EQ(*(*file)->Size(), 13u);
  std::string buf(20, 'x');
  auto n = (*file)->ReadAt(0, buf.size(), buf.data());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 13u);
  EXPECT_EQ(buf.substr(0, 13), std::string("hello\0\0\0world", 13));
  EXPECT_EQ(*(*file)->ReadAt(100, 4, buf.data()), 0u);
  EXPECT_EQ((*file)->path(), this->Path("a"));
}

TYPED_TEST(FileSystemContract, AGatherWriteLaysItsPiecesBackToBack) {
  auto file = this->fs()->Open(this->Path("g"), OpenMode::kCreateExclusive);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  // Empty pieces, a big one, and more pieces than one pwritev takes (IOV_MAX is 1024 on Linux).
  const std::string big(300000, 'b');
  std::vector<std::string> owned;
  owned.reserve(3000);
  for (int i = 0; i < 3000; ++i) owned.push_back(std::to_string(i) + ",");
  std::vector<std::string_view> pieces = {"head:", "", big, ""};
  std::string expected = "head:" + big;
  for (const std::string& p : owned) {
    pieces.emplace_back(p);
    expected += p;
  }
  ASSERT_TRUE((*file)->WriteAt(0, "0123456789").ok());
  ASSERT_TRUE((*file)->WriteAtGather(3, pieces).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  expected = "012" + expected;
  EXPECT_EQ(*(*file)->Size(), expected.size());
  std::string buf(expected.size() + 10, 'x');
  auto n = (*file)->ReadAt(0, buf.size(), buf.data());
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, expected.size());
  EXPECT_TRUE(buf.substr(0, *n) == expected);
  ASSERT_TRUE((*file)->WriteAtGather(1, std::vector<std::string_view>{}).ok());  // nothing
  EXPECT_EQ(*(*file)->Size(), expected.size());
}

TYPED_TEST(FileSystemContract, OpenModesReportMissingAndExistingFiles) {
  EXPECT_EQ(this->fs()->Open(this->Path("nope"), OpenMode::kReadOnly).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(this->fs()->Open(this->Path("nodir/x"), OpenMode::kCreateTruncate).status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(WriteFileAtomically(this->fs(), this->env_.root, "f", "abc").ok());
  EXPECT_EQ(this->fs()->Open(this->Path("f"), OpenMode::kCreateExclusive).status().code(),
            StatusCode::kAlreadyExists);
  {
    auto f = this->fs()->Open(this->Path("f"), OpenMode::kCreateTruncate);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(*(*f)->Size(), 0u);
  }
  EXPECT_EQ(*ReadWholeFile(this->fs(), this->Path("f"), 10), "");
}

TYPED_TEST(FileSystemContract, PreallocateGrowsWithZerosAndTruncateShrinks) {
  auto file = this->fs()->Open(this->Path("p"), OpenMode::kCreateExclusive);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->WriteAt(0, "abc").ok());
  ASSERT_TRUE((*file)->Preallocate(4096).ok());
  EXPECT_EQ(*(*file)->Size(), 4096u);
  std::string buf(4096, 'x');
  ASSERT_EQ(*(*file)->ReadAt(0, 4096, buf.data()), 4096u);
  EXPECT_EQ(buf.substr(0, 3), "abc");
  EXPECT_EQ(buf.find_first_not_of('\0', 3), std::string::npos);
  ASSERT_TRUE((*file)->Preallocate(10).ok());  // never shrinks
  EXPECT_EQ(*(*file)->Size(), 4096u);
  ASSERT_TRUE((*file)->Truncate(2).ok());
  EXPECT_EQ(*(*file)->Size(), 2u);
}

TYPED_TEST(FileSystemContract, RenameReplacesAndListDirIsSorted) {
  FileSystem* fs = this->fs();
  ASSERT_TRUE(WriteFileAtomically(fs, this->env_.root, "b", "new").ok());
  ASSERT_TRUE(WriteFileAtomically(fs, this->env_.root, "a", "old").ok());
  ASSERT_TRUE(fs->CreateDir(this->Path("d")).ok());
  EXPECT_EQ(fs->CreateDir(this->Path("d")).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(EnsureDir(fs, this->Path("d")).ok());
  ASSERT_TRUE(fs->Rename(this->Path("b"), this->Path("a")).ok());
  EXPECT_EQ(*ReadWholeFile(fs, this->Path("a"), 100), "new");
  auto list = fs->ListDir(this->env_.root);
  ASSERT_TRUE(list.ok());
  std::vector<DirEntry> want = {{"a", false}, {"d", true}};
  EXPECT_EQ(*list, want);
  EXPECT_FALSE(*fs->Exists(this->Path("b")));
  EXPECT_TRUE(*fs->Exists(this->Path("d")));
  EXPECT_EQ(fs->Remove(this->Path("b")).code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs->SyncDir(this->env_.root).ok());
  EXPECT_GT(*fs->FreeBytes(this->env_.root), 0u);
}

TYPED_TEST(FileSystemContract, DirectoriesRenameAndRemoveRecursively) {
  FileSystem* fs = this->fs();
  ASSERT_TRUE(fs->CreateDir(this->Path("t")).ok());
  ASSERT_TRUE(fs->CreateDir(this->Path("t/sub")).ok());
  ASSERT_TRUE(WriteFileAtomically(fs, this->Path("t/sub"), "x", "1").ok());
  ASSERT_TRUE(fs->Rename(this->Path("t"), this->Path("u")).ok());
  EXPECT_EQ(*ReadWholeFile(fs, this->Path("u/sub/x"), 10), "1");
  EXPECT_FALSE(fs->Remove(this->Path("u")).ok());  // not empty
  ASSERT_TRUE(RemoveRecursively(fs, this->Path("u")).ok());
  EXPECT_FALSE(*fs->Exists(this->Path("u")));
  EXPECT_TRUE(RemoveRecursively(fs, this->Path("u")).ok());  // absent is fine
}

TYPED_TEST(FileSystemContract, ReadWholeFileRefusesFilesOverItsLimit) {
  ASSERT_TRUE(WriteFileAtomically(this->fs(), this->env_.root, "big", "0123456789").ok());
  EXPECT_EQ(ReadWholeFile(this->fs(), this->Path("big"), 9).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(*ReadWholeFile(this->fs(), this->Path("big"), 10), "0123456789");
}

TEST(PathHelpers, JoinAndDirName) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(DirName("/x/y/z"), "/x/y");
  EXPECT_EQ(DirName("/x"), "/");
  EXPECT_EQ(DirName("x"), ".");
}

// --- FaultFileSystem ---

Status WriteAndMaybeSync(FileSystem* fs, const std::string& path, std::string_view data,
                         bool sync) {
  NDS_ASSIGN_OR_RETURN(auto f, fs->Open(path, OpenMode::kCreateTruncate));
  NDS_RETURN_IF_ERROR(f->WriteAt(0, data));
  if (sync) NDS_RETURN_IF_ERROR(f->Sync());
  return Status::Ok();
}

TEST(FaultFileSystem, CrashLosesUnsyncedBytesAndKeepsSyncedOnes) {
  FaultFileSystem fs;
  ASSERT_TRUE(WriteAndMaybeSync(&fs, "/a", "durable", true).ok());
  ASSERT_TRUE(WriteAndMaybeSync(&fs, "/b", "volatile", false).ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  {
    auto f = fs.Open("/a", OpenMode::kReadWrite);
    ASSERT_TRUE((*f)->WriteAt(7, " and more").ok());  // never synced
  }
  fs.Crash();
  EXPECT_EQ(*fs.Contents("/a"), "durable");
  EXPECT_EQ(*fs.Contents("/b"), "");
}

TEST(FaultFileSystem, CrashForgetsNamesWhoseDirectoryWasNotSynced) {
  FaultFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("/d").ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  ASSERT_TRUE(WriteAndMaybeSync(&fs, "/d/synced_name", "x", true).ok());
  ASSERT_TRUE(fs.SyncDir("/d").ok());
  ASSERT_TRUE(WriteAndMaybeSync(&fs, "/d/lost_name", "y", true).ok());  // data synced, name not
  ASSERT_TRUE(fs.Rename("/d/synced_name", "/d/renamed").ok());          // rename not synced
  fs.Crash();
  EXPECT_TRUE(*fs.Exists("/d/synced_name"));
  EXPECT_FALSE(*fs.Exists("/d/renamed"));
  EXPECT_FALSE(*fs.Exists("/d/lost_name"));
}

TEST(FaultFileSystem, TearKeepsARandomPrefixOfTheUnsyncedBytes) {
  bool saw_partial = false;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    FaultFileSystem fs(seed);
    fs.SetTearOnCrash(true);
    ASSERT_TRUE(WriteAndMaybeSync(&fs, "/f", "0123", true).ok());
    ASSERT_TRUE(fs.SyncDir("/").ok());
    {
      auto f = fs.Open("/f", OpenMode::kReadWrite);
      ASSERT_TRUE((*f)->WriteAt(4, "456789").ok());
    }
    fs.Crash();
    std::string got = *fs.Contents("/f");
    ASSERT_GE(got.size(), 4u);
    ASSERT_LE(got.size(), 10u);
    EXPECT_EQ(got, std::string("0123456789").substr(0, got.size())) << "seed " << seed;
    if (got.size() > 4 && got.size() < 10) saw_partial = true;
  }
  EXPECT_TRUE(saw_partial);
}

TEST(FaultFileSystem, FaultsFireByKindPathSkipAndCount) {
  FaultFileSystem fs;
  fs.AddFault({FileOp::kWrite, false, "victim", 1, 2, StatusCode::kNoSpace});
  auto other = fs.Open("/other", OpenMode::kCreateTruncate);
  auto victim = fs.Open("/victim", OpenMode::kCreateTruncate);
  ASSERT_TRUE(other.ok() && victim.ok());
  EXPECT_TRUE((*other)->WriteAt(0, "a").ok());
  EXPECT_TRUE((*victim)->WriteAt(0, "a").ok());  // skipped
  EXPECT_EQ((*victim)->WriteAt(0, "b").code(), StatusCode::kNoSpace);
  EXPECT_EQ((*victim)->WriteAt(0, "c").code(), StatusCode::kNoSpace);
  EXPECT_TRUE((*victim)->WriteAt(0, "d").ok());  // fired twice, done
  EXPECT_EQ(*fs.Contents("/victim"), "d");       // failed writes changed nothing
  fs.AddFault({FileOp::kSync, false, "", 0, UINT64_MAX, StatusCode::kIoError});
  EXPECT_EQ((*other)->Sync().code(), StatusCode::kIoError);
  fs.ClearFaults();
  EXPECT_TRUE((*other)->Sync().ok());
}

TEST(FaultFileSystem, AFailedWriteCanLeaveAPrefixOfItsData) {
  FaultFileSystem fs;
  fs.SetFailedWritePrefixBytes(3);
  fs.AddFault({FileOp::kWrite, false, "", 0, 1, StatusCode::kNoSpace});
  auto f = fs.Open("/f", OpenMode::kCreateTruncate);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->WriteAt(2, "abcdef").code(), StatusCode::kNoSpace);
  EXPECT_EQ(*fs.Contents("/f"), std::string("\0\0abc", 5));
  EXPECT_TRUE((*f)->WriteAt(0, "xy").ok());  // only failed writes are cut short
  EXPECT_EQ(*fs.Contents("/f"), "xyabc");
}

TEST(FaultFileSystem, AnyOpFaultFiresAfterNOperationsOfAnyKind) {
  FaultFileSystem fs;
  fs.AddFault({FileOp::kWrite, true, "", 2, UINT64_MAX, StatusCode::kIoError});
  auto f = fs.Open("/f", OpenMode::kCreateTruncate);  // 1
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE((*f)->WriteAt(0, "a").ok());               // 2
  EXPECT_EQ((*f)->Sync().code(), StatusCode::kIoError);  // 3: fires
  EXPECT_EQ(fs.Exists("/f").status().code(), StatusCode::kIoError);
}

TEST(FaultFileSystem, CapacityMakesPreallocationFailWithNoSpace) {
  FaultFileSystem fs;
  fs.SetCapacityBytes(1000);
  auto f = fs.Open("/f", OpenMode::kCreateTruncate);
  ASSERT_TRUE((*f)->Preallocate(800).ok());
  EXPECT_EQ((*f)->Preallocate(1001).code(), StatusCode::kNoSpace);
  EXPECT_EQ((*f)->WriteAt(990, std::string(20, 'x')).code(), StatusCode::kNoSpace);
  EXPECT_EQ(*fs.FreeBytes("/"), 200u);
  fs.SetCapacityBytes(UINT64_MAX);
  EXPECT_TRUE((*f)->Preallocate(1001).ok());
}

TEST(FaultFileSystem, CrashAfterOpsFreezesTheDiskUntilCrash) {
  FaultFileSystem fs;
  fs.SetCrashAfterOps(2);
  auto f = fs.Open("/f", OpenMode::kCreateTruncate);  // op 1
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE((*f)->WriteAt(0, "a").ok());  // op 2
  EXPECT_FALSE(fs.frozen());
  EXPECT_EQ((*f)->Sync().code(), StatusCode::kIoError);  // frozen
  EXPECT_TRUE(fs.frozen());
  EXPECT_EQ(fs.Exists("/f").status().code(), StatusCode::kIoError);
  fs.Crash();
  EXPECT_FALSE(fs.frozen());
  EXPECT_FALSE(*fs.Exists("/f"));                                 // its name was never synced
  EXPECT_EQ((*f)->WriteAt(0, "b").code(), StatusCode::kIoError);  // stale handle
}

TEST(FaultFileSystem, FlipBitDamagesDurableBytes) {
  FaultFileSystem fs;
  ASSERT_TRUE(WriteAndMaybeSync(&fs, "/f", "A", true).ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  ASSERT_TRUE(fs.FlipBit("/f", 0, 1).ok());
  fs.Crash();
  EXPECT_EQ(*fs.Contents("/f"), "C");
  EXPECT_EQ(fs.FlipBit("/f", 5, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs.FlipBit("/nope", 0, 0).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace nds
