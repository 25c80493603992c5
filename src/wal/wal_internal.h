// Definitions private to the Wal's two source files (wal.cc: writing and reading; wal_recovery.cc:
// Open and replay). Not part of the API: include only from those files.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "raft/types.h"
#include "util/file_system.h"
#include "wal/record.h"
#include "wal/wal.h"

namespace nds::wal {

struct Wal::Segment {
  uint64_t seq = 0;
  std::string path;
  std::shared_ptr<File> file;
  // The highest entry or snapshot-mark index recorded in this segment (0 when none). Writer
  // thread only; may overstate after a failed Save, which only delays Compact.
  LogIndex max_index;
  // Bytes of the header and hard state records a new segment starts with.
  uint64_t head_bytes = 0;
};

struct Wal::EntryLoc {
  Term term;
  uint64_t seq = 0;
  uint64_t offset = 0;
  uint32_t framed_bytes = 0;
};

// What replay has rebuilt so far. locs[k] is entry base_index + 1 + k.
struct Wal::ReplayState {
  bool anchored = false;  // a first entry or a clearing mark fixed base_index
  LogIndex base_index;
  Term base_term;
  bool base_term_known = false;
  std::deque<EntryLoc> locs;
  raft::HardState hs;
  // Scratch space holding the segment being scanned.
  std::string buffer;
};

namespace internal {

// <seq>.wal.tmp: a segment being created by an older version of this code (removed at Open).
inline constexpr std::string_view kTmpSuffix = ".tmp";
// <seq>.wal.spare: a preallocated segment reserved ahead of need; holds zeros, or zeros after the
// head of a roll that a crash interrupted. Never holds an acknowledged record; removed at Open.
inline constexpr std::string_view kSpareSuffix = ".spare";

std::string SegmentName(uint64_t seq);
// The sequence number of a file named like SegmentName(), or nullopt.
std::optional<uint64_t> ParseSegmentName(std::string_view name);
// The offset of the first non-zero byte of `buf` at or after `from`, or npos.
size_t FindNonZero(std::string_view buf, size_t from);
// Bytes of entry data in a record of `framed_bytes` holding entry (index, term).
uint64_t DataBytes(uint32_t framed_bytes, LogIndex index, Term term);
std::string_view CheckName(RecordCheck c);

}  // namespace internal
}  // namespace nds::wal
