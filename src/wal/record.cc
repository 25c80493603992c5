// Framing and payload coding of WAL records (docs/formats/wal.md).
#include "wal/record.h"

#include <fmt/format.h>

#include "util/coding.h"
#include "util/crc32c.h"

namespace nds::wal {
namespace {

size_t VarintBytes(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

Status CheckVersion(Decoder* d, std::string_view what) {
  auto version = d->Bytes(1);
  if (!version.ok()) return Corruption(fmt::format("{} record: empty payload", what));
  if (static_cast<uint8_t>((*version)[0]) != kPayloadVersion) {
    return Corruption(fmt::format("{} record: unknown payload version {}", what,
                                  static_cast<int>(static_cast<uint8_t>((*version)[0]))));
  }
  return Status::Ok();
}

Result<uint64_t> ReadVarint(Decoder* d, std::string_view what) {
  auto v = d->Varint64();
  if (!v.ok()) return Corruption(fmt::format("{} record: {}", what, v.status().message()));
  return *v;
}

Status CheckDone(const Decoder& d, std::string_view what) {
  if (!d.done())
    return Corruption(fmt::format("{} record: {} trailing bytes", what, d.remaining()));
  return Status::Ok();
}

// An entry's fields before its data, and how many payload bytes they took.
struct EntryPrefix {
  raft::Entry entry;
  size_t prefix_bytes = 0;
};

// Reads a varint at *p (bounded by `end`), advancing *p; false when truncated or longer than 10
// bytes. Inline and Result-free: recovery decodes millions of these.
inline bool ReadVarintFast(const char** p, const char* end, uint64_t* v) {
  constexpr int kVarint64BytesMax = 10;  // ten 7-bit groups hold 64 bits
  uint64_t result = 0;
  for (int shift = 0; shift < 7 * kVarint64BytesMax && *p < end; shift += 7) {
    uint64_t byte = static_cast<uint8_t>(**p);
    ++*p;
    if (shift == 63 && byte > 1) return false;
    result |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      *v = result;
      return true;
    }
  }
  return false;
}

Result<EntryPrefix> DecodeEntryPrefix(std::string_view payload) {
  const char* p = payload.data();
  const char* end = p + payload.size();
  if (p == end) return Corruption("entry record: empty payload");
  if (static_cast<uint8_t>(*p) != kPayloadVersion) {
    return Corruption(fmt::format("entry record: unknown payload version {}",
                                  static_cast<int>(static_cast<uint8_t>(*p))));
  }
  ++p;
  EntryPrefix out;
  if (!ReadVarintFast(&p, end, &out.entry.term.value) ||
      !ReadVarintFast(&p, end, &out.entry.index.value)) {
    return Corruption("entry record: bad term or index varint");
  }
  if (p == end) return Corruption("entry record: no entry type");
  uint8_t t = static_cast<uint8_t>(*p++);
  if (t > static_cast<uint8_t>(raft::EntryType::kConfChange)) {
    return Corruption(fmt::format("entry record: unknown entry type {}", static_cast<int>(t)));
  }
  out.entry.type = static_cast<raft::EntryType>(t);
  out.prefix_bytes = static_cast<size_t>(p - payload.data());
  return out;
}

}  // namespace

void AppendRecord(std::string* dst, RecordType type, std::string_view payload) {
  NDS_CHECK(payload.size() <= kRecordPayloadBytesMax, "payload of {} bytes", payload.size());
  size_t start = dst->size();
  dst->resize(start + kRecordHeaderBytes);
  char* h = dst->data() + start;
  EncodeFixed32(h + kPayloadBytesOffset, static_cast<uint32_t>(payload.size()));
  h[kTypeOffset] = static_cast<char>(type);
  h[kTypeOffset + 1] = h[kTypeOffset + 2] = h[kTypeOffset + 3] = 0;
  EncodeFixed32(h + kPayloadCrcOffset, crc32c::Value(payload));
  EncodeFixed32(h + kHeaderCrcOffset,
                crc32c::Extend(0, h + kPayloadBytesOffset, kRecordHeaderBytes - 4));
  dst->append(payload);
}

ParsedRecord ParseRecord(std::string_view in) {
  ParsedRecord r;
  if (in.size() < kRecordHeaderBytes) {
    bool zeros = in.find_first_not_of('\0') == std::string_view::npos;
    r.check = zeros ? RecordCheck::kEndOfData : RecordCheck::kTruncated;
    return r;
  }
  const char* h = in.data();
  uint32_t header_crc = DecodeFixed32(h + kHeaderCrcOffset);
  uint32_t payload_bytes = DecodeFixed32(h + kPayloadBytesOffset);
  uint8_t type = static_cast<uint8_t>(h[kTypeOffset]);
  if (header_crc == 0 && payload_bytes == 0 && type == 0 &&
      in.substr(0, kRecordHeaderBytes).find_first_not_of('\0') == std::string_view::npos) {
    r.check = RecordCheck::kEndOfData;
    return r;
  }
  if (crc32c::Extend(0, h + kPayloadBytesOffset, kRecordHeaderBytes - 4) != header_crc ||
      type == 0 || type > kRecordTypeMax || h[kTypeOffset + 1] != 0 || h[kTypeOffset + 2] != 0 ||
      h[kTypeOffset + 3] != 0 || payload_bytes > kRecordPayloadBytesMax) {
    r.check = RecordCheck::kBadHeader;
    return r;
  }
  r.type = static_cast<RecordType>(type);
  r.framed_bytes = FramedBytes(payload_bytes);
  if (in.size() < r.framed_bytes) {
    r.check = RecordCheck::kTruncated;
    return r;
  }
  std::string_view payload = in.substr(kRecordHeaderBytes, payload_bytes);
  if (crc32c::Value(payload) != DecodeFixed32(h + kPayloadCrcOffset)) {
    r.check = RecordCheck::kBadPayload;
    return r;
  }
  r.check = RecordCheck::kOk;
  r.payload = payload;
  return r;
}

std::string EncodeEntry(const raft::Entry& entry) {
  std::string out;
  out.reserve(EncodedEntryBytes(entry));
  out.push_back(static_cast<char>(kPayloadVersion));
  PutVarint64(&out, entry.term.value);
  PutVarint64(&out, entry.index.value);
  out.push_back(static_cast<char>(entry.type));
  out.append(entry.data);
  return out;
}

uint64_t EncodedEntryBytes(const raft::Entry& entry) {
  return 1 + VarintBytes(entry.term.value) + VarintBytes(entry.index.value) + 1 + entry.data.size();
}

void AppendEntryRecordHead(std::string* dst, const raft::Entry& entry) {
  size_t start = dst->size();
  uint64_t payload_bytes = EncodedEntryBytes(entry);
  NDS_CHECK(payload_bytes <= kRecordPayloadBytesMax, "entry of {} bytes", payload_bytes);
  dst->resize(start + kRecordHeaderBytes);
  dst->push_back(static_cast<char>(kPayloadVersion));
  PutVarint64(dst, entry.term.value);
  PutVarint64(dst, entry.index.value);
  dst->push_back(static_cast<char>(entry.type));
  const size_t prefix_bytes = dst->size() - start - kRecordHeaderBytes;
  NDS_CHECK(prefix_bytes + entry.data.size() == payload_bytes);
  char* h = dst->data() + start;
  EncodeFixed32(h + kPayloadBytesOffset, static_cast<uint32_t>(payload_bytes));
  h[kTypeOffset] = static_cast<char>(RecordType::kEntry);
  h[kTypeOffset + 1] = h[kTypeOffset + 2] = h[kTypeOffset + 3] = 0;
  uint32_t crc = crc32c::Extend(0, h + kRecordHeaderBytes, prefix_bytes);
  EncodeFixed32(h + kPayloadCrcOffset, crc32c::Extend(crc, entry.data.data(), entry.data.size()));
  EncodeFixed32(h + kHeaderCrcOffset,
                crc32c::Extend(0, h + kPayloadBytesOffset, kRecordHeaderBytes - 4));
}

void AppendEntryRecord(std::string* dst, const raft::Entry& entry) {
  AppendEntryRecordHead(dst, entry);
  dst->append(entry.data);
}

Result<raft::Entry> DecodeEntry(std::string_view payload) {
  NDS_ASSIGN_OR_RETURN(EntryPrefix p, DecodeEntryPrefix(payload));
  p.entry.data = std::string(payload.substr(p.prefix_bytes));
  return std::move(p.entry);
}

Result<raft::Entry> DecodeEntryHeader(std::string_view payload) {
  NDS_ASSIGN_OR_RETURN(EntryPrefix p, DecodeEntryPrefix(payload));
  return std::move(p.entry);
}

std::string EncodeHardState(const raft::HardState& hs) {
  std::string out;
  out.push_back(static_cast<char>(kPayloadVersion));
  PutVarint64(&out, hs.term.value);
  PutVarint64(&out, hs.vote.value);
  PutVarint64(&out, hs.commit.value);
  return out;
}

Result<raft::HardState> DecodeHardState(std::string_view payload) {
  Decoder d(payload);
  NDS_RETURN_IF_ERROR(CheckVersion(&d, "hard state"));
  raft::HardState hs;
  NDS_ASSIGN_OR_RETURN(hs.term.value, ReadVarint(&d, "hard state"));
  NDS_ASSIGN_OR_RETURN(hs.vote.value, ReadVarint(&d, "hard state"));
  NDS_ASSIGN_OR_RETURN(hs.commit.value, ReadVarint(&d, "hard state"));
  NDS_RETURN_IF_ERROR(CheckDone(d, "hard state"));
  return hs;
}

std::string EncodeSnapshotMark(const SnapshotMark& mark) {
  std::string out;
  out.push_back(static_cast<char>(kPayloadVersion));
  PutVarint64(&out, mark.index.value);
  PutVarint64(&out, mark.term.value);
  out.push_back(mark.cleared ? 1 : 0);
  return out;
}

Result<SnapshotMark> DecodeSnapshotMark(std::string_view payload) {
  Decoder d(payload);
  NDS_RETURN_IF_ERROR(CheckVersion(&d, "snapshot mark"));
  SnapshotMark m;
  NDS_ASSIGN_OR_RETURN(m.index.value, ReadVarint(&d, "snapshot mark"));
  NDS_ASSIGN_OR_RETURN(m.term.value, ReadVarint(&d, "snapshot mark"));
  auto flag = d.Bytes(1);
  if (!flag.ok() || static_cast<uint8_t>((*flag)[0]) > 1) {
    return Corruption("snapshot mark record: bad cleared flag");
  }
  m.cleared = (*flag)[0] == 1;
  NDS_RETURN_IF_ERROR(CheckDone(d, "snapshot mark"));
  return m;
}

std::string EncodeSegmentHeader(uint64_t segment_seq) {
  std::string out(kSegmentMagic);
  PutFixed32(&out, kWalFormatVersion);
  PutFixed64(&out, segment_seq);
  return out;
}

Result<uint64_t> DecodeSegmentHeader(std::string_view payload) {
  if (payload.size() != kSegmentMagic.size() + 12 || payload.substr(0, 8) != kSegmentMagic) {
    return Corruption("segment header: not an nds WAL segment");
  }
  uint32_t version = DecodeFixed32(payload.data() + 8);
  if (version != kWalFormatVersion) {
    return FailedPrecondition(
        fmt::format("segment header: WAL format version {}, this build reads only {}", version,
                    kWalFormatVersion));
  }
  return DecodeFixed64(payload.data() + 12);
}

}  // namespace nds::wal
