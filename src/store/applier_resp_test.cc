// Goal: the RESP front's atomic commands (INCRBY, APPEND, SET ... GET, MSET, multi-key DEL)
// survive encoding, reject malformed log bytes, and are decided at apply time: each sees the
// state left by earlier commands, also those earlier in the same batch, and a failure changes
// nothing. Method: encode/decode round trips; BatchApplier over the in-memory engine.
#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "store/applier.h"
#include "store/applier_fixture_for_test.h"
#include "store/command.h"
#include "store/keyspace.h"

namespace nds::store {
namespace {

TEST(RespCommand, RoundTripsEveryNewType) {
  for (const Command& c :
       {IncrementByCommand("n", -5), IncrementByCommand("n", INT64_MIN),
        AppendCommand("a", "tail", 1 << 20),
        PutReturnOldCommand("g", "v", Precondition::kMustNotExist),
        PutManyCommand({{"a", "1"}, {"b", std::string("\0", 1)}}), DeleteManyCommand({"a", "b"})}) {
    std::string buf;
    EncodeCommand(c, &buf);
    auto back = DecodeCommand(buf);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, c);
  }
}

TEST(RespCommand, MalformedFieldsAreCorruption) {
  Command not_integer = IncrementByCommand("n", 1);
  not_integer.value = "1x";
  Command with_content_type = AppendCommand("a", "t", 10);
  with_content_type.content_type = "text/plain";
  Command many_with_key = DeleteManyCommand({"a"});
  many_with_key.key = "a";
  Command odd_pairs = PutManyCommand({{"a", "1"}});
  odd_pairs.value = EncodeStringList({"a", "1", "b"});
  Command empty_list = DeleteManyCommand({"a"});
  empty_list.value.clear();
  Command truncated_list = DeleteManyCommand({"abc"});
  truncated_list.value.pop_back();
  Command incr_with_pre = IncrementByCommand("n", 1);
  incr_with_pre.precondition = Precondition::kMustExist;
  Command getset_revision = PutReturnOldCommand("g", "v", Precondition::kNone);
  getset_revision.precondition = Precondition::kRevisionEquals;
  for (const Command& c : {not_integer, with_content_type, many_with_key, odd_pairs, empty_list,
                           truncated_list, incr_with_pre, getset_revision}) {
    std::string buf;
    EncodeCommand(c, &buf);
    EXPECT_EQ(DecodeCommand(buf).status().code(), StatusCode::kCorruption)
        << static_cast<int>(c.type);
  }
}

TEST(RespCommand, DecimalIntegersParseExactlyAsRedisDoes) {
  EXPECT_EQ(ParseDecimalInt64("0"), 0);
  EXPECT_EQ(ParseDecimalInt64("-12"), -12);
  EXPECT_EQ(ParseDecimalInt64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ParseDecimalInt64("-9223372036854775808"), INT64_MIN);
  for (std::string_view bad : {"", "-", "+1", " 1", "1 ", "01", "-0", "1.5", "9223372036854775808",
                               "-9223372036854775809", "99999999999999999999", "abc"}) {
    EXPECT_FALSE(ParseDecimalInt64(bad).has_value()) << bad;
  }
}

class RespApplierTest : public ApplierFixture {};

TEST_F(RespApplierTest, IncrementStartsAtZeroAndRefusesNonIntegersAndOverflow) {
  ApplyResult r = ApplyOne(IncrementByCommand("n", 5));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.integer, 5);
  EXPECT_EQ(r.revision, 1u);
  EXPECT_EQ(ApplyOne(IncrementByCommand("n", -7)).integer, -2);
  EXPECT_EQ(ValueOf("n"), "-2");

  ApplyOne(PutCommand("s", "abc"));
  ApplyResult bad = ApplyOne(IncrementByCommand("s", 1));
  EXPECT_EQ(bad.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status.message(), "value is not an integer or out of range");
  EXPECT_EQ(ValueOf("s"), "abc");

