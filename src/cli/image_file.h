// Reading a snapshot image file (store/image_format.h) from disk for `nds snapshot save`'s check,
// `inspect` and `restore`: a buffered source over one open file, and a whole-file check that
// names the byte offset of the first problem. Not thread-safe: one user at a time.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "store/image_format.h"
#include "util/status.h"

namespace nds::cli {

// An open image file; closes it when destroyed.
class ImageFile {
 public:
  // kNotFound / kIoError naming the path when it cannot be opened.
  static Result<std::unique_ptr<ImageFile>> Open(const std::string& path);
  ~ImageFile();
  ImageFile(const ImageFile&) = delete;
  ImageFile& operator=(const ImageFile&) = delete;

  // A reader over the file; valid while this ImageFile lives.
  store::ImageReader& reader() { return reader_; }

 private:
  ImageFile(std::string path, std::FILE* f);
  Result<size_t> Read(char* buf, size_t n);

  std::string path_;
  std::FILE* file_;
  std::unique_ptr<char[]> buffer_;
  store::ImageReader reader_;
};

// Reads the whole image at `path`: its header and totals when every record and the trailer
// check out; otherwise the first problem (kCorruption with the byte offset).
struct ImageSummary {
  store::ImageHeader header;
  store::ImageTotals totals;
};
Result<ImageSummary> CheckImageFile(const std::string& path);

}  // namespace nds::cli
