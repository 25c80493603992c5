// Writer and reader of the memory-engine checkpoint file (engine/memory_checkpoint.h). The
// writer streams the view through a bounded buffer; the reader maps the file read-only and
// checks every checksum, length and key order before it hands a pair on.
#include "engine/memory_checkpoint.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <string>
#include <string_view>
#include <unistd.h>

#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "engine/file_util.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace nds::engine {
namespace {

// The writer hands the file system at least this much at a time.
constexpr size_t kWriteChunkBytes = 1 << 20;

// Owns a file descriptor; closes it (ignoring errors: the writer closes explicitly first).
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

void AppendRecord(std::string* out, std::string_view key, std::string_view value) {
  size_t start = out->size();
  out->push_back(static_cast<char>(kMemoryCheckpointRecordKind));
  PutVarint64(out, key.size());
  PutVarint64(out, value.size());
  out->append(key);
  out->append(value);
  PutFixed32(out, crc32c::Extend(0, out->data() + start, out->size() - start));
}

// Unmaps on destruction.
class Mapping {
 public:
  Mapping(void* addr, size_t bytes) : addr_(addr), bytes_(bytes) {}
  ~Mapping() {
    if (addr_ != nullptr) ::munmap(addr_, bytes_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  std::string_view bytes() const { return {static_cast<const char*>(addr_), bytes_}; }

 private:
  void* addr_;
  size_t bytes_;
};

// Parses a mapped checkpoint; every error names the file and the offset.
class Parser {
 public:
  Parser(const std::string& path, std::string_view file) : path_(path), file_(file), in_(file) {}

  Result<LogIndex> Run(
      const std::function<void(std::string_view key, std::string_view value)>& on_pair);

 private:
  size_t offset() const { return file_.size() - in_.remaining(); }
  Status Damaged(std::string_view what, size_t at) const {
    return Corruption(fmt::format("memory engine checkpoint {}: {} at offset {}", path_, what, at));
  }
  Result<LogIndex> Header();
  // Checks the CRC of the bytes [start, offset()) against the fixed32 that follows.
  Status CheckCrc(size_t start, std::string_view what);

  const std::string& path_;
  std::string_view file_;
  Decoder in_;
};

Status Parser::CheckCrc(size_t start, std::string_view what) {
  size_t end = offset();
  Result<uint32_t> stored = in_.Fixed32();
  if (!stored.ok()) return Damaged(fmt::format("truncated {} checksum", what), end);
  uint32_t actual = crc32c::Value(file_.substr(start, end - start));
  if (*stored != actual) return Damaged(fmt::format("{} checksum mismatch", what), start);
  return Status::Ok();
}

Result<LogIndex> Parser::Header() {
  Result<std::string_view> magic = in_.Bytes(kMemoryCheckpointMagicBytes);
  if (!magic.ok() || *magic != std::string_view(kMemoryCheckpointMagic)) {
    return Damaged("bad magic (not a memory engine checkpoint)", 0);
  }
  Result<uint32_t> version = in_.Fixed32();
  Result<uint64_t> index = in_.Fixed64();
  if (!version.ok() || !index.ok()) return Damaged("truncated header", 0);
  NDS_RETURN_IF_ERROR(CheckCrc(0, "header"));
  if (*version != kMemoryCheckpointFormatVersion) {
    return Damaged(fmt::format("unknown format version {}", *version), kMemoryCheckpointMagicBytes);
  }
  return LogIndex(*index);
}

Result<LogIndex> Parser::Run(
    const std::function<void(std::string_view key, std::string_view value)>& on_pair) {
  NDS_ASSIGN_OR_RETURN(LogIndex applied_index, Header());
  std::string_view previous_key;
  uint64_t records = 0;
  while (true) {
    size_t start = offset();
    Result<std::string_view> kind = in_.Bytes(1);
    if (!kind.ok()) return Damaged("truncated file (no trailer)", start);
    if (static_cast<uint8_t>((*kind)[0]) == kMemoryCheckpointTrailerKind) {
      Result<uint64_t> count = in_.Fixed64();
      if (!count.ok()) return Damaged("truncated trailer", start);
      NDS_RETURN_IF_ERROR(CheckCrc(start, "trailer"));
      if (*count != records) {
        return Damaged(fmt::format("trailer counts {} records, file has {}", *count, records),
                       start);
      }
      if (!in_.done()) return Damaged("bytes after the trailer", offset());
      return applied_index;
    }
    if (static_cast<uint8_t>((*kind)[0]) != kMemoryCheckpointRecordKind) {
      return Damaged("unknown record kind", start);
    }
    // Decoder rejects lengths beyond the end of the file, so no length can overrun the mapping.
    Result<uint64_t> key_bytes = in_.Varint64();
    Result<uint64_t> value_bytes = key_bytes.ok() ? in_.Varint64() : key_bytes;
    if (!value_bytes.ok()) return Damaged("bad record lengths", start);
    Result<std::string_view> key = in_.Bytes(*key_bytes);
    Result<std::string_view> value = key.ok() ? in_.Bytes(*value_bytes) : key;
    if (!value.ok()) return Damaged("record runs past the end of the file", start);
    NDS_RETURN_IF_ERROR(CheckCrc(start, "record"));
    if (records > 0 && *key <= previous_key) return Damaged("keys out of order", start);
    on_pair(*key, *value);
    previous_key = *key;
    ++records;
  }
}

}  // namespace

Status WriteMemoryCheckpoint(const std::string& path, const View& view) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    if (errno == EEXIST) return AlreadyExists(fmt::format("checkpoint file {}", path));
    return ErrnoStatus(errno, "create", path);
  }
  std::string buffer;
  buffer.reserve(kWriteChunkBytes + 1024);
  buffer.append(kMemoryCheckpointMagic, kMemoryCheckpointMagicBytes);
  PutFixed32(&buffer, kMemoryCheckpointFormatVersion);
  PutFixed64(&buffer, view.applied_index().value);
  PutFixed32(&buffer, crc32c::Value(buffer));

