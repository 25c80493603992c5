// Benchmarks of the apply path (src/store/applier.h) on the RocksDB engine as a node runs it (its
// WAL on, writes not synced): put commands decoded from their log bytes, applied in batches of
// 1024 with their history, and committed. Keys are drawn from a set of `keys` (range(0)): 1000
// is what `redis-benchmark -r 1000` writes (every key rewritten many times in one memtable), 1 M
// mostly new keys. The figure that matters is CPU time per put (items_per_second).
//
// BM_CatchUp reads back, as a watch from an old revision does (store::ReadHistoryEvents in pages
// of 1 MiB), the history of 100,000 puts of range(1)-byte values written the same way: events per
// second. Values of 1 KiB and more are read through a lookup of their record (store/history.h).
//
// Run: build/<dir>/bench/store_bench --benchmark_repetitions=3
//        --benchmark_report_aggregates_only=true
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "engine/rocksdb_engine.h"
#include "store/applier.h"
#include "store/command.h"
#include "store/engine_options.h"
#include "store/history.h"

namespace nds::store {
namespace {

constexpr size_t kValueBytes = 100;
constexpr size_t kBatchPuts = 1024;

std::string ScratchDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/nds_store_bench_XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

void Check(const Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::abort();
}

void BM_ApplyPuts(benchmark::State& state) {
  const auto keys = static_cast<uint64_t>(state.range(0));
  const std::string dir = ScratchDir();
  {
    auto engine = engine::OpenRocksDbEngine(dir, StoreRocksDbOptions());
    Check(engine.status(), "open");
    // The log bytes of 16 batches of puts, decoded again for every batch as a node does.
    std::mt19937_64 rng(1);
    std::vector<std::string> encoded(16 * kBatchPuts);
    std::string value(kValueBytes, 'v');
    for (std::string& bytes : encoded) {
      for (char& c : value) c = static_cast<char>('a' + rng() % 26);
      EncodeCommand(PutCommand(fmt::format("key:{:012}", rng() % keys), value), &bytes);
    }
    uint64_t index = 0;
    size_t next = 0;
    for (auto _ : state) {
      BatchApplier applier(engine->get());
      for (size_t i = 0; i < kBatchPuts; ++i) {
        Result<Command> cmd = DecodeCommand(encoded[next++ % encoded.size()]);
        Check(cmd.status(), "decode");
        ApplyResult r = applier.Apply(*cmd, LogIndex(++index));
        benchmark::DoNotOptimize(r);
      }
      Check(applier.Commit(engine->get(), /*sync=*/false), "commit");
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatchPuts));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
// A fixed count: 200 batches pass the default --history-revisions (100,000), so the later
// batches also compact the history as a node does in steady state.
BENCHMARK(BM_ApplyPuts)->Arg(1000)->Arg(1'000'000)->Iterations(200)->Unit(benchmark::kMillisecond);

void BM_CatchUp(benchmark::State& state) {
  const auto keys = static_cast<uint64_t>(state.range(0));
  const auto value_bytes = static_cast<size_t>(state.range(1));
  constexpr uint64_t kPuts = 100'000;
  const std::string dir = ScratchDir();
  {
    auto engine = engine::OpenRocksDbEngine(dir, StoreRocksDbOptions());
    Check(engine.status(), "open");
    std::mt19937_64 rng(1);
    std::string value(value_bytes, 'v');
    uint64_t index = 0;
    while (index < kPuts) {
      BatchApplier applier(engine->get());
      for (size_t i = 0; i < kBatchPuts && index < kPuts; ++i) {
        for (char& c : value) c = static_cast<char>('a' + rng() % 26);
        applier.Apply(PutCommand(fmt::format("key:{:012}", rng() % keys), value),
                      LogIndex(++index));
      }
      Check(applier.Commit(engine->get(), /*sync=*/false), "commit");
    }
    size_t events = 0;
    for (auto _ : state) {
      auto view = (*engine)->NewView();
      uint64_t after = 0;
      while (after < kPuts) {
        std::vector<HistoryEvent> page;
        Result<uint64_t> through = ReadHistoryEvents(*view, after, kPuts, size_t{1} << 20,
                                                     std::numeric_limits<size_t>::max(), &page);
        Check(through.status(), "read history");
        after = *through;
        events += page.size();
      }
    }
    state.SetItemsProcessed(static_cast<int64_t>(events));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
BENCHMARK(BM_CatchUp)
    ->Args({1000, kValueBytes})
    ->Args({1'000'000, kValueBytes})
    ->Args({1000, 1024})
    ->Args({1'000'000, 1024})
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace nds::store

BENCHMARK_MAIN();
