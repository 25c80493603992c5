// RocksDB write-path settings (engine/rocksdb_tuning.h).
#include "engine/rocksdb_tuning.h"

#include <algorithm>

#include <rocksdb/perf_level.h>
#include <rocksdb/slice.h>

#include "util/check.h"

namespace nds::engine {
namespace {

class InsertHintPrefix final : public rocksdb::SliceTransform {
 public:
  explicit InsertHintPrefix(std::vector<std::string> prefixes) : prefixes_(std::move(prefixes)) {}

  const char* Name() const override { return "nds.InsertHintPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return {key.data(), kInsertHintPrefixBytes};
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return HasInsertHintPrefix(prefixes_, {key.data(), key.size()});
  }

 private:
  const std::vector<std::string> prefixes_;
};

}  // namespace

std::shared_ptr<const rocksdb::SliceTransform> NewInsertHintPrefix(
    const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return nullptr;
  for (const std::string& p : prefixes) {
    NDS_CHECK(p.size() == kInsertHintPrefixBytes, "insert hint prefix of {} bytes", p.size());
  }
  return std::make_shared<InsertHintPrefix>(prefixes);
}

bool HasInsertHintPrefix(const std::vector<std::string>& prefixes, std::string_view key) {
  if (key.size() < kInsertHintPrefixBytes) return false;
  const std::string_view head = key.substr(0, kInsertHintPrefixBytes);
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [head](const std::string& p) { return p == head; });
}

void QuietPerfContext() { rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable); }

bool WantBlobGarbageCollection(const std::vector<rocksdb::BlobMetaData>& files, bool on_now) {
  if (files.empty()) return false;
  std::vector<const rocksdb::BlobMetaData*> by_age;
  by_age.reserve(files.size());
  for (const rocksdb::BlobMetaData& f : files) by_age.push_back(&f);
  std::sort(by_age.begin(), by_age.end(),
            [](const auto* a, const auto* b) { return a->blob_file_number < b->blob_file_number; });
  // As RocksDB counts them: with fewer than 1 / kBlobGcAgeCutoff files, none is old enough.
  const auto oldest = static_cast<size_t>(kBlobGcAgeCutoff * static_cast<double>(by_age.size()));
  uint64_t total = 0;
  uint64_t garbage = 0;
  for (size_t i = 0; i < oldest; ++i) {
    total += by_age[i]->total_blob_bytes;
    garbage += by_age[i]->garbage_blob_bytes;
  }
  if (total == 0) return false;
  const double share = static_cast<double>(garbage) / static_cast<double>(total);
  return share >= (on_now ? kBlobGcGarbageShareOff : kBlobGcGarbageShareOn);
}

}  // namespace nds::engine
