// Constants of the WAL's on-disk format, shared by the writer and the reader (STYLE.md §1).
// The grammar, and what recovery does with each kind of damage, is docs/formats/wal.md; change
// both together.
//
// A segment file DIR/wal/<16 hex digits>.wal is preallocated to its full size and holds records
// back to back from offset 0; the first is a kSegmentHeader, the second a kHardState. Unwritten
// space reads as zeros, and a zero header marks the end of the data.
//
// Record header (kRecordHeaderBytes, little-endian):
//   [0, 4)   header_crc   CRC32C of bytes [4, 16)
//   [4, 8)   payload_bytes
//   [8]      type         a RecordType
//   [9, 12)  reserved     zero
//   [12, 16) payload_crc  CRC32C of the payload
// followed by payload_bytes of payload. The header has its own CRC so that a damaged payload can
// be told apart from a damaged length: only then can recovery know where a record ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nds::wal {

inline constexpr size_t kRecordHeaderBytes = 16;
inline constexpr size_t kHeaderCrcOffset = 0;
inline constexpr size_t kPayloadBytesOffset = 4;
inline constexpr size_t kTypeOffset = 8;
inline constexpr size_t kPayloadCrcOffset = 12;
static_assert(kPayloadCrcOffset + 4 == kRecordHeaderBytes);
static_assert(kTypeOffset + 4 == kPayloadCrcOffset);  // type plus 3 reserved bytes

enum class RecordType : uint8_t {
  kSegmentHeader = 1,  // magic, format version, segment sequence number
  kEntry = 2,          // one raft::Entry
  kHardState = 3,      // raft::HardState (term, vote, commit); the newest one wins
  kSnapshotMark = 4,   // the log was moved onto a snapshot (index, term, whether it was cleared)
};
inline constexpr uint8_t kRecordTypeMax = 4;

// The WAL format version in every segment header; a reader refuses any other.
inline constexpr uint32_t kWalFormatVersion = 1;
// Version byte that opens every kEntry / kHardState / kSnapshotMark payload.
inline constexpr uint8_t kPayloadVersion = 1;
inline constexpr std::string_view kSegmentMagic = "ndswal\r\n";
static_assert(kSegmentMagic.size() == 8);

// No record payload may exceed this, whatever the segment size (a damaged length is caught here
// before anything is allocated).
inline constexpr uint32_t kRecordPayloadBytesMax = 1u << 30;
// The smallest segment that can hold its header, a hard state and some entries.
inline constexpr uint64_t kSegmentBytesMin = 4096;

inline constexpr std::string_view kSegmentSuffix = ".wal";
inline constexpr size_t kSegmentNameDigits = 16;

}  // namespace nds::wal
