// Goal: the current engine directory is DATA/engine until an install names another in
// DATA/ENGINE; a damaged DATA/ENGINE is an error, never a guess, and then no engine directory is
// removed as stale.
#include "node/engine_dir.h"

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

namespace nds::node {
namespace {

class EngineDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = (std::filesystem::temp_directory_path() / ("engine_dir_test_" + std::to_string(rd())))
               .string();
    std::filesystem::create_directories(dir_ + "/engine");
    std::filesystem::create_directories(dir_ + "/engine-42");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(EngineDirTest, PointerSelectsTheEngineAndStaleOnesAreRemoved) {
  EXPECT_EQ(CurrentEngineDir(dir_).value(), dir_ + "/engine");
  ASSERT_TRUE(SetCurrentEngineDir(dir_, "engine-42").ok());
  EXPECT_EQ(CurrentEngineDir(dir_).value(), dir_ + "/engine-42");
  RemoveStaleEngineDirs(dir_);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/engine"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/engine-42"));
  EXPECT_FALSE(SetCurrentEngineDir(dir_, "../elsewhere").ok());
}

TEST_F(EngineDirTest, ADamagedPointerIsAnErrorAndRemovesNothing) {
  std::ofstream(dir_ + "/ENGINE") << "../../etc\n";
  EXPECT_EQ(CurrentEngineDir(dir_).status().code(), StatusCode::kCorruption);
  RemoveStaleEngineDirs(dir_);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/engine"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/engine-42"));
}

}  // namespace
}  // namespace nds::node
