// Benchmarks of the two engines (src/engine/): a full scan of 1 M keys with 100-byte values
// through a View (target: >= 1 M keys/s), batched writes, point gets, and the time to reopen a
// RocksDB engine holding 1 M keys (target: a node restarts in < 2 s); `--rss_probe` measures the
// resident memory a fresh process adds by opening it. The data sets are built once per engine, in a
// scratch directory under $TMPDIR (or /tmp) removed at exit.
//
// Run: build/<dir>/bench/engine_bench --benchmark_repetitions=3
//        --benchmark_report_aggregates_only=true
// and, for the resident memory of a freshly opened engine with 1 M keys:
//      build/<dir>/bench/engine_bench --rss_probe=/tmp/nds_rss_probe
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/memory_engine.h"
#include "engine/rocksdb_engine.h"

namespace nds::engine {
namespace {

constexpr uint64_t kKeys = 1'000'000;
constexpr size_t kValueBytes = 100;
constexpr uint64_t kLoadBatchKeys = 1000;

std::string KeyOf(uint64_t i) { return fmt::format("key{:010}", i); }

// A scratch directory for the whole run, removed at exit.
const std::string& ScratchDir() {
  static const std::string* dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/nds_engine_bench_XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    auto* made = new std::string(pattern);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(ScratchDir(), ec);
    });
    return made;
  }();
  return *dir;
}

// Random (incompressible) values, so that RocksDB's files are as large as real data makes them.
void Load(Engine& engine) {
  std::mt19937_64 rng(1);
  std::string value(kValueBytes, '\0');
  for (uint64_t i = 0; i < kKeys; i += kLoadBatchKeys) {
    WriteBatch batch;
    for (uint64_t j = i; j < i + kLoadBatchKeys; ++j) {
      for (char& c : value) c = static_cast<char>(rng());
      batch.Put(KeyOf(j), value);
    }
    Status s = engine.Write(batch, LogIndex(i / kLoadBatchKeys + 1), false);
    if (!s.ok()) {
      std::fprintf(stderr, "load: %s\n", s.ToString().c_str());
      std::abort();
    }
  }
}

std::string RocksDbDir() { return ScratchDir() + "/rocksdb"; }

// The loaded engine of each kind, built on first use and kept for the run. The RocksDB engine can
// be closed (ReleaseRocksDb) so that the reopen benchmark can open the same directory.
std::unique_ptr<Engine>& Loaded(std::string_view kind) {
  static std::map<std::string, std::unique_ptr<Engine>, std::less<>> engines;
  auto it = engines.find(kind);
  if (it == engines.end()) it = engines.emplace(std::string(kind), nullptr).first;
  if (it->second == nullptr) {
    if (kind == "memory") {
      it->second = NewMemoryEngine();
      Load(*it->second);
    } else {
      bool exists = std::filesystem::exists(RocksDbDir());
      Result<std::unique_ptr<Engine>> opened = OpenRocksDbEngine(RocksDbDir(), {});
      if (!opened.ok()) std::abort();
      it->second = std::move(opened).value();
      if (!exists) Load(*it->second);
    }
  }
  return it->second;
}

const char* KindName(int64_t arg) { return arg == 0 ? "rocksdb" : "memory"; }

