// Goal: a write that a token allowed is applied only while the token's record is the one it was
// allowed with: a revocation (or a replacement) ordered before it in the log, in an earlier batch
// or earlier in the same batch, refuses it and writes nothing; an unchanged token lets it apply;
// writes without a token are encoded exactly as before. The kAuthorized wrapper decodes only when
// every field is well formed. Method: encode/decode round trips and hostile bytes; BatchApplier
// over the in-memory engine.
#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "store/applier.h"
#include "store/auth_state.h"
#include "store/command.h"
#include "store/keyspace.h"
#include "util/coding.h"

namespace nds::store {
namespace {

std::string Record(char hash_byte, TokenRole role = TokenRole::kWrite) {
  return EncodeTokenRecord(TokenRecord{role, "", std::string(kTokenHashBytes, hash_byte)});
}

Command Authorized(Command c, std::string_view name, std::string_view record) {
  c.authorized_by = Command::Authorization{std::string(name), TokenRecordDigest(record)};
  return c;
}

std::string Encoded(const Command& c) {
  std::string out;
  EncodeCommand(c, &out);
  return out;
}

// A wrapper laid out by hand, so that each field can be made wrong.
std::string Wrapper(uint8_t pre, uint64_t number, std::string_view name, std::string_view digest,
                    std::string_view inner) {
  std::string out;
  out.push_back(1);
  out.push_back(static_cast<char>(kAuthorizedCommandType));
  out.push_back(static_cast<char>(pre));
  PutVarint64(&out, number);
  PutLengthPrefixed(&out, name);
  PutLengthPrefixed(&out, digest);
  PutLengthPrefixed(&out, inner);
  return out;
}

TEST(AuthorizedCommand, RoundTripsEveryUserWriteAndLeavesPlainBytesAlone) {
  const std::string rec = Record('a');
  for (const Command& c :
       {PutCommand("k", "v", "text/plain", Precondition::kRevisionEquals, 7), DeleteCommand("k"),
        ClearCommand(), PutSecretCommand("loc", "blob"), IncrementByCommand("n", -3),
        AppendCommand("a", "t", 100), PutReturnOldCommand("g", "v", Precondition::kMustExist),
        PutManyCommand({{"a", "1"}}), DeleteManyCommand({"a", "b"})}) {
    const std::string plain = Encoded(c);
    EXPECT_EQ(plain[1], static_cast<char>(c.type)) << "a write without a token is not wrapped";
    Command wrapped = Authorized(c, "ci-writer", rec);
    const std::string bytes = Encoded(wrapped);
    EXPECT_EQ(bytes[1], static_cast<char>(kAuthorizedCommandType));
    EXPECT_NE(bytes.find(plain), std::string::npos) << "the inner command is the plain encoding";
    auto back = DecodeCommand(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, wrapped);
    auto plain_back = DecodeCommand(plain);
    ASSERT_TRUE(plain_back.ok());
    EXPECT_FALSE(plain_back->authorized_by.has_value());
  }
}

TEST(AuthorizedCommand, MalformedOrNestedWrappersAreCorruption) {
  const std::string digest = TokenRecordDigest(Record('a'));
  const std::string inner = Encoded(PutCommand("k", "v"));
  ASSERT_TRUE(DecodeCommand(Wrapper(0, 0, "ci", digest, inner)).ok());
  const std::string nested = Encoded(Authorized(PutCommand("k", "v"), "ci", Record('a')));
  const std::string system = Encoded(DeleteSystemCommand(TokenKeyName("ci")));
  const std::string member = Encoded(RemoveMemberCommand(3));
  for (const std::string& bad : {
           Wrapper(1, 0, "ci", digest, inner),                  // a precondition
           Wrapper(0, 5, "ci", digest, inner),                  // a revision
           Wrapper(0, 0, "", digest, inner),                    // no token name
           Wrapper(0, 0, "c i", digest, inner),                 // a name no token can have
           Wrapper(0, 0, std::string(65, 'n'), digest, inner),  // a name too long
           Wrapper(0, 0, "ci", digest.substr(1), inner),        // a short digest
           Wrapper(0, 0, "ci", digest + "x", inner),            // a long digest
           Wrapper(0, 0, "ci", digest, ""),                     // no inner command
           Wrapper(0, 0, "ci", digest, inner + "x"),            // a damaged inner command
           Wrapper(0, 0, "ci", digest, nested),                 // a wrapper inside a wrapper
           Wrapper(0, 0, "ci", digest, system),                 // a token command inside
           Wrapper(0, 0, "ci", digest, member),                 // a member command inside
           Wrapper(0, 0, "ci", digest, inner) + "x",            // trailing bytes
       }) {
    auto decoded = DecodeCommand(bad);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
  }
  // Every truncation of a good wrapper is refused too.
  const std::string good = Wrapper(0, 0, "ci", digest, inner);
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeCommand(std::string_view(good).substr(0, n)).ok()) << n;
  }
}

class AuthorizedApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BatchApplier a(engine_.get());
    ASSERT_TRUE(a.Apply(PutSystemCommand(key_, rec_), Next()).status.ok());
    ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  }
  LogIndex Next() {
    next_ = next_.Next();
    return next_;
  }
  bool Stored(std::string_view key) { return engine_->Get(DataKey(key)).value().has_value(); }

  std::unique_ptr<engine::Engine> engine_ = engine::NewMemoryEngine();
  LogIndex next_{0};
  const std::string key_ = TokenKeyName("ci");
  const std::string rec_ = Record('a');
};

TEST_F(AuthorizedApplyTest, AnUnchangedTokenLetsTheWriteApply) {
  BatchApplier a(engine_.get());
  ApplyResult r = a.Apply(Authorized(PutCommand("k", "v"), "ci", rec_), Next());
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_FALSE(r.token_refused);
  EXPECT_TRUE(r.created);
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_TRUE(Stored("k"));
}

TEST_F(AuthorizedApplyTest, ARevocationInAnEarlierBatchRefusesTheWrite) {
  {
    BatchApplier a(engine_.get());
    ASSERT_TRUE(a.Apply(DeleteSystemCommand(key_), Next()).status.ok());
    ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  }
  BatchApplier a(engine_.get());
  const LogIndex index = Next();
  ApplyResult r = a.Apply(Authorized(PutCommand("k", "v"), "ci", rec_), index);
  EXPECT_TRUE(r.token_refused);
  EXPECT_FALSE(r.status.ok());
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_FALSE(Stored("k"));
  EXPECT_EQ(engine_->AppliedIndex(), index) << "a refused write still consumes its index";
}

TEST_F(AuthorizedApplyTest, ARevocationEarlierInTheSameBatchRefusesTheWrite) {
  {
    BatchApplier setup(engine_.get());
    ASSERT_TRUE(setup.Apply(PutCommand("old", "kept"), Next()).status.ok());
    ASSERT_TRUE(setup.Commit(engine_.get(), true).ok());
  }
  BatchApplier a(engine_.get());
  // Read once before the revocation, so that the batch has the record's digest at hand.
  EXPECT_TRUE(a.Apply(Authorized(PutCommand("a", "1"), "ci", rec_), Next()).status.ok());
  ASSERT_TRUE(a.Apply(DeleteSystemCommand(key_), Next()).status.ok());
  for (const Command& c : {PutCommand("b", "2"), DeleteCommand("old"), ClearCommand(),
                           IncrementByCommand("n", 1), PutManyCommand({{"c", "3"}})}) {
    ApplyResult r = a.Apply(Authorized(c, "ci", rec_), Next());
    EXPECT_TRUE(r.token_refused) << static_cast<int>(c.type);
  }
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_TRUE(Stored("a"));
  EXPECT_TRUE(Stored("old"));
  EXPECT_FALSE(Stored("b"));
  EXPECT_FALSE(Stored("n"));
  EXPECT_FALSE(Stored("c"));
}

TEST_F(AuthorizedApplyTest, ATokenRecreatedUnderTheSameNameDoesNotRevive) {
  const std::string recreated = Record('b');
  BatchApplier a(engine_.get());
  ASSERT_TRUE(a.Apply(DeleteSystemCommand(key_), Next()).status.ok());
  ASSERT_TRUE(
      a.Apply(PutSystemCommand(key_, recreated, Precondition::kMustNotExist), Next()).status.ok());
  EXPECT_TRUE(a.Apply(Authorized(PutCommand("old", "x"), "ci", rec_), Next()).token_refused);
  ApplyResult fresh = a.Apply(Authorized(PutCommand("new", "y"), "ci", recreated), Next());
  EXPECT_TRUE(fresh.status.ok()) << fresh.status.ToString();
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_FALSE(Stored("old"));
  EXPECT_TRUE(Stored("new"));
  // And in a later batch, read from the engine.
  BatchApplier b(engine_.get());
  EXPECT_TRUE(b.Apply(Authorized(PutCommand("old", "x"), "ci", rec_), Next()).token_refused);
  EXPECT_TRUE(b.Apply(Authorized(PutCommand("new", "z"), "ci", recreated), Next()).status.ok());
  ASSERT_TRUE(b.Commit(engine_.get(), true).ok());
}

TEST_F(AuthorizedApplyTest, AnUnknownTokenIsRefusedAndPlainWritesAreUnchecked) {
  BatchApplier a(engine_.get());
  EXPECT_TRUE(a.Apply(Authorized(PutCommand("k", "v"), "nobody", rec_), Next()).token_refused);
  ASSERT_TRUE(a.Apply(DeleteSystemCommand(key_), Next()).status.ok());
  ApplyResult plain = a.Apply(PutCommand("p", "v"), Next());
  EXPECT_TRUE(plain.status.ok());
  EXPECT_FALSE(plain.token_refused);
  ASSERT_TRUE(a.Commit(engine_.get(), true).ok());
  EXPECT_FALSE(Stored("k"));
  EXPECT_TRUE(Stored("p"));
}

}  // namespace
}  // namespace nds::store
