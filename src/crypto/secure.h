// Handling key material: constant-time comparison, wiping, and SecretBytes, a buffer that wipes
// itself. Every crypto/ function that holds a key or a derived subkey keeps it in a SecretBytes so
// that the bytes are overwritten (OPENSSL_cleanse, which the compiler may not elide) as soon as the
// owner lets go of them, on every path including early error returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace nds::crypto {

// Views the bytes of a string as unsigned bytes; valid as long as `s`'s storage is.
inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Views unsigned bytes as a string_view; valid as long as `b`'s storage is.
inline std::string_view AsStringView(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// True when `a` and `b` hold the same bytes. The time taken depends on the lengths (treated as
// public) but not on the contents, so it is safe for comparing MACs and tags (CRYPTO_memcmp).
bool ConstantTimeEquals(std::span<const uint8_t> a, std::span<const uint8_t> b);
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Overwrites `bytes` with zeros in a way the optimiser keeps (OPENSSL_cleanse).
void SecureWipe(std::span<uint8_t> bytes);
// Overwrites the characters of `s` with zeros and then clears it (size() becomes 0). Only the
// current contents are wiped: copies the string made earlier, or buffers it gave up when it grew,
// are out of reach, so build secret strings at their final size.
void SecureWipe(std::string& s);

// A fixed-size heap buffer for key material that is wiped when destroyed, when assigned over, and
// when moved from (the moved-from object is left empty). Not copyable, so the secret exists only
// where it was put. Owned by its holder. Not thread-safe: the caller serialises.
class SecretBytes {
 public:
  SecretBytes() = default;
  // A buffer of `size_bytes` zero bytes.
  explicit SecretBytes(size_t size_bytes);
  // A buffer holding a copy of `bytes`.
  static SecretBytes CopyOf(std::span<const uint8_t> bytes);

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  size_t size() const { return size_bytes_; }
  bool empty() const { return size_bytes_ == 0; }
  // The bytes; valid until this object is destroyed, moved from or assigned to.
  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  std::span<uint8_t> span() { return {data_.get(), size_bytes_}; }
  std::span<const uint8_t> span() const { return {data_.get(), size_bytes_}; }

  // Wipes the bytes and frees the buffer; size() becomes 0.
  void Wipe();

 private:
  // Invariant: data_ is null exactly when size_bytes_ == 0.
  std::unique_ptr<uint8_t[]> data_;
  size_t size_bytes_ = 0;
};

}  // namespace nds::crypto