void BM_ScanView(benchmark::State& state) {
  Engine& engine = *Loaded(KindName(state.range(0)));
  uint64_t keys = 0;
  for (auto _ : state) {
    std::unique_ptr<View> view = engine.NewView();
    std::unique_ptr<Iterator> it = view->NewIterator();
    uint64_t n = 0;
    for (it->Seek(""); it->Valid(); it->Next()) {
      benchmark::DoNotOptimize(it->value().data());
      ++n;
    }
    if (n != kKeys) state.SkipWithError("scan saw the wrong number of keys");
    keys += n;
  }
  state.SetLabel(KindName(state.range(0)));
  state.counters["keys_per_second"] =
      benchmark::Counter(static_cast<double>(keys), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ScanView)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

void BM_PointGet(benchmark::State& state) {
  Engine& engine = *Loaded(KindName(state.range(0)));
  std::mt19937_64 rng(42);
  for (auto _ : state) {
    Result<std::optional<std::string>> got = engine.Get(KeyOf(rng() % kKeys));
    if (!got.ok() || !got->has_value()) state.SkipWithError("missing key");
  }
  state.SetLabel(KindName(state.range(0)));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PointGet)->Arg(0)->Arg(1)->UseRealTime();

// Batches of 100 puts of 100-byte values into a fresh engine (no sync: the Raft log is the
// durable copy).
void BM_BatchedWrite(benchmark::State& state) {
  const bool rocksdb = state.range(0) == 0;
  static int run = 0;
  std::unique_ptr<Engine> engine;
  if (rocksdb) {
    Result<std::unique_ptr<Engine>> opened =
        OpenRocksDbEngine(fmt::format("{}/write{}", ScratchDir(), run++), {});
    if (!opened.ok()) std::abort();
    engine = std::move(opened).value();
  } else {
    engine = NewMemoryEngine();
  }
  const std::string value(kValueBytes, 'w');
  uint64_t index = 0;
  std::mt19937_64 rng(7);
  for (auto _ : state) {
    WriteBatch batch;
    for (int i = 0; i < 100; ++i) batch.Put(KeyOf(rng() % (10 * kKeys)), value);
    Status s = engine->Write(batch, LogIndex(++index), /*sync=*/false);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetLabel(KindName(state.range(0)));
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_BatchedWrite)->Arg(0)->Arg(1)->UseRealTime();

uint64_t ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long pages = 0, resident = 0;
  int read = std::fscanf(f, "%lu %lu", &pages, &resident);
  std::fclose(f);
  return read == 2 ? resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

// Close and reopen a RocksDB engine holding 1 M keys; time the open only.
void BM_RocksDbReopen(benchmark::State& state) {
  Loaded("rocksdb").reset();  // builds the data set if needed, then closes it
  for (auto _ : state) {
    Result<std::unique_ptr<Engine>> opened = OpenRocksDbEngine(RocksDbDir(), {});
    if (!opened.ok() || (*opened)->AppliedIndex() != LogIndex(kKeys / kLoadBatchKeys)) {
      state.SkipWithError("reopen failed or lost data");
      break;
    }
    state.PauseTiming();
    opened->reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_RocksDbReopen)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// `--rss_probe=DIR`: the resident memory a fresh process adds by opening a RocksDB engine that
// holds 1 M keys, and after a full scan of it. Builds DIR first when it does not exist, then
// re-executes itself with `--rss_probe_open=DIR` so that the figures start from a clean heap.
int RssProbe(const char* self, const std::string& dir) {
  if (!std::filesystem::exists(dir)) {
    Result<std::unique_ptr<Engine>> opened = OpenRocksDbEngine(dir, {});
    if (!opened.ok()) return 1;
    Load(**opened);
  }
  std::string arg = "--rss_probe_open=" + dir;
  char* const argv[] = {const_cast<char*>(self), arg.data(), nullptr};
  ::execv("/proc/self/exe", argv);
  return 1;
}

int RssProbeOpen(const std::string& dir) {
  const uint64_t before = ResidentBytes();
  Result<std::unique_ptr<Engine>> opened = OpenRocksDbEngine(dir, {});
  if (!opened.ok()) return 1;
  const uint64_t after_open = ResidentBytes();
  uint64_t keys = 0;
  {
    std::unique_ptr<Iterator> it = (*opened)->NewView()->NewIterator();
    for (it->Seek(""); it->Valid(); it->Next()) ++keys;
  }
  const uint64_t after_scan = ResidentBytes();
  std::printf(
      "process rss before open %.1f MiB, after open %.1f MiB, after scanning %llu keys "
      "%.1f MiB\n",
      before / 1048576.0, after_open / 1048576.0, static_cast<unsigned long long>(keys),
      after_scan / 1048576.0);
  return 0;
}

}  // namespace
}  // namespace nds::engine

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--rss_probe=")) {
      return nds::engine::RssProbe(argv[0], std::string(arg.substr(12)));
    }
    if (arg.starts_with("--rss_probe_open=")) {
      return nds::engine::RssProbeOpen(std::string(arg.substr(17)));
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
