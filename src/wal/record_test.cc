// Goal: the record codec frames and checks records exactly as docs/formats/wal.md says, and every
// payload decoder refuses damaged or unknown input with a Status. Method: round trips, then each
// damage kind (zeros, cut input, flipped header and payload bits, unknown versions and types).
#include "wal/record.h"

#include <string>

#include <gtest/gtest.h>

#include "util/coding.h"

namespace nds::wal {
namespace {

raft::Entry SampleEntry() {
  return {Term(300), LogIndex(70000), raft::EntryType::kConfChange, std::string("payload\0x", 9)};
}

TEST(Record, FramesRoundTripAndEntryRecordsMatchTheGenericPath) {
  raft::Entry e = SampleEntry();
  std::string a, b;
  AppendRecord(&a, RecordType::kEntry, EncodeEntry(e));
  AppendEntryRecord(&b, e);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), FramedBytes(EncodedEntryBytes(e)));
  const std::string padded = a + std::string(64, '\0');
  ParsedRecord r = ParseRecord(padded);
  ASSERT_EQ(r.check, RecordCheck::kOk);
  EXPECT_EQ(r.type, RecordType::kEntry);
  EXPECT_EQ(r.framed_bytes, a.size());
  EXPECT_EQ(*DecodeEntry(r.payload), e);
  raft::Entry head = *DecodeEntryHeader(r.payload);
  EXPECT_EQ(head.index, e.index);
  EXPECT_EQ(head.term, e.term);
  EXPECT_TRUE(head.data.empty());
}

TEST(Record, ZerosAreTheEndOfData) {
  EXPECT_EQ(ParseRecord(std::string(16, '\0')).check, RecordCheck::kEndOfData);
  EXPECT_EQ(ParseRecord(std::string(5, '\0')).check, RecordCheck::kEndOfData);
  EXPECT_EQ(ParseRecord("").check, RecordCheck::kEndOfData);
}

TEST(Record, EveryCutIsTruncatedAndEveryFlipIsCaught) {
  std::string rec;
  AppendEntryRecord(&rec, SampleEntry());
  for (size_t n = 1; n < rec.size(); ++n) {
    ParsedRecord r = ParseRecord(std::string_view(rec).substr(0, n));
    EXPECT_EQ(r.check, RecordCheck::kTruncated) << n;
    if (n >= kRecordHeaderBytes) {
      EXPECT_EQ(r.framed_bytes, rec.size()) << n;
    }
  }
  for (size_t i = 0; i < rec.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = rec;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      ParsedRecord r = ParseRecord(bad);
      EXPECT_NE(r.check, RecordCheck::kOk) << i << ":" << bit;
      if (i >= kRecordHeaderBytes) {
        EXPECT_EQ(r.check, RecordCheck::kBadPayload) << i;
        EXPECT_EQ(r.framed_bytes, rec.size());
      } else if (r.check == RecordCheck::kBadHeader) {
        EXPECT_EQ(r.framed_bytes, 0u);  // a length that cannot be trusted is not reported
      }
    }
  }
}

TEST(Record, HeaderChecksTypeReservedAndLength) {
  std::string rec;
  AppendRecord(&rec, static_cast<RecordType>(kRecordTypeMax + 1), "x");
  EXPECT_EQ(ParseRecord(rec).check, RecordCheck::kBadHeader);
  rec.clear();
  AppendRecord(&rec, RecordType::kHardState, "x");
  rec[10] = 1;  // reserved byte
  EXPECT_EQ(ParseRecord(rec).check, RecordCheck::kBadHeader);
}

TEST(Record, PayloadsRoundTrip) {
  raft::HardState hs{Term(5), NodeId(2), LogIndex(99)};
  EXPECT_EQ(*DecodeHardState(EncodeHardState(hs)), hs);
  SnapshotMark m{LogIndex(10), Term(3), true};
  EXPECT_EQ(*DecodeSnapshotMark(EncodeSnapshotMark(m)), m);
  EXPECT_EQ(*DecodeSegmentHeader(EncodeSegmentHeader(42)), 42u);
}

TEST(Record, DecodersRefuseUnknownVersionsTypesAndTrailingBytes) {
  std::string e = EncodeEntry(SampleEntry());
  e[0] = 2;
  EXPECT_EQ(DecodeEntry(e).status().code(), StatusCode::kCorruption);
  raft::Entry bad_type = SampleEntry();
  std::string t = EncodeEntry(bad_type);
  t[1 + 2 + 3] = 7;  // version, varint(300)=2 bytes, varint(70000)=3 bytes, then the type
  EXPECT_EQ(DecodeEntry(t).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeEntry("").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeHardState(EncodeHardState({}) + "x").status().code(), StatusCode::kCorruption);
  std::string mark = EncodeSnapshotMark({LogIndex(1), Term(1), false});
  mark.back() = 2;
  EXPECT_EQ(DecodeSnapshotMark(mark).status().code(), StatusCode::kCorruption);
  std::string header = EncodeSegmentHeader(1);
  header[0] = 'X';
  EXPECT_EQ(DecodeSegmentHeader(header).status().code(), StatusCode::kCorruption);
  header = EncodeSegmentHeader(1);
  EncodeFixed32(header.data() + 8, kWalFormatVersion + 1);
  EXPECT_EQ(DecodeSegmentHeader(header).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace nds::wal
