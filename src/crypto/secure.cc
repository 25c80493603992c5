// Constant-time comparison, wiping and SecretBytes over OpenSSL's CRYPTO_memcmp and
// OPENSSL_cleanse.
#include "crypto/secure.h"

#include <algorithm>
#include <utility>

#include <openssl/crypto.h>

namespace nds::crypto {

bool ConstantTimeEquals(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return ConstantTimeEquals(AsBytes(a), AsBytes(b));
}

void SecureWipe(std::span<uint8_t> bytes) {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

void SecureWipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

SecretBytes::SecretBytes(size_t size_bytes) : size_bytes_(size_bytes) {
  if (size_bytes_ > 0) data_ = std::make_unique<uint8_t[]>(size_bytes_);  // value-initialised: 0s
}

SecretBytes SecretBytes::CopyOf(std::span<const uint8_t> bytes) {
  SecretBytes s(bytes.size());
  std::copy(bytes.begin(), bytes.end(), s.data_.get());
  return s;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::move(other.data_)), size_bytes_(std::exchange(other.size_bytes_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    data_ = std::move(other.data_);
    size_bytes_ = std::exchange(other.size_bytes_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() { Wipe(); }

void SecretBytes::Wipe() {
  SecureWipe(span());
  data_.reset();
  size_bytes_ = 0;
}

}  // namespace nds::crypto
