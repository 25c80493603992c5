// Proposals per second through a 3-node Raft group held in memory (raft/test_network.h): no
// faults, no disk, no network, so this measures the core itself (Step/Ready/Advance, log and
// progress bookkeeping, message construction) plus MemoryStorage. Each iteration proposes a batch
// of entries on the leader, then delivers everything until the batch is committed and applied on
// all three nodes. Logs are compacted as they go so memory stays bounded. Run with repetitions for
// medians, e.g.
//   build/.../bench/raft_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <string>

#include <benchmark/benchmark.h>

#include "raft/test_network.h"
#include "util/check.h"

namespace nds::raft {
namespace {

void CompactAll(testing::Network& net) {
  for (auto& [id, t] : net.nodes()) {
    BasicStatus s = t.node->GetStatus();
    NDS_CHECK(t.storage->CreateSnapshotAndCompact(s.applied, s.conf_state).ok());
    t.applied.clear();
    t.sent.clear();
  }
}

// Arguments: proposals per batch, bytes per proposal.
void BM_ProposeThreeNodes(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  const std::string payload(static_cast<size_t>(state.range(1)), 'v');
  testing::Network net(3, 0, [](Config* c) { c->max_uncommitted_bytes = 0; });
  net.Elect(1);
  NDS_CHECK(net.node(1).GetStatus().role == Role::kLeader);
  int64_t iterations = 0;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      Status s = net.node(1).Propose(payload);
      NDS_CHECK(s.ok(), "{}", s.ToString());
    }
    net.Stabilize();
    if (++iterations % 64 == 0) {
      state.PauseTiming();
      CompactAll(net);
      state.ResumeTiming();
    }
  }
  const BasicStatus st = net.node(3).GetStatus();
  NDS_CHECK(st.applied.value >= static_cast<uint64_t>(iterations * batch));
  state.SetItemsProcessed(iterations * batch);
  state.SetBytesProcessed(iterations * batch * state.range(1));
}

BENCHMARK(BM_ProposeThreeNodes)
    ->ArgNames({"batch", "bytes"})
    ->Args({1, 128})
    ->Args({16, 128})
    ->Args({256, 128})
    ->Args({16, 4096});

}  // namespace
}  // namespace nds::raft

BENCHMARK_MAIN();
