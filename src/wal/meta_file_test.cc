// Goal: DIR/meta is written once and atomically, read back exactly, and a damaged file or another
// format version is refused with a message naming the file. Method: FaultFileSystem; damage by
// FlipBit; crash safety by freezing the disk at every step of the write.
#include "wal/meta_file.h"

#include <string>

#include <gtest/gtest.h>

#include "util/fault_file_system.h"

namespace nds::wal {
namespace {

const NodeMeta kMeta{"cluster-7f3a", NodeId(3), kDataFormatVersion};

TEST(MetaFile, WrittenOnceAndReadBack) {
  FaultFileSystem fs;
  EXPECT_EQ(ReadMetaFile(&fs, "/").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(WriteMetaFile(&fs, "/", kMeta).ok());
  fs.Crash();
  EXPECT_EQ(*ReadMetaFile(&fs, "/"), kMeta);
  EXPECT_EQ(WriteMetaFile(&fs, "/", {"other", NodeId(4), kDataFormatVersion}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadMetaFile(&fs, "/"), kMeta);
}

TEST(MetaFile, RejectsBadIdentities) {
  FaultFileSystem fs;
  EXPECT_EQ(WriteMetaFile(&fs, "/", {"", NodeId(1), kDataFormatVersion}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteMetaFile(&fs, "/",
                          {std::string(kClusterIdBytesMax + 1, 'c'), NodeId(1), kDataFormatVersion})
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteMetaFile(&fs, "/", {"c", kNoNode, kDataFormatVersion}).code(),
            StatusCode::kInvalidArgument);
}

TEST(MetaFile, EveryFlippedBitIsRefusedAsCorruption) {
  FaultFileSystem fs;
  ASSERT_TRUE(WriteMetaFile(&fs, "/", kMeta).ok());
  size_t size = fs.Contents("/meta")->size();
  for (size_t i = 0; i < size; ++i) {
    ASSERT_TRUE(fs.FlipBit("/meta", i, 3).ok());
    Status s = ReadMetaFile(&fs, "/").status();
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << i;
    EXPECT_NE(s.message().find("/meta"), std::string::npos) << s.message();
    ASSERT_TRUE(fs.FlipBit("/meta", i, 3).ok());
  }
  EXPECT_TRUE(ReadMetaFile(&fs, "/").ok());
}

TEST(MetaFile, AnotherFormatVersionIsRefusedClearly) {
  NodeMeta future = kMeta;
  future.format_version = kDataFormatVersion + 1;
  Status s = DecodeNodeMeta(EncodeNodeMeta(future), "/d/meta").status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("format version 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("/d/meta"), std::string::npos);
}

TEST(MetaFile, CrashAtEveryStepLeavesNoFileOrTheWholeOne) {
  for (uint64_t k = 0; k < 50; ++k) {
    SCOPED_TRACE(k);
    FaultFileSystem fs(k + 1);
    fs.SetTearOnCrash(true);
    fs.SetCrashAfterOps(k);
    Status s = WriteMetaFile(&fs, "/", kMeta);
    if (s.ok() && !fs.frozen()) return;
    fs.Crash();
    auto got = ReadMetaFile(&fs, "/");
    if (got.ok()) {
      EXPECT_EQ(*got, kMeta);
    } else {
      EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << got.status().ToString();
    }
  }
  FAIL() << "the write never completed";
}

}  // namespace
}  // namespace nds::wal
