// The snapshot image codec (docs/formats/image.md).
#include "store/image_format.h"

#include "store/auth_state.h"
#include "store/keyspace.h"
#include "store/lease_state.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace nds::store {
namespace {

std::string At(uint64_t offset) { return " at byte offset " + std::to_string(offset); }

}  // namespace

bool IsImageAuthName(std::string_view system_name) {
  return system_name == kAuthModeKey || system_name.starts_with(kTokenKeyPrefix) ||
         system_name == kLeaseCountKey || system_name.starts_with(kLeaseKeyPrefix) ||
         system_name.starts_with(kLeaseAttachPrefix);
}

std::string EncodeImageHeader(const ImageHeader& header) {
  std::string fields;
  PutFixed64(&fields, header.revision);
  PutFixed64(&fields, header.created_unix_ms);
  PutLengthPrefixed(&fields, header.cluster_id);
  std::string out(kImageMagic);
  PutFixed32(&out, header.version);
  PutFixed32(&out, static_cast<uint32_t>(fields.size()));
  out += fields;
  PutFixed32(&out, crc32c::Value(out));
  return out;
}

std::string EncodeImageRecord(const ImageRecord& record) {
  std::string body;
  body.push_back(static_cast<char>(record.kind));
  switch (record.kind) {
    case ImageRecordKind::kData:
      PutVarint64(&body, record.revision);
      PutLengthPrefixed(&body, record.content_type);
      PutLengthPrefixed(&body, record.key);
      break;
    case ImageRecordKind::kSecret:
    case ImageRecordKind::kAuth:
      PutLengthPrefixed(&body, record.key);
      break;
    case ImageRecordKind::kTrailer:
      break;
  }
  body += record.value;
  std::string out;
  PutFixed32(&out, static_cast<uint32_t>(body.size() - 1));
  PutFixed32(&out, crc32c::Value(body));
  out += body;
  return out;
}

ImageWriter::ImageWriter(std::unique_ptr<engine::View> view, std::string cluster_id,
                         uint64_t created_unix_ms)
    : view_(std::move(view)),
      cluster_id_(std::move(cluster_id)),
      created_unix_ms_(created_unix_ms),
      revision_(view_->applied_index().value) {}

void ImageWriter::Append(std::string* out, std::string_view bytes) {
  crc_ = crc32c::Extend(crc_, bytes.data(), bytes.size());
  totals_.bytes += bytes.size();
  out->append(bytes);
}

void ImageWriter::AppendRecord(std::string* out, ImageRecordKind kind, std::string_view body) {
  // body is everything after the kind byte; the CRC covers the kind and the body.
  char kind_byte = static_cast<char>(kind);
  uint32_t crc = crc32c::Extend(crc32c::Extend(0, &kind_byte, 1), body.data(), body.size());
  char head[kImageRecordHeadBytes];
  EncodeFixed32(head, static_cast<uint32_t>(body.size()));
  EncodeFixed32(head + 4, crc);
  head[8] = kind_byte;
  Append(out, std::string_view(head, sizeof(head)));
  Append(out, body);
  if (kind != ImageRecordKind::kTrailer) ++totals_.records;
}

Result<bool> ImageWriter::Pull(std::string* out, size_t chunk_bytes) {
  if (done_) return false;
  const size_t start = out->size();
  if (!started_) {
    started_ = true;
    Append(out, EncodeImageHeader(
                    ImageHeader{kImageFormatVersion, revision_, created_unix_ms_, cluster_id_}));
    it_ = view_->NewIterator();
    it_->Seek("");
  }
  while (out->size() - start < chunk_bytes && it_->Valid()) {
    std::string_view key = it_->key();
    std::string_view value = it_->value();
    scratch_.clear();
    if (key[0] == kDataPrefix) {
      NDS_ASSIGN_OR_RETURN(RecordView rec, DecodeRecord(value));
      PutVarint64(&scratch_, rec.revision);
      PutLengthPrefixed(&scratch_, rec.content_type);
      PutLengthPrefixed(&scratch_, key.substr(1));
      scratch_.append(rec.value);
      AppendRecord(out, ImageRecordKind::kData, scratch_);
    } else if (key[0] == kSecretPrefix) {
      PutLengthPrefixed(&scratch_, key.substr(1));
      scratch_.append(value);
      AppendRecord(out, ImageRecordKind::kSecret, scratch_);
    } else if (key[0] == kSystemPrefix && IsImageAuthName(key.substr(1))) {
      PutLengthPrefixed(&scratch_, key.substr(1));
      scratch_.append(value);
      AppendRecord(out, ImageRecordKind::kAuth, scratch_);
    }
    it_->Next();
  }
  if (it_->Valid()) return true;
  NDS_RETURN_IF_ERROR(it_->status());
  // The trailer: the records before it, the bytes before it, and their CRC.
  scratch_.clear();
  PutFixed64(&scratch_, totals_.records);
  PutFixed64(&scratch_, totals_.bytes);
  PutFixed32(&scratch_, crc_);
  AppendRecord(out, ImageRecordKind::kTrailer, scratch_);
  done_ = true;
  return false;
}

Status ImageReader::ReadExactly(size_t n, std::string* out, std::string_view what) {
  out->resize(n);
  size_t got = 0;
  while (got < n) {
    NDS_ASSIGN_OR_RETURN(size_t r, source_(out->data() + got, n - got));
    if (r == 0) {
      return Corruption("the image is truncated" + At(offset_ + got) + " (in " + std::string(what) +
                        ", " + std::to_string(n - got) + " more bytes expected)");
    }
    got += r;
  }
  crc_ = crc32c::Extend(crc_, out->data(), n);
  offset_ += n;
  return Status::Ok();
}

