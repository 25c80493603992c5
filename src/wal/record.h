// The WAL record codec: framing (record_format.h) and the versioned payloads of each record type.
// Pure functions; thread-safe. Decoders treat their input as untrusted (it comes from a disk that
// may be damaged) and return a Status, never crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "raft/types.h"
#include "util/status.h"
#include "wal/record_format.h"

namespace nds::wal {

// Appends one framed record to `dst`. Precondition: payload.size() <= kRecordPayloadBytesMax.
void AppendRecord(std::string* dst, RecordType type, std::string_view payload);
// Bytes AppendRecord adds for a payload of `payload_bytes`.
inline uint64_t FramedBytes(uint64_t payload_bytes) { return kRecordHeaderBytes + payload_bytes; }

// What ParseRecord found at the start of its input.
enum class RecordCheck {
  kOk,
  kEndOfData,   // a header of zeros: unwritten (preallocated) space
  kTruncated,   // the input ends inside the header, or inside a payload whose header is valid
  kBadHeader,   // header CRC mismatch, unknown type, non-zero reserved bytes or a huge length
  kBadPayload,  // the header is valid but the payload CRC does not match
};

struct ParsedRecord {
  RecordCheck check = RecordCheck::kEndOfData;
  RecordType type = RecordType::kEntry;
  // The payload (a view into the input) when check == kOk.
  std::string_view payload;
  // The record's whole length (header + payload) when the header is valid (kOk, kBadPayload,
  // and kTruncated inside the payload), else 0.
  uint64_t framed_bytes = 0;
};

// Parses the record at the start of `in`. The returned views point into `in`.
ParsedRecord ParseRecord(std::string_view in);

// Payloads. Each Decode* rejects unknown versions, unknown enum values and trailing bytes with
// kCorruption naming the record type.
std::string EncodeEntry(const raft::Entry& entry);
// Appends the framed kEntry record of `entry` to `dst` (EncodeEntry + AppendRecord, one copy).
void AppendEntryRecord(std::string* dst, const raft::Entry& entry);
// The same record without its last entry.data.size() bytes (the data itself): the header, with
// the CRC of the whole payload, and the payload's prefix. The caller writes entry.data right
// after it (the WAL writes a big entry's data from where it is instead of copying it).
void AppendEntryRecordHead(std::string* dst, const raft::Entry& entry);
Result<raft::Entry> DecodeEntry(std::string_view payload);
// Decodes only the term, index and type of an entry payload (recovery needs no data copy); the
// same checks as DecodeEntry. The returned entry's data is empty.
Result<raft::Entry> DecodeEntryHeader(std::string_view payload);
// The size EncodeEntry produces, without building it.
uint64_t EncodedEntryBytes(const raft::Entry& entry);

std::string EncodeHardState(const raft::HardState& hs);
Result<raft::HardState> DecodeHardState(std::string_view payload);

struct SnapshotMark {
  LogIndex index;
  Term term;
  // The log held no entry (index, term) when the snapshot was applied, so every entry before this
  // mark is void; otherwise only those up to `index` are.
  bool cleared = false;

  bool operator==(const SnapshotMark&) const = default;
};
std::string EncodeSnapshotMark(const SnapshotMark& mark);
Result<SnapshotMark> DecodeSnapshotMark(std::string_view payload);

std::string EncodeSegmentHeader(uint64_t segment_seq);
// Returns the segment's sequence number; kCorruption on a wrong magic, kFailedPrecondition on an
// unknown format version.
Result<uint64_t> DecodeSegmentHeader(std::string_view payload);

}  // namespace nds::wal
