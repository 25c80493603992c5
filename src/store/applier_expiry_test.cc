// Goal: key expiry on leases (kExpire, kPutExpiring) keeps docs/resp.md's promises: each
// expiring key has a lease of its own that its record names; rewriting or deleting the key
// without keeping its expiry drops that lease (the lease count goes back), INCR/APPEND/KEEPTTL
// keep it, PERSIST removes it, the expiry of the lease deletes the key, NX/XX conditions hold,
// --max-leases bounds the expiring keys, and malformed log bytes are refused.
// Method: BatchApplier over the in-memory engine, one command per batch (ApplierFixture) and
// several in one batch; the lease state read back with lease_state.h.
#include <gtest/gtest.h>

#include "store/applier.h"
#include "store/applier_fixture_for_test.h"
#include "store/command.h"
#include "store/keyspace.h"
#include "store/lease_state.h"

namespace nds::store {
namespace {

class ExpiryTest : public ApplierFixture {
 protected:
  uint64_t LeaseOf(std::string_view key) {
    auto bytes = engine_->Get(DataKey(key));
    if (!bytes.ok() || !*bytes) return 0;
    return DecodeRecord(**bytes)->lease_id;
  }
  size_t LeaseCount() {
    auto leases = ReadLeases(*engine_->NewView());
    EXPECT_TRUE(leases.ok());
    return leases.ok() ? leases->size() : 0;
  }
  std::optional<LeaseRecord> Lease(uint64_t id) {
    auto lease = ReadLease(*engine_->NewView(), id);
    EXPECT_TRUE(lease.ok());
    return lease.ok() ? *lease : std::nullopt;
  }
};

TEST(ExpiryCommand, RoundTripsAndRefusesMalformedFields) {
  for (const Command& c : {ExpireCommand("k", 1500, Precondition::kMustNotExist, 7),
                           ExpireCommand("k", 0, Precondition::kNone, 7),
                           PutExpiringCommand("k", "v", Precondition::kMustExist, 10, true, 3),
                           PutExpiringCommand("k", "v", Precondition::kNone, 0, false, 3)}) {
    std::string buf;
    EncodeCommand(c, &buf);
    auto back = DecodeCommand(buf);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, c);
  }
  Command no_key = ExpireCommand("k", 10, Precondition::kNone, 7);
  no_key.key.clear();
  Command with_value = ExpireCommand("k", 10, Precondition::kNone, 7);
  with_value.value = "x";
  Command no_limit = PutExpiringCommand("k", "v", Precondition::kNone, 10, false, 3);
  no_limit.member_id = 0;
  Command revision_pre = PutExpiringCommand("k", "v", Precondition::kNone, 10, false, 3);
  revision_pre.precondition = Precondition::kRevisionEquals;
  for (const Command& c : {no_key, with_value, no_limit, revision_pre}) {
    std::string buf;
    EncodeCommand(c, &buf);
    EXPECT_EQ(DecodeCommand(buf).status().code(), StatusCode::kCorruption);
  }
  std::string buf;
  EncodeCommand(PutExpiringCommand("k", "v", Precondition::kNone, 10, true, 3), &buf);
  buf.back() = 2;  // the return-old flag is 0 or 1
  EXPECT_EQ(DecodeCommand(buf).status().code(), StatusCode::kCorruption);
}

TEST(ExpiryRecord, RecordsWithoutALeaseKeepTheirOldEncoding) {
  std::string plain = EncodeRecord(5, "text/plain", "v");
  EXPECT_EQ(plain[0], 1);
  std::string leased = EncodeRecord(5, "text/plain", "v", 42);
  EXPECT_EQ(leased[0], 2);
  auto back = DecodeRecord(leased);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->revision, 5u);
  EXPECT_EQ(back->lease_id, 42u);
  EXPECT_EQ(back->value, "v");
  EXPECT_EQ(DecodeRecord(plain)->lease_id, 0u);
}

