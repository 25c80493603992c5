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

namespace nds {

class SharedBytes {
 public:
  SharedBytes() = default;
  // Takes the string's buffer (no copy when moved in). Implicit: a SharedBytes stands where a
  // string did.
  SharedBytes(std::string bytes)  // NOLINT(google-explicit-constructor)
      : bytes_(bytes.empty() ? nullptr : std::make_shared<const std::string>(std::move(bytes))) {}
  SharedBytes(const char* bytes)  // NOLINT(google-explicit-constructor)
      : SharedBytes(std::string(bytes)) {}

  std::string_view view() const { return bytes_ ? std::string_view(*bytes_) : std::string_view(); }
  operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor)
  // A copy of the bytes, for the rare caller that needs a string of its own.
  std::string str() const { return bytes_ ? *bytes_ : std::string(); }

  const char* data() const { return view().data(); }
  size_t size() const { return bytes_ ? bytes_->size() : 0; }
  bool empty() const { return size() == 0; }
  auto begin() const { return view().begin(); }
  auto end() const { return view().end(); }

  friend bool operator==(const SharedBytes& a, const SharedBytes& b) {
    return a.view() == b.view();
  }

 private:
  std::shared_ptr<const std::string> bytes_;
};

}  // namespace nds
