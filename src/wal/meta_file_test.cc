// Goal: DIR/meta is written once and atomically, read back exactly, and a damaged file or another
// format version is refused with a message naming the file. Method: FaultFileSystem; damage by
// FlipBit; crash safety by freezing the disk at every step of the write.
#include "wal/meta_file.h"

#include <string>

#include <gtest/gtest.h>

#include "util/coding.h"
#include "util/crc32c.h"
#include "util/fault_file_system.h"

namespace nds::wal {
namespace {

const std::string kSecret(32, '\x5a');
const NodeMeta kMeta{"cluster-7f3a", NodeId(3), kDataFormatVersion, kSecret};

TEST(MetaFile, WrittenOnceAndReadBack) {
  FaultFileSystem fs;
  EXPECT_EQ(ReadMetaFile(&fs, "/").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(WriteMetaFile(&fs, "/", kMeta).ok());
  fs.Crash();
  EXPECT_EQ(*ReadMetaFile(&fs, "/"), kMeta);
  EXPECT_EQ(WriteMetaFile(&fs, "/", {"other", NodeId(4), kDataFormatVersion, kSecret}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadMetaFile(&fs, "/"), kMeta);
}

TEST(MetaFile, RejectsBadIdentities) {
  FaultFileSystem fs;
  EXPECT_EQ(WriteMetaFile(&fs, "/", {"", NodeId(1), kDataFormatVersion, kSecret}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteMetaFile(
                &fs, "/",
                {std::string(kClusterIdBytesMax + 1, 'c'), NodeId(1), kDataFormatVersion, kSecret})
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteMetaFile(&fs, "/", {"c", kNoNode, kDataFormatVersion, kSecret}).code(),
            StatusCode::kInvalidArgument);
  // A cluster secret is required, of a sensible length.
  for (size_t bytes : {size_t{0}, kClusterSecretBytesMin - 1, kClusterSecretBytesMax + 1}) {
    EXPECT_EQ(WriteMetaFile(&fs, "/", {"c", NodeId(1), kDataFormatVersion, std::string(bytes, 's')})
                  .code(),
              StatusCode::kInvalidArgument)
        << bytes;
  }
}

// A file written before peers authenticated each other (version 1, no secret) still reads, so
// that the start can say what is wrong; it never yields a secret.
TEST(MetaFile, AVersionOneFileReadsWithoutASecret) {
  NodeMeta old{"cluster-7f3a", NodeId(3), kDataFormatVersionWithoutSecret, ""};
  Result<NodeMeta> read = DecodeNodeMeta(EncodeNodeMeta(old), "/d/meta");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, old);
  EXPECT_TRUE(read->cluster_secret.empty());
  // A version 2 file without its secret field is damaged, not a version 1 file.
  std::string bytes(kMetaMagic);
  PutFixed32(&bytes, kDataFormatVersion);
  PutLengthPrefixed(&bytes, "cluster-7f3a");
  PutVarint64(&bytes, 3);
  PutFixed32(&bytes, crc32c::Value(bytes));
  EXPECT_EQ(DecodeNodeMeta(bytes, "/d/meta").status().code(), StatusCode::kCorruption);
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
  EXPECT_NE(s.message().find("format version 3"), std::string::npos) << s.message();
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
