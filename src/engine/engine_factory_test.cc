// Goal: OpenEngine chooses the implementation by its kind name and refuses unknown kinds.
// Method: open each kind in a scratch directory and look at Name() and the contents.
#include "engine/engine_factory.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "engine/engine_test_util.h"

namespace nds::engine {
namespace {

using testing::GetOrAbsent;
using testing::Put;
using testing::ScratchDir;

TEST(OpenEngine, UnknownKindIsInvalidArgument) {
  ScratchDir dir;
  for (std::string_view kind : {"", "RocksDB", "leveldb", "memory "}) {
    Result<std::unique_ptr<Engine>> opened = OpenEngine(kind, dir.path());
    ASSERT_FALSE(opened.ok()) << kind;
    EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(OpenEngine, RocksDbKindOpensRocksDb) {
  ScratchDir dir;
  Result<std::unique_ptr<Engine>> opened = OpenEngine("rocksdb", dir.Sub("db"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->Name(), "rocksdb");
}

TEST(OpenEngine, MemoryKindIsEmptyWithoutACheckpointAndLoadsOne) {
  ScratchDir dir;
  Result<std::unique_ptr<Engine>> fresh = OpenEngine("memory", dir.Sub("none"));
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ((*fresh)->Name(), "memory");
  Put(**fresh, "k", "v", 4);
  ASSERT_TRUE((*fresh)->Checkpoint(dir.Sub("ckpt")).ok());
  Result<std::unique_ptr<Engine>> loaded = OpenEngine("memory", dir.Sub("ckpt"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->AppliedIndex(), LogIndex(4));
  EXPECT_EQ(GetOrAbsent(**loaded, "k"), "v");
}

}  // namespace
}  // namespace nds::engine
