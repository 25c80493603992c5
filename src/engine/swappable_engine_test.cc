// Goal: SwappableEngine forwards to its current engine, Replace() switches every later call to
// the new one, and a view taken before a Replace keeps reading the old state.
#include "engine/swappable_engine.h"

#include <gtest/gtest.h>

#include "engine/engine_factory.h"
#include "engine/engine_test_util.h"

namespace nds::engine {
namespace {

std::unique_ptr<Engine> EngineWith(const std::string& dir, const std::string& key,
                                   const std::string& value, uint64_t index) {
  auto e = OpenEngine("rocksdb", dir);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  WriteBatch b;
  b.Put(key, value);
  EXPECT_TRUE((*e)->Write(b, LogIndex{index}, /*sync=*/false).ok());
  return std::move(e).value();
}

TEST(SwappableEngine, ReplaceSwitchesLaterCallsAndOldViewsKeepTheirState) {
  testing::ScratchDir dir;
  SwappableEngine engine(EngineWith(dir.Sub("a"), "k", "old", 5));
  EXPECT_EQ(engine.Name(), "rocksdb");
  EXPECT_EQ(engine.AppliedIndex(), LogIndex{5});
  std::unique_ptr<View> before = engine.NewView();

  engine.Replace(EngineWith(dir.Sub("b"), "k", "new", 9));
  EXPECT_EQ(engine.AppliedIndex(), LogIndex{9});
  auto now = engine.Get("k");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->value_or(""), "new");

  // The view taken before still reads the replaced engine, which it keeps open.
  auto old = before->Get("k");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->value_or(""), "old");
  EXPECT_EQ(before->applied_index(), LogIndex{5});
  auto it = before->NewIterator();
  it->Seek("");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->value(), "old");

  WriteBatch b;
  b.Put("k2", "v");
  ASSERT_TRUE(engine.Write(b, LogIndex{10}, /*sync=*/false).ok());
  EXPECT_EQ(engine.NewView()->Get("k2")->value_or(""), "v");
}

}  // namespace
}  // namespace nds::engine
