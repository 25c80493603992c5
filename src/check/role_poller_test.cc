// Goal: the two-geese detection of `nds check` (role_poller.h) flags a round in which two nodes
// answered goose, and nothing else. Method: hand-made goose samples through FindTwoGeese.
#include "check/role_poller.h"

#include <gtest/gtest.h>

namespace nds::check {
namespace {

TEST(FindTwoGeese, OneGoosePerRoundIsNoAnomaly) {
  // Leadership moves from a to b between rounds 2 and 5: a handover, not two geese at once.
  std::vector<GooseSample> samples = {
      {"a:1", 1, 100, 110}, {"a:1", 2, 200, 210}, {"b:2", 5, 500, 510}, {"b:2", 6, 600, 605}};
  EXPECT_TRUE(FindTwoGeese(samples).empty());
  EXPECT_TRUE(FindTwoGeese({}).empty());
}

TEST(FindTwoGeese, TwoNodesAnsweringGooseInOneRoundAreReported) {
  std::vector<GooseSample> samples = {
      {"a:1", 1, 100, 110}, {"a:1", 2, 200, 230}, {"c:3", 2, 201, 204}, {"b:2", 2, 199, 220},
      {"c:3", 3, 300, 310}, {"a:1", 7, 700, 701}, {"b:2", 7, 702, 703}};
  std::vector<TwoGeese> found = FindTwoGeese(samples);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].round, 2u);
  EXPECT_EQ(found[0].geese.size(), 3u);
  EXPECT_EQ(found[0].sent_us, 199u);
  EXPECT_EQ(found[1].round, 7u);
  EXPECT_EQ(found[1].geese.size(), 2u);
}

TEST(FindTwoGeese, ARepeatedAnswerOfOneNodeIsNotTwoGeese) {
  std::vector<GooseSample> samples = {{"a:1", 4, 400, 410}, {"a:1", 4, 401, 411}};
  EXPECT_TRUE(FindTwoGeese(samples).empty());
}

}  // namespace
}  // namespace nds::check
