// Snapshot image files on disk.
#include "cli/image_file.h"

#include <cerrno>
#include <cstring>

namespace nds::cli {
namespace {

constexpr size_t kReadBufferBytes = 1 << 20;

}  // namespace

ImageFile::ImageFile(std::string path, std::FILE* f)
    : path_(std::move(path)),
      file_(f),
      buffer_(new char[kReadBufferBytes]),
      reader_([this](char* buf, size_t n) { return Read(buf, n); }) {
  std::setvbuf(file_, buffer_.get(), _IOFBF, kReadBufferBytes);
}

ImageFile::~ImageFile() { std::fclose(file_); }

Result<std::unique_ptr<ImageFile>> ImageFile::Open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    std::string why = std::string("cannot open ") + path + ": " + std::strerror(err);
    return err == ENOENT ? NotFound(why) : IoError(why);
  }
  return std::unique_ptr<ImageFile>(new ImageFile(path, f));
}

Result<size_t> ImageFile::Read(char* buf, size_t n) {
  size_t got = std::fread(buf, 1, n, file_);
  if (got < n && std::ferror(file_)) return IoError("cannot read " + path_);
  return got;
}

Result<ImageSummary> CheckImageFile(const std::string& path) {
  NDS_ASSIGN_OR_RETURN(auto file, ImageFile::Open(path));
  store::ImageReader& r = file->reader();
  NDS_RETURN_IF_ERROR(r.ReadHeader());
  store::ImageRecord record;
  for (;;) {
    NDS_ASSIGN_OR_RETURN(bool more, r.Next(&record));
    if (!more) break;
  }
  return ImageSummary{r.header(), r.totals()};
}

}  // namespace nds::cli