Status ImageReader::ReadHeader() {
  std::string fixed;
  NDS_RETURN_IF_ERROR(ReadExactly(kImageMagic.size() + 8, &fixed, "the header"));
  if (std::string_view(fixed).substr(0, kImageMagic.size()) != kImageMagic) {
    return Corruption("not a snapshot image: wrong magic" + At(0));
  }
  header_.version = DecodeFixed32(fixed.data() + kImageMagic.size());
  uint32_t fields_bytes = DecodeFixed32(fixed.data() + kImageMagic.size() + 4);
  if (header_.version != kImageFormatVersion) {
    return FailedPrecondition("the image has format version " + std::to_string(header_.version) +
                              "; this nds reads version " + std::to_string(kImageFormatVersion));
  }
  if (fields_bytes > kImageHeaderBytesMax) {
    return Corruption("the header's length " + std::to_string(fields_bytes) + " is too large" +
                      At(kImageMagic.size() + 4));
  }
  std::string fields;
  NDS_RETURN_IF_ERROR(ReadExactly(fields_bytes, &fields, "the header"));
  const uint32_t expected = crc_;
  std::string crc;
  NDS_RETURN_IF_ERROR(ReadExactly(4, &crc, "the header"));
  if (DecodeFixed32(crc.data()) != expected) {
    return Corruption("the header's checksum does not match" + At(offset_ - 4));
  }
  Decoder d(fields);
  auto revision = d.Fixed64();
  auto created = d.Fixed64();
  auto cluster = d.LengthPrefixed();
  if (!revision.ok() || !created.ok() || !cluster.ok() ||
      cluster->size() > kImageClusterIdBytesMax) {
    return Corruption("the header's fields are malformed" + At(kImageMagic.size() + 8));
  }
  header_.revision = *revision;
  header_.created_unix_ms = *created;
  header_.cluster_id = std::string(*cluster);
  return Status::Ok();
}

Status ImageReader::CheckTrailer(std::string_view body, uint64_t record_offset,
                                 uint32_t crc_before) {
  Decoder d(body);
  auto records = d.Fixed64();
  auto bytes = d.Fixed64();
  auto crc = d.Fixed32();
  if (!records.ok() || !bytes.ok() || !crc.ok() || !d.done()) {
    return Corruption("the trailer is malformed" + At(record_offset));
  }
  if (*records != totals_.records || *bytes != record_offset) {
    return Corruption("the trailer" + At(record_offset) + " counts " + std::to_string(*records) +
                      " records in " + std::to_string(*bytes) + " bytes, but the image holds " +
                      std::to_string(totals_.records) + " in " + std::to_string(record_offset));
  }
  if (*crc != crc_before) {
    return Corruption("the image's checksum does not match: the trailer" + At(record_offset) +
                      " says " + std::to_string(*crc) + ", the bytes before it give " +
                      std::to_string(crc_before));
  }
  return Status::Ok();
}

Result<bool> ImageReader::Next(ImageRecord* record) {
  if (finished_) return false;
  const uint64_t record_offset = offset_;
  const uint32_t crc_before = crc_;
  NDS_RETURN_IF_ERROR(ReadExactly(kImageRecordHeadBytes, &head_, "a record's header"));
  const uint64_t body_bytes = DecodeFixed32(head_.data());
  const uint32_t crc = DecodeFixed32(head_.data() + 4);
  const auto kind = static_cast<ImageRecordKind>(static_cast<uint8_t>(head_[8]));
  if (kind != ImageRecordKind::kData && kind != ImageRecordKind::kSecret &&
      kind != ImageRecordKind::kAuth && kind != ImageRecordKind::kTrailer) {
    return Corruption("unknown record kind " + std::to_string(static_cast<uint8_t>(head_[8])) +
                      At(record_offset));
  }
  if (body_bytes > kImageRecordBytesMax) {
    return Corruption("a record length of " + std::to_string(body_bytes) +
                      " bytes is beyond the limit" + At(record_offset));
  }
  NDS_RETURN_IF_ERROR(ReadExactly(body_bytes, &body_, "a record"));
  if (crc32c::Extend(crc32c::Extend(0, &head_[8], 1), body_.data(), body_.size()) != crc) {
    return Corruption("a record's checksum does not match" + At(record_offset));
  }
  if (kind == ImageRecordKind::kTrailer) {
    NDS_RETURN_IF_ERROR(CheckTrailer(body_, record_offset, crc_before));
    char extra;
    NDS_ASSIGN_OR_RETURN(size_t more, source_(&extra, 1));
    if (more != 0) return Corruption("bytes follow the trailer" + At(offset_));
    totals_.bytes = offset_;
    finished_ = true;
    return false;
  }
  Decoder d(body_);
  record->kind = kind;
  record->revision = 0;
  record->content_type.clear();
  if (kind == ImageRecordKind::kData) {
    auto revision = d.Varint64();
    auto content_type = d.LengthPrefixed();
    if (!revision.ok() || !content_type.ok()) {
      return Corruption("a data record is malformed" + At(record_offset));
    }
    record->revision = *revision;
    record->content_type = std::string(*content_type);
  }
  auto key = d.LengthPrefixed();
  if (!key.ok() || key->empty())
    return Corruption("a record's key is malformed" + At(record_offset));
  record->key.assign(*key);
  record->value.assign(body_.data() + (body_.size() - d.remaining()), d.remaining());
  ++totals_.records;
  if (kind == ImageRecordKind::kData) ++totals_.data_records;
  if (kind == ImageRecordKind::kSecret) ++totals_.secret_records;
  if (kind == ImageRecordKind::kAuth) ++totals_.auth_records;
  return true;
}

}  // namespace nds::store