  uint64_t records = 0;
  std::unique_ptr<Iterator> it = view.NewIterator();
  for (it->Seek(""); it->Valid(); it->Next()) {
    AppendRecord(&buffer, it->key(), it->value());
    ++records;
    if (buffer.size() >= kWriteChunkBytes) {
      NDS_RETURN_IF_ERROR(WriteAll(fd.get(), buffer, path));
      buffer.clear();
    }
  }
  NDS_RETURN_IF_ERROR(it->status());
  size_t start = buffer.size();
  buffer.push_back(static_cast<char>(kMemoryCheckpointTrailerKind));
  PutFixed64(&buffer, records);
  PutFixed32(&buffer, crc32c::Extend(0, buffer.data() + start, buffer.size() - start));
  NDS_RETURN_IF_ERROR(WriteAll(fd.get(), buffer, path));
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "fsync", path);
  if (::close(fd.Release()) != 0) return ErrnoStatus(errno, "close", path);
  return Status::Ok();
}

Result<LogIndex> ReadMemoryCheckpoint(
    const std::string& path,
    const std::function<void(std::string_view key, std::string_view value)>& on_pair) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return NotFound(fmt::format("memory engine checkpoint {}", path));
    return ErrnoStatus(errno, "open", path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  size_t file_bytes = static_cast<size_t>(st.st_size);
  if (file_bytes < kMemoryCheckpointHeaderBytes + kMemoryCheckpointTrailerBytes) {
    return Corruption(
        fmt::format("memory engine checkpoint {}: truncated file of {} bytes at "
                    "offset 0",
                    path, file_bytes));
  }
  void* addr = ::mmap(nullptr, file_bytes, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (addr == MAP_FAILED) return ErrnoStatus(errno, "mmap", path);
  Mapping mapping(addr, file_bytes);
  // The pages are read once, in order: let the kernel read ahead and drop them behind.
  ::madvise(addr, file_bytes, MADV_SEQUENTIAL);
  Parser parser(path, mapping.bytes());
  return parser.Run(on_pair);
}

}  // namespace nds::engine
