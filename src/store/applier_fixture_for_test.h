// For applier tests: applies one command at the next log index over the memory engine and
// commits it (telling feed_, when set, of the leases it wrote), and reads back a key's stored
// record. Test code only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "store/applier.h"
#include "store/keyspace.h"

namespace nds::store {

class ApplierFixture : public ::testing::Test {
 protected:
  ApplyResult ApplyOne(const Command& c) {
    BatchApplier a(engine_.get(), kHistoryRevisionsDefault, kHistoryBytesDefault, nullptr, feed_);
    next_ = next_.Next();
    ApplyResult r = a.Apply(c, next_);
    EXPECT_TRUE(a.Commit(engine_.get(), true).ok());
    return r;
  }
  std::optional<Record> RecordOf(std::string_view key) {
    auto bytes = engine_->Get(DataKey(key));
    if (!bytes.ok() || !*bytes) return std::nullopt;
    auto rec = DecodeRecord(**bytes);
    return Record{rec->revision, std::string(rec->content_type), std::string(rec->value)};
  }
  std::optional<std::string> ValueOf(std::string_view key) {
    auto rec = RecordOf(key);
    if (!rec) return std::nullopt;
    return rec->value;
  }

  std::unique_ptr<engine::Engine> engine_ = engine::NewMemoryEngine();
  LogIndex next_{0};
  LeaseFeed* feed_ = nullptr;  // told of the lease records each command wrote, when set
};

}  // namespace nds::store
