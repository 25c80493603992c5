// Goal: `nds check` concludes from an HTTP answer only what it proves (register_client.h): a
// write is kFailed only when it surely did not run, kIndeterminate whenever it may have, and a
// conditional write's 412 is a definite mismatch. Method: a table of answers and transport errors.
#include "check/register_client.h"

#include <gtest/gtest.h>

#include "client/options.h"

namespace nds::check {
namespace {

Result<client::HttpReply> Reply(int status, std::string body = {},
                                client::HttpHeaders headers = {}) {
  client::HttpReply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(ClassifyWrite, AnswersMapToWhatTheyProve) {
  struct Case {
    Result<client::HttpReply> reply;
    bool conditional;
    sim::OpOutcome outcome;
    bool swapped;
  };
  std::vector<Case> cases;
  cases.push_back({Reply(201), false, sim::OpOutcome::kOk, true});
  cases.push_back({Reply(204), true, sim::OpOutcome::kOk, true});
  cases.push_back({Reply(412), true, sim::OpOutcome::kOk, false});
  cases.push_back({Reply(412), false, sim::OpOutcome::kIndeterminate, false});
  cases.push_back({Reply(400), false, sim::OpOutcome::kFailed, false});
  cases.push_back({Reply(413), false, sim::OpOutcome::kFailed, false});
  cases.push_back({Reply(503), false, sim::OpOutcome::kIndeterminate, false});
  cases.push_back({Reply(500), true, sim::OpOutcome::kIndeterminate, false});
  cases.push_back({Reply(507), false, sim::OpOutcome::kIndeterminate, false});
  cases.push_back({Timeout("no reply"), false, sim::OpOutcome::kIndeterminate, false});
  cases.push_back({Unavailable("connection reset"), true, sim::OpOutcome::kIndeterminate, false});
  cases.push_back({Unavailable(std::string(client::kCannotReachPrefix) + "127.0.0.1:1"), false,
                   sim::OpOutcome::kFailed, false});
  for (size_t i = 0; i < cases.size(); ++i) {
    WriteVerdict v = ClassifyWrite(cases[i].reply, cases[i].conditional);
    EXPECT_EQ(v.outcome, cases[i].outcome) << "case " << i;
    EXPECT_EQ(v.cas_swapped, cases[i].swapped) << "case " << i;
  }
}

TEST(ClassifyRead, ValueAbsenceAndFailures) {
  ReadVerdict v = ClassifyRead(Reply(200, "c1-7", {{"etag", "\"42\""}}));
  EXPECT_EQ(v.outcome, sim::OpOutcome::kOk);
  EXPECT_EQ(v.value, "c1-7");
  EXPECT_EQ(v.revision, 42u);

  v = ClassifyRead(Reply(404));
  EXPECT_EQ(v.outcome, sim::OpOutcome::kOk);
  EXPECT_FALSE(v.value.has_value());

  EXPECT_EQ(ClassifyRead(Reply(503)).outcome, sim::OpOutcome::kIndeterminate);
  EXPECT_EQ(ClassifyRead(Timeout("late")).outcome, sim::OpOutcome::kIndeterminate);
  EXPECT_EQ(ClassifyRead(Unavailable(std::string(client::kCannotReachPrefix) + "x:1")).outcome,
            sim::OpOutcome::kFailed);
}

TEST(ParseEtagRevision, OnlyAStrongNumericTag) {
  EXPECT_EQ(ParseEtagRevision("\"17\""), 17u);
  EXPECT_EQ(ParseEtagRevision("\"0\""), 0u);
  EXPECT_FALSE(ParseEtagRevision("17").has_value());
  EXPECT_FALSE(ParseEtagRevision("W/\"17\"").has_value());
  EXPECT_FALSE(ParseEtagRevision("\"\"").has_value());
  EXPECT_FALSE(ParseEtagRevision("\"1x\"").has_value());
  EXPECT_FALSE(ParseEtagRevision("\"99999999999999999999999\"").has_value());
}

}  // namespace
}  // namespace nds::check
