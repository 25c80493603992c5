// Fuzz target: wal/record's reader over a segment's bytes, as recovery reads them: records one
// after another until the end or the first damage, each payload decoded by its type.
// Properties: no crash; a record never claims more bytes than remain; decoded payloads survive
// re-encoding.
#include "fuzz/fuzz_check.h"
#include "wal/record.h"

namespace wal = nds::wal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = nds::fuzz::AsView(data, size);
  while (!in.empty()) {
    const wal::ParsedRecord r = wal::ParseRecord(in);
    if (r.check != wal::RecordCheck::kOk) return 0;
    FUZZ_CHECK(r.framed_bytes > 0 && r.framed_bytes <= in.size());
    switch (r.type) {
      case wal::RecordType::kEntry:
        if (auto e = wal::DecodeEntry(r.payload); e.ok()) {
          auto again = wal::DecodeEntry(wal::EncodeEntry(*e));
          FUZZ_CHECK(again.ok() && *again == *e);
          FUZZ_CHECK(wal::DecodeEntryHeader(r.payload).ok());
        }
        break;
      case wal::RecordType::kHardState:
        if (auto hs = wal::DecodeHardState(r.payload); hs.ok()) {
          auto again = wal::DecodeHardState(wal::EncodeHardState(*hs));
          FUZZ_CHECK(again.ok() && *again == *hs);
        }
        break;
      case wal::RecordType::kSnapshotMark:
        if (auto m = wal::DecodeSnapshotMark(r.payload); m.ok()) {
          auto again = wal::DecodeSnapshotMark(wal::EncodeSnapshotMark(*m));
          FUZZ_CHECK(again.ok() && *again == *m);
        }
        break;
      case wal::RecordType::kSegmentHeader:
        if (auto seq = wal::DecodeSegmentHeader(r.payload); seq.ok()) {
          auto again = wal::DecodeSegmentHeader(wal::EncodeSegmentHeader(*seq));
          FUZZ_CHECK(again.ok() && *again == *seq);
        }
        break;
    }
    in.remove_prefix(r.framed_bytes);
  }
  return 0;
}