TEST_F(ExpiryTest, SetWithExpiryGrantsOneLeaseNamedByTheRecord) {
  ApplyResult r = ApplyOne(PutExpiringCommand("k", "v", Precondition::kNone, 5000, false, 100));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(r.created);
  EXPECT_EQ(LeaseOf("k"), r.revision);
  auto lease = Lease(r.revision);
  ASSERT_TRUE(lease);
  EXPECT_TRUE(IsExpiryLease(*lease));
  EXPECT_EQ(lease->ttl_ms, 5000u);
  auto keys = ReadAttachedKeys(*engine_->NewView(), r.revision);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, std::vector<std::string>{"k"});
  // A second SET EX replaces the lease: still one.
  ApplyResult again = ApplyOne(PutExpiringCommand("k", "w", Precondition::kNone, 9000, true, 100));
  ASSERT_TRUE(again.status.ok());
  EXPECT_EQ(again.old_value, "v");
  EXPECT_EQ(LeaseCount(), 1u);
  EXPECT_FALSE(Lease(r.revision));
  EXPECT_EQ(Lease(again.revision)->ttl_ms, 9000u);
}

TEST_F(ExpiryTest, PlainWritesAndDeletesDropTheKeysExpiryLease) {
  ASSERT_TRUE(
      ApplyOne(PutExpiringCommand("a", "1", Precondition::kNone, 5000, false, 100)).status.ok());
  ASSERT_TRUE(
      ApplyOne(PutExpiringCommand("b", "2", Precondition::kNone, 5000, false, 100)).status.ok());
  ASSERT_TRUE(
      ApplyOne(PutExpiringCommand("c", "3", Precondition::kNone, 5000, false, 100)).status.ok());
  EXPECT_EQ(LeaseCount(), 3u);
  ASSERT_TRUE(ApplyOne(PutCommand("a", "plain")).status.ok());
  EXPECT_EQ(LeaseOf("a"), 0u);
  EXPECT_EQ(LeaseCount(), 2u);
  ASSERT_TRUE(ApplyOne(DeleteManyCommand({"b"})).status.ok());
  EXPECT_EQ(LeaseCount(), 1u);
  ASSERT_TRUE(ApplyOne(PutReturnOldCommand("c", "x", Precondition::kNone)).status.ok());
  EXPECT_EQ(LeaseCount(), 0u);
  // The cluster's lease count came back too: a grant at a limit of 1 fits.
  EXPECT_TRUE(ApplyOne(LeaseGrantCommand(1000, 10, 1, "")).status.ok());
}

TEST_F(ExpiryTest, IncrAppendAndKeepTtlKeepTheExpiry) {
  ApplyResult set = ApplyOne(PutExpiringCommand("n", "1", Precondition::kNone, 5000, false, 100));
  ASSERT_TRUE(ApplyOne(IncrementByCommand("n", 2)).status.ok());
  EXPECT_EQ(LeaseOf("n"), set.revision);
  ASSERT_TRUE(ApplyOne(AppendCommand("n", "0", 100)).status.ok());
  EXPECT_EQ(LeaseOf("n"), set.revision);
  ASSERT_TRUE(
      ApplyOne(PutExpiringCommand("n", "k", Precondition::kNone, 0, false, 100)).status.ok());
  EXPECT_EQ(LeaseOf("n"), set.revision);
  EXPECT_EQ(ValueOf("n"), "k");
  // The lease still holds the key at its latest revision: its expiry deletes it.
  auto keys = ReadAttachedKeys(*engine_->NewView(), set.revision);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, std::vector<std::string>{"n"});
  ApplyResult expired = ApplyOne(LeaseExpireCommand(set.revision, set.revision));
  ASSERT_TRUE(expired.status.ok()) << expired.status.ToString();
  EXPECT_FALSE(ValueOf("n"));
  EXPECT_EQ(LeaseCount(), 0u);
}

