// Goal: Config::Validate rejects every contradictory or out-of-range setting with
// kInvalidArgument naming the field, and the lease default resolves below the election timeout.
// Method: start from a valid config and break one field at a time.
#include "raft/config.h"

#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "raft/memory_storage.h"
#include "raft/messages.h"

namespace nds::raft {
namespace {

TEST(Config, DefaultsWithIdAndStorageAreValid) {
  MemoryStorage s;
  Config c;
  c.id = NodeId(1);
  c.storage = &s;
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.EffectiveLeaseTicks(), 8);
  EXPECT_LT(c.EffectiveLeaseTicks(), c.election_ticks);
}

TEST(Config, EachBadFieldIsRejected) {
  MemoryStorage s;
  std::vector<std::function<void(Config*)>> breakers = {
      [](Config* c) { c->id = kNoNode; },
      [](Config* c) { c->election_ticks = 1; },
      [](Config* c) { c->heartbeat_ticks = 0; },
      [](Config* c) { c->heartbeat_ticks = c->election_ticks; },
      [](Config* c) { c->lease_ticks = c->election_ticks; },
      [](Config* c) { c->lease_ticks = -1; },
      [](Config* c) { c->max_msg_bytes = 0; },
      [](Config* c) { c->max_msg_entries = 0; },
      [](Config* c) { c->max_inflight_msgs = 0; },
      [](Config* c) { c->max_inflight_bytes = c->max_msg_bytes - 1; },
      [](Config* c) { c->max_committed_bytes_per_ready = 0; },
      [](Config* c) { c->max_pending_reads = 0; },
      [](Config* c) { c->storage = nullptr; },
  };
  for (size_t i = 0; i < breakers.size(); ++i) {
    Config c;
    c.id = NodeId(1);
    c.storage = &s;
    breakers[i](&c);
    Status st = c.Validate();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << "breaker " << i;
  }
}

TEST(Messages, ToStringIsReadableForTraces) {
  Message m;
  m.type = MessageType::kAppend;
  m.from = NodeId(1);
  m.to = NodeId(2);
  m.term = Term(3);
  m.index = LogIndex(4);
  m.log_term = Term(2);
  m.commit = LogIndex(4);
  m.entries = {Entry{Term(3), LogIndex(5), EntryType::kNormal, "abc"}};
  EXPECT_EQ(ToString(m), "1->2 kAppend term=3 prev=2/4 commit=4 [3/5 \"abc\"]");
  EXPECT_TRUE(MessageNeedsDurableState(MessageType::kVoteResponse));
  EXPECT_FALSE(MessageNeedsDurableState(MessageType::kAppend));
}

}  // namespace
}  // namespace nds::raft
