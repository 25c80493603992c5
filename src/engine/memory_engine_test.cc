// Goal: the memory engine's checkpoint file is verified on load: every kind of damage (a flipped
// byte anywhere, a truncation, a missing file) is reported as a Status naming the file and the
// offset, never loaded and never a crash.
// Method: write a small checkpoint through the engine, damage a copy of its file byte by byte
// and load each damaged copy.
#include "engine/memory_engine.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/engine_test_util.h"

namespace nds::engine {
namespace {

using testing::ReadAll;
using testing::ScratchDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class MemoryCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::unique_ptr<Engine> e = NewMemoryEngine();
    WriteBatch batch;
    batch.Put("alpha", "1");
    batch.Put(std::string("b\0c", 3), std::string(40, 'x'));
    batch.Put("", "empty key");
    ASSERT_TRUE(e->Write(batch, LogIndex(42), false).ok());
    ASSERT_TRUE(e->Checkpoint(dir_.Sub("good")).ok());
    file_ = ReadFile(dir_.Sub("good") + "/" + kMemoryCheckpointFileName);
    ASSERT_GT(file_.size(), 40u);
    std::filesystem::create_directory(dir_.Sub("bad"));
  }

  // Loads `bytes` as the checkpoint file of the directory "bad".
  Result<std::unique_ptr<Engine>> LoadDamaged(const std::string& bytes) {
    WriteFile(bad_path(), bytes);
    return OpenMemoryEngineCheckpoint(dir_.Sub("bad"));
  }
  std::string bad_path() const { return dir_.Sub("bad") + "/" + kMemoryCheckpointFileName; }

  ScratchDir dir_;
  std::string file_;
};

TEST_F(MemoryCheckpointTest, IntactFileLoadsWithItsAppliedIndex) {
  Result<std::unique_ptr<Engine>> loaded = LoadDamaged(file_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->AppliedIndex(), LogIndex(42));
  EXPECT_EQ(ReadAll(**loaded).size(), 3u);
  EXPECT_EQ((*loaded)->Stats().keys_estimate, 3u);
}

TEST_F(MemoryCheckpointTest, EveryFlippedByteIsCorruptionNamingFileAndOffset) {
  for (size_t i = 0; i < file_.size(); ++i) {
    std::string damaged = file_;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x20);
    Result<std::unique_ptr<Engine>> loaded = LoadDamaged(damaged);
    ASSERT_FALSE(loaded.ok()) << "flip at " << i << " went unnoticed";
    EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption) << loaded.status().ToString();
    EXPECT_NE(loaded.status().message().find(bad_path()), std::string::npos);
    EXPECT_NE(loaded.status().message().find("at offset"), std::string::npos);
  }
}

TEST_F(MemoryCheckpointTest, FlipInARecordNamesThatRecordsOffset) {
  // The header is 24 bytes; the first record starts right after it.
  std::string damaged = file_;
  damaged[26] = static_cast<char>(damaged[26] ^ 0x01);
  Result<std::unique_ptr<Engine>> loaded = LoadDamaged(damaged);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("at offset 24"), std::string::npos)
      << loaded.status().ToString();
}

TEST_F(MemoryCheckpointTest, EveryTruncationIsCorruption) {
  for (size_t n = 0; n < file_.size(); ++n) {
    Result<std::unique_ptr<Engine>> loaded = LoadDamaged(file_.substr(0, n));
    ASSERT_FALSE(loaded.ok()) << "truncation to " << n << " went unnoticed";
    EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption) << loaded.status().ToString();
  }
}

TEST_F(MemoryCheckpointTest, TrailingBytesAreCorruption) {
  Result<std::unique_ptr<Engine>> loaded = LoadDamaged(file_ + "x");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption);
}

TEST_F(MemoryCheckpointTest, MissingFileIsNotFound) {
  Result<std::unique_ptr<Engine>> loaded = OpenMemoryEngineCheckpoint(dir_.Sub("nowhere"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound) << loaded.status().ToString();
}

TEST(MemoryEngine, WritesAreNotKeptAcrossInstances) {
  std::unique_ptr<Engine> e = NewMemoryEngine();
  ASSERT_TRUE(e->Write(WriteBatch(), LogIndex(3), /*sync=*/true).ok());
  EXPECT_EQ(e->AppliedIndex(), LogIndex(3));
  EXPECT_EQ(NewMemoryEngine()->AppliedIndex(), LogIndex(0));
}

}  // namespace
}  // namespace nds::engine