TEST_F(ExpiryTest, ExpireAndPersistAnswerAsRedisDoes) {
  EXPECT_EQ(ApplyOne(ExpireCommand("missing", 1000, Precondition::kNone, 100)).integer, 0);
  ApplyOne(PutCommand("k", "v", "text/plain"));
  EXPECT_EQ(ApplyOne(ExpireCommand("k", 0, Precondition::kNone, 100)).integer, 0);  // PERSIST
  EXPECT_EQ(ApplyOne(ExpireCommand("k", 1000, Precondition::kMustExist, 100)).integer, 0);  // XX
  ApplyResult set = ApplyOne(ExpireCommand("k", 1000, Precondition::kMustNotExist, 100));
  EXPECT_EQ(set.integer, 1);
  EXPECT_EQ(LeaseOf("k"), set.revision);
  EXPECT_EQ(ApplyOne(ExpireCommand("k", 2000, Precondition::kMustNotExist, 100)).integer, 0);
  ApplyResult reset = ApplyOne(ExpireCommand("k", 2000, Precondition::kMustExist, 100));
  EXPECT_EQ(reset.integer, 1);
  EXPECT_EQ(LeaseCount(), 1u);
  EXPECT_EQ(Lease(reset.revision)->ttl_ms, 2000u);
  // The value and content type stay; the key has a new revision.
  EXPECT_EQ(RecordOf("k")->content_type, "text/plain");
  EXPECT_EQ(RecordOf("k")->revision, reset.revision);
  EXPECT_EQ(ApplyOne(ExpireCommand("k", 0, Precondition::kNone, 100)).integer, 1);
  EXPECT_EQ(LeaseOf("k"), 0u);
  EXPECT_EQ(LeaseCount(), 0u);
  EXPECT_EQ(ValueOf("k"), "v");
}

TEST_F(ExpiryTest, MaxLeasesBoundsExpiringKeysButAReplacementFits) {
  ASSERT_TRUE(
      ApplyOne(PutExpiringCommand("a", "1", Precondition::kNone, 5000, false, 2)).status.ok());
  ASSERT_TRUE(
      ApplyOne(PutExpiringCommand("b", "1", Precondition::kNone, 5000, false, 2)).status.ok());
  ApplyResult full = ApplyOne(PutExpiringCommand("c", "1", Precondition::kNone, 5000, false, 2));
  EXPECT_EQ(full.status.code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(ValueOf("c"));  // nothing written
  EXPECT_EQ(ApplyOne(ExpireCommand("a", 100, Precondition::kNone, 2)).status.code(),
            StatusCode::kOk);  // replaces a's own lease
  EXPECT_EQ(LeaseCount(), 2u);
}

TEST_F(ExpiryTest, AnExpiryLeaseTakesNoOtherKey) {
  ApplyResult set = ApplyOne(PutExpiringCommand("k", "v", Precondition::kNone, 5000, false, 100));
  Command other = PutCommand("other", "v");
  other.lease_id = set.revision;
  EXPECT_EQ(ApplyOne(other).status.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ValueOf("other"));
}

TEST_F(ExpiryTest, ConditionsSeeEarlierCommandsOfTheSameBatch) {
  BatchApplier a(engine_.get());
  ApplyResult set =
      a.Apply(PutExpiringCommand("k", "v", Precondition::kNone, 5000, false, 100), LogIndex{1});
  ApplyResult nx = a.Apply(ExpireCommand("k", 10, Precondition::kMustNotExist, 100), LogIndex{2});
  ApplyResult persist = a.Apply(ExpireCommand("k", 0, Precondition::kNone, 100), LogIndex{3});
  ApplyResult del = a.Apply(DeleteManyCommand({"k"}), LogIndex{4});
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_TRUE(set.status.ok());
  EXPECT_EQ(nx.integer, 0);
  EXPECT_EQ(persist.integer, 1);
  EXPECT_EQ(del.integer, 1);
  EXPECT_EQ(LeaseCount(), 0u);
}

}  // namespace
}  // namespace nds::store
