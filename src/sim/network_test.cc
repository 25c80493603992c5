// Goal: the simulated network and disk behave as their contracts say, since every simulator
// verdict rests on them: the network delivers in delay order, drops on cut links (at send and in
// flight), drops and duplicates at the configured rates, respects its in-flight bound, and is
// deterministic per seed; the disk keeps only a prefix of unsynced writes at a crash, tears an
// append to a prefix of its entries, makes everything durable at sync, and refuses bad appends.
// Method: direct unit tests with fixed seeds; rates are checked over many draws with wide margins
// (the draws are deterministic, so these tests cannot flake).
#include "sim/network.h"

#include <set>

#include <gtest/gtest.h>

#include "sim/disk.h"
#include "sim/kv.h"

namespace nds::sim {
namespace {

raft::Message Msg(uint64_t from, uint64_t to, uint64_t tag) {
  raft::Message m;
  m.type = raft::MessageType::kHeartbeat;
  m.from = NodeId(from);
  m.to = NodeId(to);
  m.round = tag;
  return m;
}

TEST(Network, DeliversNothingBeforeItsDelayAndEverythingAfter) {
  NetworkOptions o;
  o.delay_ticks_min = 3;
  o.delay_ticks_max = 5;
  Network net(o, Rng(1));
  for (uint64_t i = 0; i < 50; ++i) net.Send(Msg(1, 2, i), 10);
  EXPECT_TRUE(net.TakeDue(12).empty());
  size_t got = 0;
  for (uint64_t t = 13; t <= 15; ++t) got += net.TakeDue(t).size();
  EXPECT_EQ(got, 50u);
  EXPECT_EQ(net.in_flight(), 0u);
}

TEST(Network, RandomDelaysReorderMessages) {
  NetworkOptions o;
  o.delay_ticks_max = 6;
  Network net(o, Rng(2));
  for (uint64_t i = 0; i < 100; ++i) net.Send(Msg(1, 2, i), 0);
  std::vector<uint64_t> order;
  for (uint64_t t = 1; t <= 6; ++t) {
    for (const raft::Message& m : net.TakeDue(t)) order.push_back(m.round);
  }
  ASSERT_EQ(order.size(), 100u);
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
}

TEST(Network, CutLinkDropsAtSendAndInFlightAndIsDirected) {
  Network net(NetworkOptions{}, Rng(3));
  net.Send(Msg(1, 2, 0), 0);  // in flight before the cut
  net.Cut(NodeId(1), NodeId(2));
  net.Send(Msg(1, 2, 1), 0);  // dropped at send
  net.Send(Msg(2, 1, 2), 0);  // the other direction still works
  std::vector<raft::Message> got = net.TakeDue(10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].round, 2u);
  EXPECT_EQ(net.stats().dropped_cut, 2u);
  net.Heal(NodeId(1), NodeId(2));
  net.Send(Msg(1, 2, 3), 10);
  EXPECT_EQ(net.TakeDue(20).size(), 1u);
}

TEST(Network, DropAndDuplicateRatesFollowTheOptions) {
  NetworkOptions o;
  o.drop_per_million = 200'000;
  o.duplicate_per_million = 100'000;
  Network net(o, Rng(4));
  for (uint64_t i = 0; i < 10'000; ++i) net.Send(Msg(1, 2, i), 0);
  EXPECT_GT(net.stats().dropped_random, 1'700u);
  EXPECT_LT(net.stats().dropped_random, 2'300u);
  EXPECT_GT(net.stats().duplicated, 600u);
  EXPECT_LT(net.stats().duplicated, 1'000u);
  std::vector<raft::Message> got = net.TakeDue(100);
  EXPECT_EQ(got.size(), 10'000 - net.stats().dropped_random + net.stats().duplicated);
}

TEST(Network, InFlightBoundDropsTheExcess) {
  NetworkOptions o;
  o.in_flight_max = 10;
  Network net(o, Rng(5));
  for (uint64_t i = 0; i < 25; ++i) net.Send(Msg(1, 2, i), 0);
  EXPECT_EQ(net.in_flight(), 10u);
  EXPECT_EQ(net.stats().dropped_overflow, 15u);
}

TEST(Network, SameSeedSameDeliveries) {
  NetworkOptions o;
  o.drop_per_million = 100'000;
  o.duplicate_per_million = 100'000;
  o.delay_ticks_max = 9;
  o.long_delay_per_million = 100'000;
  auto run = [&o](uint64_t seed) {
    Network net(o, Rng(seed));
    for (uint64_t i = 0; i < 500; ++i) net.Send(Msg(1 + i % 3, 1 + (i + 1) % 3, i), i / 10);
    std::vector<uint64_t> out;
    for (uint64_t t = 0; t < 100; ++t) {
      for (const raft::Message& m : net.TakeDue(t)) out.push_back(m.round * 1000 + t);
    }
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

// ---------------------------------------------------------------------------------------------
// SimDisk.

std::vector<raft::Entry> Entries(uint64_t first, uint64_t last, uint64_t term) {
  std::vector<raft::Entry> out;
  for (uint64_t i = first; i <= last; ++i) {
    out.push_back(raft::Entry{Term(term), LogIndex(i), raft::EntryType::kNormal, "x"});
  }
  return out;
}

TEST(SimDisk, SyncMakesWritesDurable) {
  SimDisk d;
  ASSERT_TRUE(d.AppendEntries(Entries(1, 3, 1)).ok());
  ASSERT_TRUE(d.SaveHardState(raft::HardState{Term(1), NodeId(1), LogIndex(2)}).ok());
  EXPECT_EQ(d.durable().LastIndex(), LogIndex(0));
  EXPECT_EQ(d.written().LastIndex(), LogIndex(3));
  d.Sync();
  EXPECT_EQ(d.durable().LastIndex(), LogIndex(3));
  EXPECT_EQ(d.durable().hard_state.commit, LogIndex(2));
  EXPECT_EQ(d.unsynced_writes(), 0u);
  Rng rng(1);
  d.Crash(rng);
  EXPECT_EQ(d.durable().LastIndex(), LogIndex(3));
}

TEST(SimDisk, CrashKeepsOnlyAPrefixOfUnsyncedWrites) {
  std::set<uint64_t> last_indexes;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SimDisk d;
    ASSERT_TRUE(d.AppendEntries(Entries(1, 2, 1)).ok());
    d.Sync();
    ASSERT_TRUE(d.AppendEntries(Entries(3, 5, 1)).ok());
    ASSERT_TRUE(d.SaveHardState(raft::HardState{Term(1), NodeId(1), LogIndex(5)}).ok());
    ASSERT_TRUE(d.AppendEntries(Entries(6, 6, 1)).ok());
    Rng rng(seed);
    d.Crash(rng);
    const DiskState& s = d.durable();
    uint64_t last = s.LastIndex().value;
    last_indexes.insert(last);
    ASSERT_GE(last, 2u);  // synced data survives
    // Prefix order: the hard state (commit 5) survives only if entries 3..5 did, and entry 6
    // only if the hard state did.
    if (s.hard_state.commit.value == 5) {
      ASSERT_GE(last, 5u);
    } else {
      ASSERT_LE(last, 5u);
    }
    EXPECT_EQ(d.written(), d.durable());
    EXPECT_EQ(d.unsynced_writes(), 0u);
  }
  // Every cut point happens, torn appends included (3 and 4 are inside the second write).
  EXPECT_EQ(last_indexes, (std::set<uint64_t>{2, 3, 4, 5, 6}));
}

TEST(SimDisk, AppendReplacesTheSuffixAndRefusesGaps) {
  SimDisk d;
  ASSERT_TRUE(d.AppendEntries(Entries(1, 5, 1)).ok());
  ASSERT_TRUE(d.AppendEntries(Entries(3, 3, 2)).ok());
  EXPECT_EQ(d.written().LastIndex(), LogIndex(3));
  EXPECT_EQ(d.written().entries[2].term, Term(2));
  EXPECT_EQ(d.AppendEntries(Entries(5, 6, 2)).code(), StatusCode::kInvalidArgument);
  std::vector<raft::Entry> holes = Entries(4, 6, 2);
  holes.erase(holes.begin() + 1);
  EXPECT_EQ(d.AppendEntries(holes).code(), StatusCode::kInvalidArgument);
}

TEST(SimDisk, InjectedFailureFailsTheNextWriteOnly) {
  SimDisk d;
  d.InjectWriteFailure();
  EXPECT_EQ(d.AppendEntries(Entries(1, 1, 1)).code(), StatusCode::kIoError);
  EXPECT_TRUE(d.AppendEntries(Entries(1, 1, 1)).ok());
  d.InjectWriteFailure();
  EXPECT_EQ(d.SaveHardState(raft::HardState{}).code(), StatusCode::kIoError);
}

TEST(SimDisk, LoadRebuildsStorageFromDurableStateOnly) {
  SimDisk d;
  ASSERT_TRUE(d.AppendEntries(Entries(1, 4, 2)).ok());
  ASSERT_TRUE(d.SaveHardState(raft::HardState{Term(2), NodeId(3), LogIndex(4)}).ok());
  d.Sync();
  ASSERT_TRUE(d.AppendEntries(Entries(5, 9, 2)).ok());  // not synced
  std::unique_ptr<raft::MemoryStorage> s = d.Load();
  EXPECT_EQ(s->LastIndex(), LogIndex(4));
  EXPECT_EQ(s->InitialHardState().value().vote, NodeId(3));
  EXPECT_EQ(s->TermAt(LogIndex(4)).value(), Term(2));
}

// ---------------------------------------------------------------------------------------------
// KV commands.

TEST(KvCommand, RoundTripsAndRejectsDamage) {
  KvCommand cmd{77, OpKind::kCas, "key", std::nullopt, std::string("old\0x", 5)};
  std::string data = EncodeKvCommand(cmd);
  Result<KvCommand> back = DecodeKvCommand(data);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, cmd);
  for (size_t n = 0; n < data.size(); ++n) {
    EXPECT_FALSE(DecodeKvCommand(data.substr(0, n)).ok()) << n;
  }
  EXPECT_EQ(DecodeKvCommand(data + "z").status().code(), StatusCode::kCorruption);
  std::string bad_kind = data;
  bad_kind[1] = 9;
  EXPECT_FALSE(DecodeKvCommand(bad_kind).ok());
}

TEST(KvStateMachine, CasSwapsOnlyFromTheExpectedValue) {
  KvStateMachine kv;
  EXPECT_TRUE(kv.Apply(KvCommand{1, OpKind::kCas, "k", "a", std::nullopt}));
  EXPECT_FALSE(kv.Apply(KvCommand{2, OpKind::kCas, "k", "b", std::nullopt}));
  EXPECT_TRUE(kv.Apply(KvCommand{3, OpKind::kCas, "k", "c", "a"}));
  EXPECT_EQ(kv.Get("k"), std::optional<std::string>("c"));
  EXPECT_TRUE(kv.Apply(KvCommand{4, OpKind::kWrite, "k", std::nullopt, std::nullopt}));
  EXPECT_EQ(kv.Get("k"), std::nullopt);
}

}  // namespace
}  // namespace nds::sim
