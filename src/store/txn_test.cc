// Goal: transactions (txn.h) survive encoding, reject malformed log bytes, and are decided when
// applied: compares see the state left by earlier commands (also earlier in the same batch), the
// branch taken writes at the transaction's one revision, and later ops see earlier ones; the keys
// a branch attaches to a lease fit in its limit together.
// Method: encode/decode round trips and every truncation; BatchApplier over the memory engine.
#include "store/txn.h"

#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "store/applier.h"
#include "store/applier_fixture_for_test.h"
#include "store/lease_state.h"

namespace nds::store {
namespace {

Txn Sample() {
  Txn t;
  t.compares = {{TxnCompareKind::kRevision, "a", 7, "", false},
                {TxnCompareKind::kValue, "b", 0, std::string("v\0w", 3), false},
                {TxnCompareKind::kExists, "c", 0, "", true}};
  t.success = {{TxnOpKind::kPut, "a", "new", "text/plain"}, {TxnOpKind::kDelete, "b", "", ""}};
  t.failure = {{TxnOpKind::kGet, "a", "", ""}};
  return t;
}

TEST(TxnCodec, RoundTripsThroughTheLogCommand) {
  std::string buf;
  EncodeCommand(TxnCommand(Sample()), &buf);
  auto cmd = DecodeCommand(buf);
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->type, CommandType::kTxn);
  auto back = DecodeTxn(cmd->value);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, Sample());
  EXPECT_EQ(*DecodeTxn(EncodeTxn(Txn{})), Txn{});
}

TEST(TxnCodec, EveryTruncationAndBadFieldIsCorruption) {
  const std::string good = EncodeTxn(Sample());
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(DecodeTxn(good.substr(0, n)).status().code(), StatusCode::kCorruption) << n;
  }
  EXPECT_EQ(DecodeTxn(good + "x").status().code(), StatusCode::kCorruption);
  std::string bad_version = good;
  bad_version[0] = 9;
  EXPECT_EQ(DecodeTxn(bad_version).status().code(), StatusCode::kCorruption);
  Txn empty_key = Sample();
  empty_key.success[0].key.clear();
  EXPECT_EQ(DecodeTxn(EncodeTxn(empty_key)).status().code(), StatusCode::kCorruption);
  std::string huge_count = good.substr(0, 1) + std::string("\xff\xff\xff\xff\x0f", 5);
  EXPECT_EQ(DecodeTxn(huge_count).status().code(), StatusCode::kCorruption);
  Command with_key = TxnCommand(Sample());
  with_key.key = "k";
  std::string buf;
  EncodeCommand(with_key, &buf);
  EXPECT_EQ(DecodeCommand(buf).status().code(), StatusCode::kCorruption);
}

class TxnApplierTest : public ApplierFixture {};

TEST_F(TxnApplierTest, TheSuccessBranchWritesEverythingAtOneRevision) {
  ApplyOne(PutCommand("a", "1"));  // revision 1
  ApplyOne(PutCommand("b", "x"));  // revision 2
  Txn t;
  t.compares = {{TxnCompareKind::kRevision, "a", 1, "", false},
                {TxnCompareKind::kValue, "b", 0, "x", false},
                {TxnCompareKind::kExists, "c", 0, "", false},
                {TxnCompareKind::kRevision, "c", 0, "", false}};
  t.success = {{TxnOpKind::kPut, "a", "2", "text/plain"},
               {TxnOpKind::kPut, "c", "3", ""},
               {TxnOpKind::kDelete, "b", "", ""},
               {TxnOpKind::kDelete, "nope", "", ""},
               {TxnOpKind::kGet, "c", "", ""}};
  t.failure = {{TxnOpKind::kPut, "failed", "yes", ""}};
  ApplyResult r = ApplyOne(TxnCommand(t));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_NE(r.txn, nullptr);
  EXPECT_TRUE(r.txn->succeeded);
  EXPECT_EQ(r.revision, 3u);
  ASSERT_EQ(r.txn->results.size(), 5u);
  EXPECT_EQ(r.txn->results[0].revision, 3u);
  EXPECT_TRUE(r.txn->results[2].found);   // b was there and is gone
  EXPECT_FALSE(r.txn->results[3].found);  // nope was not
  EXPECT_TRUE(r.txn->results[4].found);   // the get sees the put before it
  EXPECT_EQ(r.txn->results[4].value, "3");
  EXPECT_EQ(r.txn->results[4].revision, 3u);
  EXPECT_EQ(RecordOf("a")->revision, 3u);
  EXPECT_EQ(RecordOf("a")->content_type, "text/plain");
  EXPECT_EQ(RecordOf("c")->value, "3");
  EXPECT_FALSE(RecordOf("b").has_value());
  EXPECT_FALSE(RecordOf("failed").has_value());
}

