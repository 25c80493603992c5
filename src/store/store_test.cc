// Goal: store commands survive encoding, apply with the right preconditions and revisions (also
// several in one batch), and scans see one consistent view in key order.
// Method: encode/decode round trips and hostile bytes; BatchApplier over the in-memory engine.
#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "store/applier.h"
#include "store/command.h"
#include "store/keyspace.h"
#include "store/scanner.h"

namespace nds::store {
namespace {

TEST(Command, RoundTripsEveryType) {
  for (const Command& c :
       {PutCommand("a/b", std::string("v\0x", 3), "text/plain", Precondition::kRevisionEquals, 7),
        DeleteCommand("k"), ClearCommand(), PutSecretCommand(std::string(32, 'L'), "blob"),
        PutSystemCommand(MemberKeyName(3), "info"), DeleteSystemCommand("x")}) {
    std::string buf;
    EncodeCommand(c, &buf);
    auto back = DecodeCommand(buf);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, c);
  }
}

TEST(Command, HostileBytesAreCorruptionNeverACrash) {
  std::string good;
  EncodeCommand(PutCommand("key", "value"), &good);
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeCommand(good.substr(0, n)).ok()) << n;  // every truncation
  }
  EXPECT_FALSE(DecodeCommand(good + "x").ok());  // trailing garbage
  std::string bad_version = good;
  bad_version[0] = 9;
  EXPECT_EQ(DecodeCommand(bad_version).status().code(), StatusCode::kCorruption);
  std::string bad_type = good;
  bad_type[1] = 77;
  EXPECT_FALSE(DecodeCommand(bad_type).ok());
}

TEST(Record, RoundTripsAndRejectsUnknownVersions) {
  std::string r = EncodeRecord(42, "image/png", std::string("\0\1", 2));
  auto v = DecodeRecord(r);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->revision, 42u);
  EXPECT_EQ(v->content_type, "image/png");
  EXPECT_EQ(v->value, std::string("\0\1", 2));
  r[0] = 2;
  EXPECT_FALSE(DecodeRecord(r).ok());
}

class ApplierTest : public ::testing::Test {
 protected:
  ApplyResult ApplyOne(const Command& c) {
    BatchApplier a(engine_.get());
    ApplyResult r = a.Apply(c, next_.Next());
    next_ = next_.Next();
    EXPECT_TRUE(a.Commit(engine_.get(), true).ok());
    return r;
  }
  std::optional<uint64_t> RevisionOf(std::string_view key) {
    auto bytes = engine_->Get(DataKey(key));
    if (!bytes.ok() || !*bytes) return std::nullopt;
    return DecodeRecord(**bytes)->revision;
  }

  std::unique_ptr<engine::Engine> engine_ = engine::NewMemoryEngine();
  LogIndex next_{0};
};

TEST_F(ApplierTest, PutCreatesThenReplacesWithTheIndexAsRevision) {
  ApplyResult r1 = ApplyOne(PutCommand("k", "v1"));
  EXPECT_TRUE(r1.status.ok());
  EXPECT_TRUE(r1.created);
  EXPECT_EQ(r1.revision, 1u);
  ApplyResult r2 = ApplyOne(PutCommand("k", "v2"));
  EXPECT_FALSE(r2.created);
  EXPECT_EQ(RevisionOf("k"), 2u);
  EXPECT_EQ(engine_->AppliedIndex(), LogIndex(2));
}

