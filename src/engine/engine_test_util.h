// Helpers shared by the engine tests (engine_test.cc and the engine-specific tests): a scratch
// directory removed at the end, and small readers that collect an engine's or a view's contents.
// Test-only; not thread-safe.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "engine/engine.h"

namespace nds::engine::testing {

// A fresh directory under $TEST_TMPDIR or /tmp, removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/nds_engine_XXXXXX";
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp " << pattern;
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// Every pair of `view`, read with an iterator from the first key.
inline std::map<std::string, std::string> ReadAll(const View& view) {
  std::map<std::string, std::string> out;
  std::unique_ptr<Iterator> it = view.NewIterator();
  for (it->Seek(""); it->Valid(); it->Next()) out.emplace(it->key(), it->value());
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return out;
}

inline std::map<std::string, std::string> ReadAll(const Engine& engine) {
  return ReadAll(*engine.NewView());
}

// The value of `key` in `engine`, "<absent>" when missing, "<error: ...>" on error.
inline std::string GetOrAbsent(const Engine& engine, std::string_view key) {
  Result<std::optional<std::string>> got = engine.Get(key);
  if (!got.ok()) return "<error: " + got.status().ToString() + ">";
  return got->has_value() ? **got : "<absent>";
}

inline std::string GetOrAbsent(const View& view, std::string_view key) {
  Result<std::optional<std::string>> got = view.Get(key);
  if (!got.ok()) return "<error: " + got.status().ToString() + ">";
  return got->has_value() ? **got : "<absent>";
}

// Applies a one-op batch with the given applied index; fails the test on error.
inline void Put(Engine& engine, std::string_view key, std::string_view value, uint64_t index) {
  WriteBatch batch;
  batch.Put(key, value);
  Status s = engine.Write(batch, LogIndex(index), /*sync=*/false);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

}  // namespace nds::engine::testing