  ApplyOne(PutCommand("big", "9223372036854775806"));
  EXPECT_EQ(ApplyOne(IncrementByCommand("big", 1)).integer, INT64_MAX);
  ApplyResult over = ApplyOne(IncrementByCommand("big", 1));
  EXPECT_EQ(over.status.message(), "increment or decrement would overflow");
  EXPECT_EQ(ValueOf("big"), "9223372036854775807");
  ApplyOne(PutCommand("small", "-9223372036854775807"));
  EXPECT_EQ(ApplyOne(IncrementByCommand("small", -1)).integer, INT64_MIN);
  EXPECT_FALSE(ApplyOne(IncrementByCommand("small", -1)).status.ok());
}

TEST_F(RespApplierTest, AppendGrowsUpToItsLimitAndKeepsTheContentType) {
  ApplyOne(PutCommand("a", "he", "text/plain"));
  ApplyResult r = ApplyOne(AppendCommand("a", "llo", 8));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.integer, 5);
  EXPECT_EQ(ValueOf("a"), "hello");
  EXPECT_EQ(DecodeRecord(**engine_->Get(DataKey("a")))->content_type, "text/plain");
  EXPECT_EQ(ApplyOne(AppendCommand("a", "1234", 8)).status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ValueOf("a"), "hello");
  EXPECT_EQ(ApplyOne(AppendCommand("new", "x", 8)).integer, 1);
}

TEST_F(RespApplierTest, PutReturnOldReportsThePreviousValueEvenWhenRefused) {
  ApplyResult first = ApplyOne(PutReturnOldCommand("g", "1", Precondition::kNone));
  ASSERT_TRUE(first.status.ok());
  EXPECT_EQ(first.old_value, std::nullopt);
  EXPECT_TRUE(first.created);
  ApplyResult second = ApplyOne(PutReturnOldCommand("g", "2", Precondition::kMustExist));
  EXPECT_EQ(second.old_value, "1");
  ApplyResult refused = ApplyOne(PutReturnOldCommand("g", "3", Precondition::kMustNotExist));
  EXPECT_EQ(refused.status.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(refused.old_value, "2");
  EXPECT_EQ(ValueOf("g"), "2");
  EXPECT_EQ(ApplyOne(PutReturnOldCommand("h", "x", Precondition::kMustExist)).status.code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ValueOf("h"), std::nullopt);
}

TEST_F(RespApplierTest, PutManyWritesEveryPairAtOneRevision) {
  ApplyResult r = ApplyOne(PutManyCommand({{"a", "1"}, {"b", "2"}, {"a", "3"}}));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(ValueOf("a"), "3");  // the later pair wins, as in Redis
  EXPECT_EQ(ValueOf("b"), "2");
  EXPECT_EQ(DecodeRecord(**engine_->Get(DataKey("b")))->revision, r.revision);
}

TEST_F(RespApplierTest, DeleteManyCountsEachPresentKeyOnce) {
  ApplyOne(PutManyCommand({{"a", "1"}, {"b", "2"}}));
  ApplyResult r = ApplyOne(DeleteManyCommand({"a", "a", "missing", "b"}));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.integer, 2);
  EXPECT_EQ(ValueOf("a"), std::nullopt);
  EXPECT_EQ(ApplyOne(DeleteManyCommand({"a"})).integer, 0);
}

TEST_F(RespApplierTest, CommandsInOneBatchSeeEachOther) {
  BatchApplier a(engine_.get());
  EXPECT_EQ(a.Apply(IncrementByCommand("n", 1), LogIndex(1)).integer, 1);
  EXPECT_EQ(a.Apply(IncrementByCommand("n", 1), LogIndex(2)).integer, 2);
  EXPECT_EQ(a.Apply(AppendCommand("n", "0", 100), LogIndex(3)).integer, 2);  // "20"
  EXPECT_EQ(a.Apply(PutReturnOldCommand("n", "x", Precondition::kNone), LogIndex(4)).old_value,
            "20");
  EXPECT_TRUE(a.Apply(ClearCommand(), LogIndex(5)).status.ok());
  EXPECT_EQ(a.Apply(IncrementByCommand("n", 3), LogIndex(6)).integer, 3);
  EXPECT_EQ(a.Apply(DeleteManyCommand({"n"}), LogIndex(7)).integer, 1);
  EXPECT_EQ(a.Apply(AppendCommand("n", "z", 100), LogIndex(8)).integer, 1);
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_EQ(ValueOf("n"), "z");
  EXPECT_EQ(engine_->AppliedIndex(), LogIndex(8));
}

}  // namespace
}  // namespace nds::store
