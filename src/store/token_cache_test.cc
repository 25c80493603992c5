// Goal: the token cache answers what the engine held at its last invalidation, never a record
// older than that: a token written or revoked through a BatchApplier that has the cache is seen
// at the next lookup, an absent name is cached until then, a write that bypasses the applier is
// seen only after Invalidate(), authorized writes are judged by the cached record, and the cache
// holds at most its limit of names (--max-token-cache-names). Method: BatchApplier and TokenCache
// over the in-memory engine.
#include "store/token_cache.h"

#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "store/applier.h"
#include "store/keyspace.h"
#include "util/limits.h"

namespace nds::store {
namespace {

std::string Record(char hash_byte, TokenRole role = TokenRole::kWrite, std::string prefix = "") {
  return EncodeTokenRecord(
      TokenRecord{role, std::move(prefix), std::string(kTokenHashBytes, hash_byte)});
}

class TokenCacheTest : public ::testing::Test {
 protected:
  // Applies `cmd` in a batch of its own through an applier that keeps `cache_` true.
  ApplyResult Apply(const Command& cmd) {
    BatchApplier a(engine_.get(), kHistoryRevisionsDefault, kHistoryBytesDefault, &cache_);
    ApplyResult r = a.Apply(cmd, LogIndex{++index_});
    EXPECT_TRUE(a.Commit(engine_.get(), true).ok());
    return r;
  }
  std::shared_ptr<const TokenCache::Entry> Look(std::string_view name) {
    auto e = cache_.Lookup(*engine_, name);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : nullptr;
  }

  std::unique_ptr<engine::Engine> engine_ = engine::NewMemoryEngine();
  TokenCache cache_{Limits{}.token_cache_names_max};
  uint64_t index_ = 0;
};

TEST_F(TokenCacheTest, AppliedCreatesAndRevocationsAreSeenAtTheNextLookup) {
  EXPECT_EQ(Look("ci"), nullptr);
  const std::string rec = Record('a', TokenRole::kRead, "app/");
  Apply(PutSystemCommand(TokenKeyName("ci"), rec));
  auto e = Look("ci");
  ASSERT_NE(e, nullptr) << "the cached absence was dropped by the applier's commit";
  EXPECT_EQ(e->stored, rec);
  EXPECT_EQ(e->record.role, TokenRole::kRead);
  EXPECT_EQ(e->record.prefix, "app/");
  EXPECT_EQ(e->digest, TokenRecordDigest(rec));

  const std::string replaced = Record('b');
  Apply(DeleteSystemCommand(TokenKeyName("ci")));
  EXPECT_EQ(Look("ci"), nullptr) << "a revoked token is still served";
  Apply(PutSystemCommand(TokenKeyName("ci"), replaced));
  ASSERT_NE(Look("ci"), nullptr);
  EXPECT_EQ(Look("ci")->digest, TokenRecordDigest(replaced));
}

TEST_F(TokenCacheTest, AWriteThatBypassesTheApplierIsSeenOnlyAfterInvalidate) {
  EXPECT_EQ(Look("side"), nullptr);
  engine::WriteBatch b;
  b.Put(SystemKey(TokenKeyName("side")), Record('c'));
  ASSERT_TRUE(engine_->Write(b, LogIndex{++index_}, true).ok());
  EXPECT_EQ(Look("side"), nullptr) << "the absence stays cached until an invalidation";
  cache_.Invalidate();
  ASSERT_NE(Look("side"), nullptr);
  EXPECT_EQ(Look("side")->stored, Record('c'));
}

TEST_F(TokenCacheTest, AuthorizedWritesAreJudgedByTheCachedRecord) {
  const std::string rec = Record('a');
  Apply(PutSystemCommand(TokenKeyName("w"), rec));
  Command put = PutCommand("k", "v");
  put.authorized_by = Command::Authorization{"w", TokenRecordDigest(rec)};
  EXPECT_TRUE(Apply(put).status.ok());
  Apply(DeleteSystemCommand(TokenKeyName("w")));
  ApplyResult refused = Apply(put);
  EXPECT_FALSE(refused.status.ok());
  EXPECT_TRUE(refused.token_refused) << "a write of a revoked token applied through the cache";
}

TEST_F(TokenCacheTest, UndecodableRecordsAreErrorsAndNotCached) {
  engine::WriteBatch b;
  b.Put(SystemKey(TokenKeyName("bad")), "not a record");
  ASSERT_TRUE(engine_->Write(b, LogIndex{++index_}, true).ok());
  EXPECT_FALSE(cache_.Lookup(*engine_, "bad").ok());
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(TokenCacheTest, HoldsAtMostTheDefaultLimitOfNames) {
  const size_t limit = Limits{}.token_cache_names_max;
  for (size_t i = 0; i < limit + 10; ++i) {
    ASSERT_EQ(Look("n" + std::to_string(i)), nullptr);
    ASSERT_LE(cache_.size(), limit);
  }
  EXPECT_GE(cache_.size(), 1u);
}

TEST_F(TokenCacheTest, AnotherLimitIsHonouredExactly) {
  TokenCache small(3);
  for (const char* name : {"a", "b", "c"}) ASSERT_TRUE(small.Lookup(*engine_, name).ok());
  EXPECT_EQ(small.size(), 3u);
  ASSERT_TRUE(small.Lookup(*engine_, "a").ok());  // held already: nothing is dropped
  EXPECT_EQ(small.size(), 3u);
  ASSERT_TRUE(small.Lookup(*engine_, "d").ok());  // a fourth name empties the cache first
  EXPECT_EQ(small.size(), 1u);
}

}  // namespace
}  // namespace nds::store
