// Goal: the held watchers of `nds bench` count a watch stream's lines right however the bytes are
// split, remember the highest revision and the error name, and keep a bounded part of each line.
// Method: feed lines shaped as api/watch_routes.cc writes them, whole, byte by byte and with a
// long value, and compare the counts.
#include "loadgen/watch_line_counter.h"

#include <string>

#include <gtest/gtest.h>

namespace nds::loadgen {
namespace {

const std::string kStream =
    R"({"type":"progress","revision":7})"
    "\n"
    R"({"revision":8,"type":"put","key":"bench/0000000001","value":"abc","content_type":"x"})"
    "\n"
    R"({"revision":9,"type":"delete","key":"bench/0000000001"})"
    "\n"
    R"({"type":"progress","revision":12})"
    "\n"
    R"({"type":"error","error":"too_slow","message":"the watcher fell behind"})"
    "\n";

void ExpectStreamCounts(const WatchLineCounter& c) {
  EXPECT_EQ(c.events(), 2u);
  EXPECT_EQ(c.progress(), 2u);
  EXPECT_EQ(c.errors(), 1u);
  EXPECT_EQ(c.other(), 0u);
  EXPECT_EQ(c.revision(), 12u);
  EXPECT_EQ(c.last_error(), "too_slow");
}

TEST(WatchLineCounter, CountsEachKindOfLine) {
  WatchLineCounter c;
  c.Feed(kStream);
  ExpectStreamCounts(c);
}

TEST(WatchLineCounter, BytesSplitAnywhereCountTheSame) {
  WatchLineCounter c;
  for (const char ch : kStream) c.Feed(std::string_view(&ch, 1));
  ExpectStreamCounts(c);
}

TEST(WatchLineCounter, AnUnfinishedLineIsNotCountedYet) {
  WatchLineCounter c;
  c.Feed(R"({"revision":3,"type":"put","key":"k")");
  EXPECT_EQ(c.events(), 0u);
  c.Feed(",\"value\":\"v\"}\n");
  EXPECT_EQ(c.events(), 1u);
  EXPECT_EQ(c.revision(), 3u);
}

TEST(WatchLineCounter, LongLinesAndUnknownLinesAreCountedWithoutBeingKept) {
  WatchLineCounter c;
  const std::string big(1 << 20, 'v');
  c.Feed(R"({"revision":40,"type":"put","key":"k","value":")" + big + "\"}\n");
  c.Feed("not json\n");
  EXPECT_EQ(c.events(), 1u);
  EXPECT_EQ(c.other(), 1u);
  EXPECT_EQ(c.revision(), 40u);
}

}  // namespace
}  // namespace nds::loadgen
