// Goal: RocksDB's info log stays within its limit: it rotates at the size limit and keeps at most
// the configured number of files, and every line is written whole.
// Method: log many lines through a logger with tiny limits and look at the files it leaves.
#include "engine/rocksdb_logger.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include "engine/engine_test_util.h"

namespace nds::engine {
namespace {

using testing::ScratchDir;

TEST(BoundedFileLogger, RotatesAtTheSizeLimitAndKeepsAtMostFilesMax) {
  ScratchDir dir;
  Result<std::shared_ptr<BoundedFileLogger>> logger =
      BoundedFileLogger::Open(dir.path(), 1024, 3, rocksdb::InfoLogLevel::INFO_LEVEL);
  ASSERT_TRUE(logger.ok()) << logger.status().ToString();
  std::shared_ptr<rocksdb::Logger> base = *logger;
  for (int i = 0; i < 1000; ++i) {
    rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, base, "line %d of the test", i);
  }
  // Below the level: dropped.
  rocksdb::Log(rocksdb::InfoLogLevel::DEBUG_LEVEL, base, "debug line");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_LE(entry.file_size(), 1024u) << entry.path();
  }
  EXPECT_EQ(files, 3);
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("LOG.2")));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("LOG.3")));
  std::ifstream in(dir.Sub("LOG"));
  std::string last, line;
  while (std::getline(in, line)) {
    EXPECT_NE(line.find(" INFO line "), std::string::npos) << line;
    last = line;
  }
  EXPECT_NE(last.find("line 999 of the test"), std::string::npos) << last;
  EXPECT_TRUE(base->Close().ok());
}

}  // namespace
}  // namespace nds::engine
