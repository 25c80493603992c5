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

}  // namespace nds::engine