TEST_F(TxnApplierTest, OneFalseCompareRunsTheFailureBranchAndNothingElse) {
  ApplyOne(PutCommand("a", "1"));
  Txn t;
  t.compares = {{TxnCompareKind::kExists, "a", 0, "", true},
                {TxnCompareKind::kValue, "a", 0, "other", false}};
  t.success = {{TxnOpKind::kPut, "a", "won", ""}};
  t.failure = {{TxnOpKind::kGet, "a", "", ""}, {TxnOpKind::kGet, "missing", "", ""}};
  ApplyResult r = ApplyOne(TxnCommand(t));
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.txn->succeeded);
  ASSERT_EQ(r.txn->results.size(), 2u);
  EXPECT_EQ(r.txn->results[0].value, "1");
  EXPECT_EQ(r.txn->results[0].revision, 1u);
  EXPECT_FALSE(r.txn->results[1].found);
  EXPECT_EQ(RecordOf("a")->value, "1");
  EXPECT_EQ(RecordOf("a")->revision, 1u);
}

TEST_F(TxnApplierTest, ComparesSeeEarlierCommandsOfTheSameBatch) {
  // Two compare-and-swaps from the same revision in one batch: only the first wins.
  ApplyOne(PutCommand("lock", "free"));  // revision 1
  Txn take;
  take.compares = {{TxnCompareKind::kRevision, "lock", 1, "", false}};
  take.success = {{TxnOpKind::kPut, "lock", "mine", ""}};
  BatchApplier a(engine_.get());
  ApplyResult first = a.Apply(TxnCommand(take), LogIndex(2));
  ApplyResult second = a.Apply(TxnCommand(take), LogIndex(3));
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_TRUE(first.txn->succeeded);
  EXPECT_FALSE(second.txn->succeeded);
  EXPECT_EQ(RecordOf("lock")->revision, 2u);
}

TEST_F(TxnApplierTest, ATransactionCannotAttachMoreKeysToALeaseThanItsLimit) {
  // A lease of at most 3 keys that holds 1: each put alone would fit, three together do not.
  const uint64_t lease = ApplyOne(LeaseGrantCommand(1000, 3, 100, "")).revision;
  Command put = PutCommand("a", "v");
  put.lease_id = lease;
  ASSERT_TRUE(ApplyOne(put).status.ok());
  Txn t;
  for (const char* key : {"a", "b", "c", "d"}) {
    t.success.push_back(TxnOp{TxnOpKind::kPut, key, "w", "", lease});
  }
  ApplyResult r = ApplyOne(TxnCommand(t));
  EXPECT_EQ(r.status.code(), StatusCode::kResourceExhausted) << r.status.ToString();
  EXPECT_EQ(RecordOf("a")->value, "v");  // nothing written
  EXPECT_FALSE(RecordOf("b").has_value());
  EXPECT_FALSE(RecordOf("d").has_value());
  // Exactly up to the limit (a key already attached and a key named twice need no new room).
  t.success = {
      TxnOp{TxnOpKind::kPut, "a", "w", "", lease}, TxnOp{TxnOpKind::kPut, "b", "w", "", lease},
      TxnOp{TxnOpKind::kPut, "c", "w", "", lease}, TxnOp{TxnOpKind::kPut, "c", "x", "", lease}};
  r = ApplyOne(TxnCommand(t));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  auto keys = ReadAttachedKeys(*engine_->NewView(), lease);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(ReadLease(*engine_->NewView(), lease)->value().keys_count, 3u);
}

}  // namespace
}  // namespace nds::store
