// Goal: the transactions workload (`nds check --protocol txn`) sends the transaction the register
// model means and concludes from /txn's answer only what it proves. Method: the bodies parsed back
// as JSON, and a table of answers.
#include "check/register_ops.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace nds::check {
namespace {

using nlohmann::json;

Result<client::HttpReply> Reply(int status, std::string body = {}) {
  client::HttpReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(TxnRegisterOps, BodiesCompareTheSeenValueOrAbsence) {
  EXPECT_EQ(json::parse(TxnReadBody("k")), json::parse(R"({"success":[{"get":{"key":"k"}}]})"));
  EXPECT_EQ(json::parse(TxnWriteBody("k", "v", nullptr)),
            json::parse(R"({"success":[{"put":{"key":"k","value":"v"}}]})"));
  SeenValue held{std::string("old"), 7};
  EXPECT_EQ(json::parse(TxnWriteBody("k", "v", &held)),
            json::parse(R"({"compare":[{"key":"k","value":"old"}],
                            "success":[{"put":{"key":"k","value":"v"}}]})"));
  SeenValue absent;
  EXPECT_EQ(json::parse(TxnWriteBody("k", "v", &absent)),
            json::parse(R"({"compare":[{"key":"k","exists":false}],
                            "success":[{"put":{"key":"k","value":"v"}}]})"));
}

TEST(TxnRegisterOps, ReadAnswers) {
  ReadVerdict v = ClassifyTxnRead(Reply(
      200,
      R"({"succeeded":true,"revision":9,"results":[{"get":{"found":true,"revision":4,"value":"c1-2"}}]})"));
  EXPECT_EQ(v.outcome, sim::OpOutcome::kOk);
  EXPECT_EQ(v.value, "c1-2");
  EXPECT_EQ(v.revision, 4u);
  v = ClassifyTxnRead(
      Reply(200, R"({"succeeded":true,"revision":9,"results":[{"get":{"found":false}}]})"));
  EXPECT_EQ(v.outcome, sim::OpOutcome::kOk);
  EXPECT_FALSE(v.value.has_value());
  // A 404 is no route here, not an absent key; a body that is not the answer observes nothing.
  EXPECT_EQ(ClassifyTxnRead(Reply(404)).outcome, sim::OpOutcome::kIndeterminate);
  EXPECT_EQ(ClassifyTxnRead(Reply(200, "{}")).outcome, sim::OpOutcome::kIndeterminate);
  EXPECT_EQ(ClassifyTxnRead(Reply(200, R"({"succeeded":true,"results":[]})")).outcome,
            sim::OpOutcome::kIndeterminate);
  EXPECT_EQ(ClassifyTxnRead(Unavailable(std::string(client::kCannotReachPrefix) + "x")).outcome,
            sim::OpOutcome::kFailed);
}

TEST(TxnRegisterOps, WriteAnswers) {
  WriteVerdict w = ClassifyTxnWrite(Reply(200, R"({"succeeded":true,"revision":3})"), true);
  EXPECT_EQ(w.outcome, sim::OpOutcome::kOk);
  EXPECT_TRUE(w.cas_swapped);
  // A compare that failed is a definite mismatch.
  w = ClassifyTxnWrite(Reply(200, R"({"succeeded":false,"revision":3})"), true);
  EXPECT_EQ(w.outcome, sim::OpOutcome::kOk);
  EXPECT_FALSE(w.cas_swapped);
  // An unconditional transaction cannot fail its (empty) compare: such an answer proves nothing.
  EXPECT_EQ(ClassifyTxnWrite(Reply(200, R"({"succeeded":false})"), false).outcome,
            sim::OpOutcome::kIndeterminate);
  EXPECT_EQ(ClassifyTxnWrite(Reply(200, "not json"), true).outcome, sim::OpOutcome::kIndeterminate);
  EXPECT_EQ(ClassifyTxnWrite(Reply(400), true).outcome, sim::OpOutcome::kFailed);
  EXPECT_EQ(ClassifyTxnWrite(Reply(503), false).outcome, sim::OpOutcome::kIndeterminate);
  EXPECT_EQ(ClassifyTxnWrite(Timeout("slow"), false).outcome, sim::OpOutcome::kIndeterminate);
}

TEST(RegisterOps, ProtocolNamesRoundTrip) {
  for (Protocol p : {Protocol::kHttp, Protocol::kResp, Protocol::kTxn}) {
    auto parsed = ParseProtocol(ProtocolName(p));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_EQ(ParseProtocol("redis").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nds::check
