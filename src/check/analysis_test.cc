// Goal: the history -> checker adaptation of `nds check` (analysis.h) catches what it must and
// accepts what it must. Method: hand-made register histories, shaped like those the clients
// record (unique values, cas against a value read, indeterminate writes), run through
// CheckHistory, and operation counts checked by kind and outcome.
#include "check/analysis.h"

#include <gtest/gtest.h>

namespace nds::check {
namespace {

using sim::Operation;
using sim::OpKind;
using sim::OpOutcome;

Operation Op(uint64_t client, OpKind kind, std::string key, std::optional<std::string> value,
             uint64_t invoke, uint64_t complete, OpOutcome outcome = OpOutcome::kOk) {
  Operation op;
  op.client_id = client;
  op.kind = kind;
  op.key = std::move(key);
  op.value = std::move(value);
  op.invoke_time = invoke;
  op.complete_time = complete;
  op.outcome = outcome;
  return op;
}

Operation Cas(uint64_t client, std::string key, std::optional<std::string> expected,
              std::string value, bool swapped, uint64_t invoke, uint64_t complete,
              OpOutcome outcome = OpOutcome::kOk) {
  Operation op =
      Op(client, OpKind::kCas, std::move(key), std::move(value), invoke, complete, outcome);
  op.expected = std::move(expected);
  op.cas_swapped = swapped;
  return op;
}

TEST(CheckHistory, StaleReadAfterAcknowledgedWriteIsAViolation) {
  std::vector<Operation> ops = {
      Op(0, OpKind::kWrite, "k", "a", 0, 10),
      Op(1, OpKind::kWrite, "k", "b", 20, 30),
      Op(2, OpKind::kRead, "k", "a", 40, 50),  // after b was acknowledged
      Op(0, OpKind::kRead, "other", std::nullopt, 0, 5),
  };
  Result<LinearizabilityFindings> f = CheckHistory(ops);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->keys_checked, 2u);
  ASSERT_EQ(f->violations.size(), 1u);
  EXPECT_EQ(f->violations[0].key, "k");
  EXPECT_FALSE(f->violations[0].ops.empty());
  EXPECT_TRUE(f->unknown_keys.empty());
}

TEST(CheckHistory, LostAcknowledgedWriteIsCaughtByTheFinalRead) {
  // The run's last read finds the key empty although a write was acknowledged before it.
  std::vector<Operation> ops = {
      Op(0, OpKind::kWrite, "k", "a", 0, 10),
      Op(9, OpKind::kRead, "k", std::nullopt, 100, 110),
  };
  Result<LinearizabilityFindings> f = CheckHistory(ops);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->violations.size(), 1u);
}

TEST(CheckHistory, IndeterminateWritesMayOrMayNotHaveHappened) {
  std::vector<Operation> ops = {
      Op(0, OpKind::kWrite, "k", "a", 0, 10),
      // Timed out: seen later by one read, so it took effect after all.
      Op(1, OpKind::kWrite, "k", "b", 20, 0, OpOutcome::kIndeterminate),
      // Timed out and never seen: it may never have happened.
      Op(2, OpKind::kWrite, "k", "c", 25, 0, OpOutcome::kIndeterminate),
      Op(3, OpKind::kRead, "k", "a", 30, 40),
      Op(3, OpKind::kRead, "k", "b", 50, 60),
      Op(3, OpKind::kRead, "k", "b", 70, 80),
  };
  Result<LinearizabilityFindings> f = CheckHistory(ops);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->violations.empty());
  EXPECT_TRUE(f->unknown_keys.empty());
}

TEST(CheckHistory, FailedWritesHaveNoEffect) {
  // A write refused for sure must never be observed.
  std::vector<Operation> ops = {
      Op(0, OpKind::kWrite, "k", "a", 0, 10, OpOutcome::kFailed),
      Op(1, OpKind::kRead, "k", "a", 20, 30),
  };
  Result<LinearizabilityFindings> f = CheckHistory(ops);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->violations.size(), 1u);
}

TEST(CheckHistory, CasAgainstAReadValueFollowsTheRegister) {
  std::vector<Operation> ok = {
      Op(0, OpKind::kWrite, "k", "a", 0, 10),
      Op(1, OpKind::kRead, "k", "a", 20, 30),
      Cas(1, "k", "a", "b", /*swapped=*/true, 40, 50),
      Cas(2, "k", "a", "c", /*swapped=*/false, 60, 70),           // 412: b is there now
      Cas(3, "k", std::nullopt, "d", /*swapped=*/false, 60, 70),  // If-None-Match: * on a key
      Op(1, OpKind::kRead, "k", "b", 80, 90),
  };
  Result<LinearizabilityFindings> f = CheckHistory(ok);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->violations.empty());

  // Two cas from the same read value cannot both swap.
  std::vector<Operation> bad = {
      Op(0, OpKind::kWrite, "k", "a", 0, 10),
      Cas(1, "k", "a", "b", true, 20, 30),
      Cas(2, "k", "a", "c", true, 40, 50),
  };
  f = CheckHistory(bad);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->violations.size(), 1u);
}

TEST(CheckHistory, EveryNonLinearizableKeyIsReported) {
  std::vector<Operation> ops;
  for (std::string key : {"x", "y", "z"}) {
    ops.push_back(Op(0, OpKind::kWrite, key, key + "1", 0, 10));
    ops.push_back(Op(1, OpKind::kRead, key, std::nullopt, 20, 30));
  }
  ops.push_back(Op(0, OpKind::kWrite, "fine", "v", 0, 10));
  Result<LinearizabilityFindings> f = CheckHistory(ops);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->keys_checked, 4u);
  ASSERT_EQ(f->violations.size(), 3u);
  EXPECT_EQ(f->violations[0].key, "x");
  EXPECT_EQ(f->violations[2].key, "z");
}

TEST(CheckHistory, CompletionBeforeInvocationIsRejected) {
  std::vector<Operation> ops = {Op(0, OpKind::kWrite, "k", "a", 10, 5)};
  EXPECT_EQ(CheckHistory(ops).status().code(), StatusCode::kInvalidArgument);
}

TEST(CountOps, CountsByKindAndOutcome) {
  std::vector<Operation> ops = {
      Op(0, OpKind::kRead, "k", std::nullopt, 0, 1),
      Op(0, OpKind::kRead, "k", std::nullopt, 0, 1, OpOutcome::kIndeterminate),
      Op(0, OpKind::kWrite, "k", "a", 0, 1, OpOutcome::kFailed),
      Cas(0, "k", "a", "b", true, 0, 1),
      Cas(0, "k", "a", "c", false, 0, 1),
      Cas(0, "k", "a", "d", false, 0, 1, OpOutcome::kIndeterminate),
  };
  HistoryCounts c = CountOps(ops);
  EXPECT_EQ(c.read.ok, 1u);
  EXPECT_EQ(c.read.indeterminate, 1u);
  EXPECT_EQ(c.write.failed, 1u);
  EXPECT_EQ(c.cas.ok, 2u);
  EXPECT_EQ(c.cas.indeterminate, 1u);
  EXPECT_EQ(c.cas_swapped, 1u);
  EXPECT_EQ(c.cas_mismatched, 1u);
  EXPECT_EQ(c.All().total(), 6u);
  EXPECT_EQ(c.All().ok, 3u);
}

}  // namespace
}  // namespace nds::check
