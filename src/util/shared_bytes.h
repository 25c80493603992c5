// SharedBytes: an immutable byte string whose copies share one buffer. A Raft entry's data travels
// from the proposal to the unstable log, the Ready handed to the driver, the append messages to
// every follower and the committed entries handed to the apply; with a plain std::string each of
// those was a copy of the whole value (16 MB for a big blob). Copying a SharedBytes costs one
// reference count; the bytes are freed with the last copy.
//
// Thread-safe like std::shared_ptr<const std::string>: copies may be used and dropped from any
// thread; the bytes never change after construction.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "util/check.h"

namespace nds {

class SharedBytes {
 public:
  SharedBytes() = default;
  // Takes the string's buffer (no copy when moved in). Implicit: a SharedBytes stands where a
  // string did.
  SharedBytes(std::string bytes)  // NOLINT(google-explicit-constructor)
      : bytes_(bytes.empty() ? nullptr : std::make_shared<const std::string>(std::move(bytes))),
        size_(bytes_ ? bytes_->size() : 0) {}
  SharedBytes(const char* bytes)  // NOLINT(google-explicit-constructor)
      : SharedBytes(std::string(bytes)) {}

  // Bytes [offset, offset + size) of `whole`, sharing its buffer (a follower's entry inside the
  // frame it arrived in: no copy of a big value). The slice keeps all of `whole` alive, so take
  // slices only of bytes that are most of it. Precondition: the range is within `whole`
  // (checked).
  static SharedBytes Slice(const SharedBytes& whole, size_t offset, size_t size);

  std::string_view view() const {
    return bytes_ ? std::string_view(*bytes_).substr(offset_, size_) : std::string_view();
  }
  operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor)
  // A copy of the bytes, for the rare caller that needs a string of its own.
  std::string str() const { return std::string(view()); }

  const char* data() const { return view().data(); }
  size_t size() const { return size_; }
  bool empty() const { return size() == 0; }
  auto begin() const { return view().begin(); }
  auto end() const { return view().end(); }

  friend bool operator==(const SharedBytes& a, const SharedBytes& b) {
    return a.view() == b.view();
  }

 private:
  std::shared_ptr<const std::string> bytes_;  // null when empty
  size_t offset_ = 0;
  size_t size_ = 0;
};

inline SharedBytes SharedBytes::Slice(const SharedBytes& whole, size_t offset, size_t size) {
  NDS_CHECK(offset <= whole.size_ && size <= whole.size_ - offset, "slice [{}, +{}) of {} bytes",
            offset, size, whole.size_);
  SharedBytes out;
  if (size == 0) return out;
  out.bytes_ = whole.bytes_;
  out.offset_ = whole.offset_ + offset;
  out.size_ = size;
  return out;
}

}  // namespace nds
