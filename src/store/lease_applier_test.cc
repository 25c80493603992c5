// Goal: lease commands survive encoding and are decided at apply time: a grant makes a lease whose
// id is its index; puts and transactions attach keys; revocation and expiry delete every key
// still attached, all at one revision; an expiry based on an older keepalive does nothing (a
// keepalive raced it); limits hold. Method: BatchApplier over the in-memory engine.
#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "store/applier.h"
#include "store/applier_fixture_for_test.h"
#include "store/command.h"
#include "store/lease_state.h"
#include "store/txn.h"

namespace nds::store {
namespace {

TEST(LeaseCommand, RoundTripsEveryType) {
  Command put = PutCommand("k", "v");
  put.lease_id = 42;
  for (const Command& c :
       {LeaseGrantCommand(5000, 10, 100, "app/"), LeaseKeepAliveCommand({1, 2, 300}),
        LeaseRevokeCommand(7), LeaseExpireCommand(7, 9), put}) {
    std::string buf;
    EncodeCommand(c, &buf);
    auto back = DecodeCommand(buf);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, c);
  }
}

TEST(LeaseCommand, PutWithoutLeaseEncodesAsBefore) {
  std::string with, without;
  EncodeCommand(PutCommand("k", "v"), &without);
  Command put = PutCommand("k", "v");
  put.lease_id = 3;
  EncodeCommand(put, &with);
  EXPECT_EQ(with.substr(0, without.size()), without);
  EXPECT_GT(with.size(), without.size());
}

TEST(LeaseCommand, MalformedIsCorruption) {
  Command revoke = LeaseRevokeCommand(0);
  Command keepalive = LeaseKeepAliveCommand({1});
  keepalive.value = EncodeStringList({"0"});
  Command grant = LeaseGrantCommand(1000, 1, 1, "");
  grant.value = "x";
  for (const Command& c : {revoke, keepalive, grant}) {
    std::string buf;
    EncodeCommand(c, &buf);
    EXPECT_EQ(DecodeCommand(buf).status().code(), StatusCode::kCorruption);
  }
  std::string put;
  EncodeCommand(PutCommand("k", "v"), &put);
  put += "L";
  put.push_back(0);  // lease id 0 in the trailing slot
  EXPECT_EQ(DecodeCommand(put).status().code(), StatusCode::kCorruption);
}

class LeaseApplier : public ApplierFixture {
 protected:
  uint64_t Grant(uint64_t ttl_ms = 1000, uint64_t keys_max = 100, std::string prefix = {}) {
    ApplyResult r = ApplyOne(LeaseGrantCommand(ttl_ms, keys_max, 1000, std::move(prefix)));
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    return r.revision;
  }
  ApplyResult PutLeased(std::string key, uint64_t lease) {
    Command c = PutCommand(std::move(key), "v");
    c.lease_id = lease;
    return ApplyOne(c);
  }
  std::optional<LeaseRecord> Lease(uint64_t id) {
    auto r = ReadLease(*engine_->NewView(), id);
    EXPECT_TRUE(r.ok());
    return *r;
  }
  std::vector<std::string> Keys(uint64_t id) {
    auto r = ReadAttachedKeys(*engine_->NewView(), id);
    EXPECT_TRUE(r.ok());
    return *r;
  }
};

TEST_F(LeaseApplier, GrantIdIsItsIndexAndRevokeDeletesAttachedKeysAtOneRevision) {
  const uint64_t id = Grant();
  ASSERT_TRUE(Lease(id).has_value());
  EXPECT_EQ(Lease(id)->keepalive_index, id);
  ASSERT_TRUE(PutLeased("a", id).status.ok());
  ASSERT_TRUE(PutLeased("b", id).status.ok());
  ASSERT_TRUE(ApplyOne(PutCommand("c", "plain")).status.ok());
  EXPECT_EQ(Keys(id), (std::vector<std::string>{"a", "b"}));
  ApplyResult r = ApplyOne(LeaseRevokeCommand(id));
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(ValueOf("a"));
  EXPECT_FALSE(ValueOf("b"));
  EXPECT_EQ(ValueOf("c"), "plain");
  EXPECT_EQ(engine_->AppliedIndex().value, r.revision);
  EXPECT_FALSE(Lease(id));
  EXPECT_EQ(ApplyOne(LeaseRevokeCommand(id)).status.code(), StatusCode::kNotFound);
}

TEST_F(LeaseApplier, APlainWriteDetachesAKeySoTheLeaseDoesNotDeleteIt) {
  const uint64_t id = Grant();
  ASSERT_TRUE(PutLeased("a", id).status.ok());
  ASSERT_TRUE(ApplyOne(PutCommand("a", "mine now")).status.ok());
  EXPECT_TRUE(Keys(id).empty());
  ASSERT_TRUE(ApplyOne(LeaseRevokeCommand(id)).status.ok());
  EXPECT_EQ(ValueOf("a"), "mine now");
}

TEST_F(LeaseApplier, UnknownLeaseOrKeyOutsideItsPrefixIsRefusedAndWritesNothing) {
  EXPECT_EQ(PutLeased("a", 999).status.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ValueOf("a"));
  const uint64_t id = Grant(1000, 100, "app/");
  EXPECT_EQ(PutLeased("other", id).status.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ValueOf("other"));
  EXPECT_TRUE(PutLeased("app/x", id).status.ok());
}

TEST_F(LeaseApplier, KeysPerLeaseAndLeasesPerClusterAreLimited) {
  const uint64_t id = Grant(1000, 2);
  EXPECT_TRUE(PutLeased("a", id).status.ok());
  EXPECT_TRUE(PutLeased("b", id).status.ok());
  EXPECT_TRUE(PutLeased("a", id).status.ok());  // already attached: no new room needed
  EXPECT_EQ(PutLeased("c", id).status.code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(ValueOf("c"));
  EXPECT_TRUE(ApplyOne(LeaseGrantCommand(1000, 1, 2, "")).status.ok());  // the second lease
  EXPECT_EQ(ApplyOne(LeaseGrantCommand(1000, 1, 2, "")).status.code(),
            StatusCode::kResourceExhausted);
  ASSERT_TRUE(ApplyOne(LeaseRevokeCommand(id)).status.ok());
  EXPECT_TRUE(ApplyOne(LeaseGrantCommand(1000, 1, 2, "")).status.ok());  // room again
}

TEST_F(LeaseApplier, KeepAliveAnswersEachTtlAndMovesTheKeepaliveIndex) {
  const uint64_t a = Grant(1000);
  const uint64_t b = Grant(2000);
  ApplyResult r = ApplyOne(LeaseKeepAliveCommand({b, 12345, a}));
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.lease_ttls_ms);
  EXPECT_EQ(*r.lease_ttls_ms, (std::vector<uint64_t>{2000, 0, 1000}));
  EXPECT_EQ(Lease(a)->keepalive_index, r.revision);
  EXPECT_EQ(Lease(b)->keepalive_index, r.revision);
}

TEST_F(LeaseApplier, ExpiryBasedOnAnOlderKeepaliveDoesNothing) {
  const uint64_t id = Grant();
  ASSERT_TRUE(PutLeased("a", id).status.ok());
  // The keeper decided on keepalive index `id`; a keepalive was applied before its expiry.
  ApplyResult kept = ApplyOne(LeaseKeepAliveCommand({id}));
  ASSERT_TRUE(kept.status.ok());
  EXPECT_EQ(ApplyOne(LeaseExpireCommand(id, id)).status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ValueOf("a"), "v");
  // Based on the latest keepalive, it expires.
  EXPECT_TRUE(ApplyOne(LeaseExpireCommand(id, kept.revision)).status.ok());
  EXPECT_FALSE(ValueOf("a"));
  EXPECT_FALSE(Lease(id));
}

TEST_F(LeaseApplier, GrantAttachAndRevokeInOneBatchSeeEachOther) {
  BatchApplier a(engine_.get());
  ASSERT_TRUE(a.Apply(LeaseGrantCommand(1000, 10, 1000, ""), LogIndex{1}).status.ok());
  Command put = PutCommand("a", "v");
  put.lease_id = 1;
  ASSERT_TRUE(a.Apply(put, LogIndex{2}).status.ok());
  Txn txn;
  txn.success.push_back(TxnOp{TxnOpKind::kPut, "b", "w", "", 1});
  ASSERT_TRUE(a.Apply(TxnCommand(txn), LogIndex{3}).status.ok());
  ASSERT_TRUE(a.Apply(LeaseRevokeCommand(1), LogIndex{4}).status.ok());
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_FALSE(ValueOf("a"));
  EXPECT_FALSE(ValueOf("b"));
  EXPECT_FALSE(Lease(1));
}

TEST_F(LeaseApplier, TransactionWithAnUnknownLeaseChangesNothing) {
  Txn txn;
  txn.success.push_back(TxnOp{TxnOpKind::kPut, "a", "v", "", 0});
  txn.success.push_back(TxnOp{TxnOpKind::kPut, "b", "v", "", 77});
  std::string buf;
  EncodeCommand(TxnCommand(txn), &buf);
  auto back = DecodeCommand(buf);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*DecodeTxn(back->value), txn);
  EXPECT_EQ(ApplyOne(TxnCommand(txn)).status.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ValueOf("a"));
}

TEST_F(LeaseApplier, ReadLeasesListsEveryLeaseInIdOrder) {
  const uint64_t a = Grant(1000);
  const uint64_t b = Grant(3000);
  auto leases = ReadLeases(*engine_->NewView());
  ASSERT_TRUE(leases.ok());
  ASSERT_EQ(leases->size(), 2u);
  EXPECT_EQ((*leases)[0].id, a);
  EXPECT_EQ((*leases)[1].id, b);
  EXPECT_EQ((*leases)[1].ttl_ms, 3000u);
}

}  // namespace
}  // namespace nds::store
