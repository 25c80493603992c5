// Helpers shared by the wal/ tests (header-only; not part of the library's API): entry builders
// and a reader of a whole log through raft::Storage.
#pragma once

#include <string>
#include <vector>

#include <fmt/format.h>

#include "raft/types.h"
#include "util/check.h"
#include "wal/wal.h"

namespace nds::wal::testing {

// Deterministic entry data, so a test can check an entry from its index and term alone.
inline std::string EntryData(uint64_t index, uint64_t term, size_t bytes = 40) {
  std::string s = fmt::format("e{}t{}:", index, term);
  while (s.size() < bytes) s.push_back(static_cast<char>('a' + (index + s.size()) % 26));
  s.resize(bytes);
  return s;
}

// Entries [first, last] of `term`.
inline std::vector<raft::Entry> MakeEntries(uint64_t first, uint64_t last, uint64_t term,
                                            size_t bytes = 40) {
  std::vector<raft::Entry> out;
  for (uint64_t i = first; i <= last; ++i) {
    out.push_back({Term(term), LogIndex(i), raft::EntryType::kNormal, EntryData(i, term, bytes)});
  }
  return out;
}

// Every entry in [FirstIndex(), LastIndex()], read back through raft::Storage.
inline std::vector<raft::Entry> ReadAll(const Wal& wal) {
  auto r = wal.Entries(wal.FirstIndex(), wal.LastIndex().Next(), UINT64_MAX);
  NDS_CHECK(r.ok(), "{}", r.status().ToString());
  return std::move(r).value();
}

}  // namespace nds::wal::testing