TEST_F(ApplierTest, PreconditionsDecideAndFailuresChangeNothing) {
  EXPECT_TRUE(ApplyOne(PutCommand("k", "v", "", Precondition::kMustNotExist)).status.ok());
  EXPECT_EQ(ApplyOne(PutCommand("k", "w", "", Precondition::kMustNotExist)).status.code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(ApplyOne(PutCommand("k", "w", "", Precondition::kRevisionEquals, 99)).status.code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(RevisionOf("k"), 1u);
  EXPECT_TRUE(ApplyOne(PutCommand("k", "w", "", Precondition::kRevisionEquals, 1)).status.ok());
  EXPECT_EQ(ApplyOne(DeleteCommand("missing")).status.code(), StatusCode::kNotFound);
  EXPECT_EQ(ApplyOne(DeleteCommand("missing", Precondition::kRevisionEquals, 1)).status.code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApplyOne(DeleteCommand("k", Precondition::kRevisionEquals, 1)).status.code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ApplyOne(DeleteCommand("k", Precondition::kRevisionEquals, 4)).status.ok());
  EXPECT_EQ(RevisionOf("k"), std::nullopt);
  EXPECT_EQ(engine_->AppliedIndex(), LogIndex(8));  // failed commands consumed their index
}

TEST_F(ApplierTest, LaterCommandsInOneBatchSeeEarlierOnes) {
  BatchApplier a(engine_.get());
  EXPECT_TRUE(
      a.Apply(PutCommand("x", "1", "", Precondition::kMustNotExist), LogIndex(1)).status.ok());
  EXPECT_EQ(
      a.Apply(PutCommand("x", "2", "", Precondition::kMustNotExist), LogIndex(2)).status.code(),
      StatusCode::kAlreadyExists);
  EXPECT_TRUE(
      a.Apply(PutCommand("x", "3", "", Precondition::kRevisionEquals, 1), LogIndex(3)).status.ok());
  EXPECT_TRUE(a.Apply(DeleteCommand("x"), LogIndex(4)).status.ok());
  EXPECT_EQ(a.Apply(DeleteCommand("x"), LogIndex(5)).status.code(), StatusCode::kNotFound);
  EXPECT_TRUE(a.Apply(PutCommand("y", "1"), LogIndex(6)).status.ok());
  a.Skip(LogIndex(7));
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_EQ(RevisionOf("x"), std::nullopt);
  EXPECT_EQ(RevisionOf("y"), 6u);
  EXPECT_EQ(engine_->AppliedIndex(), LogIndex(7));
}

TEST_F(ApplierTest, ClearRemovesUserKeysButNotSecrets) {
  ApplyOne(PutCommand("a", "1"));
  ApplyOne(PutCommand("b", "2"));
  ApplyOne(PutSecretCommand("loc", "blob"));
  ApplyOne(PutSystemCommand(MemberKeyName(1), "me"));
  BatchApplier a(engine_.get());
  EXPECT_TRUE(a.Apply(ClearCommand(), LogIndex(5)).status.ok());
  EXPECT_EQ(a.Apply(DeleteCommand("a"), LogIndex(6)).status.code(), StatusCode::kNotFound);
  EXPECT_TRUE(
      a.Apply(PutCommand("c", "3", "", Precondition::kMustNotExist), LogIndex(7)).status.ok());
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_EQ(RevisionOf("a"), std::nullopt);
  EXPECT_EQ(RevisionOf("b"), std::nullopt);
  EXPECT_EQ(RevisionOf("c"), 7u);
  EXPECT_TRUE(engine_->Get(SecretKey("loc"))->has_value());
  auto member = engine_->Get(SystemKey(MemberKeyName(1)));
  ASSERT_TRUE(member.ok() && member->has_value());
  EXPECT_EQ(**member, "me");
  EXPECT_EQ(MemberKeyName(42), "member/00000000000000000042");
}

TEST_F(ApplierTest, ScannerHonoursPrefixAfterAndLimitOnOneView) {
  for (const char* k : {"a", "p/1", "p/2", "p/3", "q"}) ApplyOne(PutCommand(k, k));
  ApplyOne(PutSecretCommand("zz", "hidden"));
  Scanner s(engine_->NewView(), ScanOptions{"p/", std::string("p/1"), 1});
  ApplyOne(PutCommand("p/15", "late"));  // after the view: invisible
  ASSERT_TRUE(*s.Next());
  EXPECT_EQ(s.key(), "p/2");
  EXPECT_FALSE(*s.Next());
  EXPECT_TRUE(s.more());

  Scanner all(engine_->NewView(), ScanOptions{});
  std::vector<std::string> keys;
  while (*all.Next()) keys.emplace_back(all.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "p/1", "p/15", "p/2", "p/3", "q"}));
  EXPECT_FALSE(all.more());
}

}  // namespace
}  // namespace nds::store
