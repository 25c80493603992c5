// The snapshot image: the portable, versioned, checksummed copy of a whole store that
// `GET /snapshot` streams and `nds snapshot save|inspect|restore` handle (docs/formats/image.md
// has the grammar and what each kind of damage does). Not a Raft snapshot (wal/snapshot_store.h):
// an image holds records, not engine files, so it restores into any engine and any new cluster.
//
// ImageWriter turns one engine view into the byte stream a piece at a time (constant memory);
// ImageReader checks and decodes a stream record by record, naming the byte offset of the first
// problem. Both are not thread-safe: one user at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "util/status.h"

namespace nds::store {

inline constexpr std::string_view kImageMagic = "NDSIMAGE";
inline constexpr uint32_t kImageFormatVersion = 1;
// Bounds a reader holds a stream to (it may come from a damaged file or a hostile server).
inline constexpr uint32_t kImageHeaderBytesMax = 4096;
inline constexpr uint64_t kImageRecordBytesMax = 1ull << 30;  // above any --max-value-bytes
inline constexpr size_t kImageClusterIdBytesMax = 256;
// length (4) + CRC (4) + kind (1).
inline constexpr size_t kImageRecordHeadBytes = 9;

enum class ImageRecordKind : uint8_t {
  kData = 1,    // a user key: revision, Content-Type, value
  kSecret = 2,  // a secret's location and sealed blob (ciphertext only)
  kAuth = 3,    // an authentication record of the system namespace (mode, token hashes)
  kTrailer = 0x7f,
};

struct ImageHeader {
  uint32_t version = kImageFormatVersion;
  uint64_t revision = 0;  // the applied index the image was taken at
  uint64_t created_unix_ms = 0;
  std::string cluster_id;
};

struct ImageRecord {
  ImageRecordKind kind = ImageRecordKind::kData;
  std::string key;  // kData: user key; kSecret: location; kAuth: system key name
  std::string value;
  uint64_t revision = 0;     // kData only
  std::string content_type;  // kData only
};

struct ImageTotals {
  uint64_t records = 0;
  uint64_t data_records = 0;
  uint64_t secret_records = 0;
  uint64_t auth_records = 0;
  uint64_t bytes = 0;  // the whole image, trailer included
};

// Whether `system_name` (an engine key under kSystemPrefix, without the prefix) is carried in
// images: the authentication mode and token records. Members and the join token are not: they
// belong to the cluster, not to the data.
bool IsImageAuthName(std::string_view system_name);

class ImageWriter {
 public:
  // Streams every data, secret and auth record of `view` after a header naming
  // `view->applied_index()` and `cluster_id`.
  ImageWriter(std::unique_ptr<engine::View> view, std::string cluster_id, uint64_t created_unix_ms);

  // Appends at least about `chunk_bytes` (less at the end) of the stream to `out`. Returns true
  // while more follows, false once the trailer has been appended. Engine errors and damaged
  // value records come back as a Status (the stream must then be abandoned).
  Result<bool> Pull(std::string* out, size_t chunk_bytes);

  uint64_t revision() const { return revision_; }

 private:
  void Append(std::string* out, std::string_view bytes);
  void AppendRecord(std::string* out, ImageRecordKind kind, std::string_view body);

  std::unique_ptr<engine::View> view_;
  std::unique_ptr<engine::Iterator> it_;
  std::string cluster_id_;
  uint64_t created_unix_ms_;
  uint64_t revision_;
  bool started_ = false;
  bool done_ = false;
  uint32_t crc_ = 0;  // of every byte appended so far
  ImageTotals totals_;
  std::string scratch_;
};

// Encodes one record's frame (used by the writer and by tests that build damaged images).
std::string EncodeImageRecord(const ImageRecord& record);
std::string EncodeImageHeader(const ImageHeader& header);

// Reads bytes from wherever the image is: up to `n` into `buf`; 0 at the end. Errors as Status.
using ImageSource = std::function<Result<size_t>(char* buf, size_t n)>;

class ImageReader {
 public:
  explicit ImageReader(ImageSource source) : source_(std::move(source)) {}

  // Reads and checks the header. kCorruption (with the offset) for a wrong magic, a bad CRC or a
  // truncated header; kFailedPrecondition for a newer format version.
  Status ReadHeader();
  const ImageHeader& header() const { return header_; }

  // Reads the next record into `*record`: true for a record, false once the trailer was read,
  // checked (count, byte total, whole-stream CRC) and nothing follows it. kCorruption naming the
  // byte offset for truncation, a bad length, kind or CRC, or bytes after the trailer.
  Result<bool> Next(ImageRecord* record);

  const ImageTotals& totals() const { return totals_; }
  uint64_t offset() const { return offset_; }

 private:
  // Reads exactly n bytes (into out), extending the CRC; kCorruption "truncated" otherwise.
  Status ReadExactly(size_t n, std::string* out, std::string_view what);
  Status CheckTrailer(std::string_view body, uint64_t record_offset, uint32_t crc_before);

  ImageSource source_;
  ImageHeader header_;
  uint64_t offset_ = 0;
  uint32_t crc_ = 0;
  ImageTotals totals_;
  std::string head_;
  std::string body_;
  bool finished_ = false;
};

}  // namespace nds::store
