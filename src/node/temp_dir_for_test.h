// For unit tests that need a data directory: a fresh, empty directory under the system temporary
// directory, and a gtest fixture that makes one before each test and removes it after. Test code
// only: nothing in the binaries includes it.
#pragma once

#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <utility>

#include <gtest/gtest.h>

namespace nds::node {

// Creates and returns a new directory named `prefix` followed by random digits.
inline std::string NewTempDir(const std::string& prefix) {
  std::random_device rd;
  std::string dir = (std::filesystem::temp_directory_path() /
                     (prefix + std::to_string(rd()) + std::to_string(rd())))
                        .string();
  std::filesystem::create_directories(dir);
  return dir;
}

// dir_ is a new directory for each test (named after `prefix`), removed with all it holds after it.
class TempDirTest : public ::testing::Test {
 protected:
  explicit TempDirTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override { dir_ = NewTempDir(prefix_); }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string dir_;

 private:
  std::string prefix_;
};

}  // namespace nds::node
