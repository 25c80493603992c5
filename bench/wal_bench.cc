// WAL throughput and recovery speed, beside the raw fdatasync rate of the same disk measured by
// the same program. Run: wal_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only
//
// BM_RawWriteFdatasync/<bytes>: pwrite of <bytes> at the end of a preallocated (fallocate) file,
//   then fdatasync: the ceiling for a log that syncs every write of that size.
// BM_WalAppend/<batch>: Wal::Append of <batch> 100-byte entries (one fdatasync per call), on
//   64 MiB segments; appends/s is the iteration rate, entries/s and bytes/s are counters. Compare
//   with BM_RawWriteFdatasync at the same write size (printed as the write_bytes counter).
// BM_WalRecoveryScan/<entry bytes>: Wal::Open of a log of 128 MiB of records (files in the page
//   cache); bytes_per_second counts record bytes only (file_bytes also counts the preallocated,
//   unwritten tail that recovery checks for zeros).
// The files live in a fresh directory under $TMPDIR (default /tmp), removed at exit.
#include <fcntl.h>
#include <memory>
#include <stdlib.h>
#include <string>
#include <unistd.h>
#include <vector>

#include <benchmark/benchmark.h>

#include "util/check.h"
#include "util/file_system.h"
#include "wal/record.h"
#include "wal/wal.h"

namespace nds::wal {
namespace {

constexpr uint64_t kSegmentBytes = 64 << 20;
constexpr size_t kEntryDataBytes = 100;

// A scratch directory removed when the program ends.
const std::string& ScratchDir() {
  static const std::string* dir = [] {
    const char* base = ::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/nds_wal_bench_XXXXXX";
    NDS_CHECK(::mkdtemp(tmpl.data()) != nullptr);
    auto* d = new std::string(tmpl);
    std::atexit([] { IgnoreError(RemoveRecursively(DefaultFileSystem(), ScratchDir()), "exit"); });
    return d;
  }();
  return *dir;
}

std::string FreshDir(std::string_view name) {
  static int counter = 0;
  std::string dir = JoinPath(ScratchDir(), std::string(name) + std::to_string(counter++));
  NDS_CHECK(DefaultFileSystem()->CreateDir(dir).ok());
  return dir;
}

std::vector<raft::Entry> Batch(uint64_t first, size_t count, size_t data_bytes) {
  std::vector<raft::Entry> out(count);
  for (size_t i = 0; i < count; ++i) {
    out[i].term = Term(1);
    out[i].index = LogIndex(first + i);
    out[i].data = std::string(data_bytes, static_cast<char>('a' + i % 26));
  }
  return out;
}

// The bytes Wal::Append writes for a batch of `count` entries of kEntryDataBytes near index 1M.
uint64_t BatchWriteBytes(size_t count) {
  raft::Entry e{Term(1), LogIndex(1'000'000), raft::EntryType::kNormal,
                std::string(kEntryDataBytes, 'x')};
  return count * FramedBytes(EncodedEntryBytes(e));
}

void BM_RawWriteFdatasync(benchmark::State& state) {
  const uint64_t write_bytes = static_cast<uint64_t>(state.range(0));
  const std::string path = JoinPath(FreshDir("raw"), "file");
  const std::string buf(write_bytes, 'r');
  int fd = -1;
  uint64_t offset = kSegmentBytes;  // forces a fresh file on the first iteration
  for (auto _ : state) {
    if (offset + write_bytes > kSegmentBytes) {
      state.PauseTiming();
      if (fd >= 0) ::close(fd);
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      NDS_CHECK(fd >= 0);
      NDS_CHECK(::posix_fallocate(fd, 0, kSegmentBytes) == 0);
      NDS_CHECK(::fsync(fd) == 0);
      offset = 0;
      state.ResumeTiming();
    }
    NDS_CHECK(::pwrite(fd, buf.data(), write_bytes, static_cast<off_t>(offset)) ==
              static_cast<ssize_t>(write_bytes));
    NDS_CHECK(::fdatasync(fd) == 0);
    offset += write_bytes;
  }
  ::close(fd);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * write_bytes));
  state.counters["write_bytes"] = static_cast<double>(write_bytes);
  state.counters["syncs_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_WalAppend(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  auto wal = Wal::Open(DefaultFileSystem(), FreshDir("wal"), {kSegmentBytes});
  NDS_CHECK(wal.ok(), "{}", wal.status().ToString());
  std::vector<raft::Entry> entries = Batch(1, batch, kEntryDataBytes);
  uint64_t next = 1;
  for (auto _ : state) {
    for (size_t i = 0; i < batch; ++i) entries[i].index = LogIndex(next + i);
    Status s = (*wal)->Append(entries);
    NDS_CHECK(s.ok(), "{}", s.ToString());
    next += batch;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * BatchWriteBytes(batch)));
  state.counters["write_bytes"] = static_cast<double>(BatchWriteBytes(batch));
  state.counters["appends_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_WalRecoveryScan(benchmark::State& state) {
  const size_t data_bytes = static_cast<size_t>(state.range(0));
  const uint64_t log_bytes = 128 << 20;
  const std::string dir = FreshDir("recovery");
  uint64_t record_bytes = 0;  // bytes of records in the log (not counting unwritten space)
  {
    auto wal = Wal::Open(DefaultFileSystem(), dir, {kSegmentBytes});
    NDS_CHECK(wal.ok());
    const size_t per_batch = std::max<size_t>(1, (4 << 20) / (data_bytes + 24));
    uint64_t next = 1;
    while (record_bytes < log_bytes) {
      std::vector<raft::Entry> batch = Batch(next, per_batch, data_bytes);
      NDS_CHECK((*wal)->Append(batch).ok());
      for (const raft::Entry& e : batch) record_bytes += FramedBytes(EncodedEntryBytes(e));
      next += per_batch;
    }
  }
  uint64_t file_bytes = 0;
  for (auto _ : state) {
    auto wal = Wal::Open(DefaultFileSystem(), dir, {kSegmentBytes});
    NDS_CHECK(wal.ok(), "{}", wal.status().ToString());
    file_bytes = (*wal)->recovery_report().bytes_scanned;
    state.counters["records"] = static_cast<double>((*wal)->recovery_report().records);
  }
  // The rate counts record bytes only; file_bytes adds the preallocated zeros also scanned.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * record_bytes));
  state.counters["file_bytes"] = static_cast<double>(file_bytes);
}

BENCHMARK(BM_RawWriteFdatasync)
    ->Arg(static_cast<int64_t>(BatchWriteBytes(1)))
    ->Arg(static_cast<int64_t>(BatchWriteBytes(16)))
    ->Arg(static_cast<int64_t>(BatchWriteBytes(256)))
    ->UseRealTime();
BENCHMARK(BM_WalAppend)->Arg(1)->Arg(16)->Arg(256)->UseRealTime();
BENCHMARK(BM_WalRecoveryScan)->Arg(100)->Arg(4000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace nds::wal

BENCHMARK_MAIN();
