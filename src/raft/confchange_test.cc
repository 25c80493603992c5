// Goal: membership changes validate and apply as documented, and their encoding round-trips and
// rejects damage. Method: direct calls.
#include "raft/confchange.h"

#include <gtest/gtest.h>

namespace nds::raft {
namespace {

ConfState Cs(const std::vector<uint64_t>& voters, const std::vector<uint64_t>& learners = {}) {
  ConfState cs;
  for (uint64_t v : voters) cs.voters.push_back(NodeId(v));
  for (uint64_t l : learners) cs.learners.push_back(NodeId(l));
  return cs;
}

TEST(ConfChange, EncodingRoundTrips) {
  ConfChange cc{ConfChangeType::kAddLearner, NodeId(300)};
  auto back = DecodeConfChange(EncodeConfChange(cc));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, cc);
}

TEST(ConfChange, DamagedEncodingIsCorruption) {
  std::string data = EncodeConfChange(ConfChange{ConfChangeType::kRemoveNode, NodeId(3)});
  EXPECT_EQ(DecodeConfChange(data.substr(0, 1)).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeConfChange(data + "x").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeConfChange(std::string("\x07\x01", 2)).status().code(), StatusCode::kCorruption);
}

TEST(ConfChange, AddLearnerThenPromote) {
  ConfState cs = Cs({1, 2, 3});
  ConfChange add{ConfChangeType::kAddLearner, NodeId(4)};
  ASSERT_TRUE(ValidateConfChange(cs, add).ok());
  cs = ApplyConfChange(cs, add);
  EXPECT_EQ(cs, Cs({1, 2, 3}, {4}));
  ConfChange promote{ConfChangeType::kAddVoter, NodeId(4)};
  ASSERT_TRUE(ValidateConfChange(cs, promote).ok());
  cs = ApplyConfChange(cs, promote);
  EXPECT_EQ(cs, Cs({1, 2, 3, 4}));
}

TEST(ConfChange, NoOpChangesAreRefused) {
  ConfState cs = Cs({1, 2}, {3});
  EXPECT_EQ(ValidateConfChange(cs, {ConfChangeType::kAddVoter, NodeId(1)}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(ValidateConfChange(cs, {ConfChangeType::kAddLearner, NodeId(3)}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(ValidateConfChange(cs, {ConfChangeType::kRemoveNode, NodeId(9)}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ValidateConfChange(cs, {ConfChangeType::kAddLearner, NodeId(1)}).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ValidateConfChange(cs, {ConfChangeType::kAddVoter, kNoNode}).code(),
            StatusCode::kInvalidArgument);
}

TEST(ConfChange, LastVoterCannotBeRemoved) {
  ConfState cs = Cs({1});
  EXPECT_EQ(ValidateConfChange(cs, {ConfChangeType::kRemoveNode, NodeId(1)}).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApplyConfChange(cs, {ConfChangeType::kRemoveNode, NodeId(1)}), cs);
}

TEST(ConfChange, ReplayIsIdempotent) {
  ConfState cs = Cs({1, 2, 3});
  ConfChange rm{ConfChangeType::kRemoveNode, NodeId(2)};
  ConfState once = ApplyConfChange(cs, rm);
  EXPECT_EQ(ApplyConfChange(once, rm), once);
  EXPECT_EQ(once, Cs({1, 3}));
}

}  // namespace
}  // namespace nds::raft
