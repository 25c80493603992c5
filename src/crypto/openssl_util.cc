// The process-wide OpenSSL algorithm objects and the error-queue conversion of openssl_util.h.
#include "crypto/openssl_util.h"

#include <string>

#include <openssl/err.h>

namespace nds::crypto::internal {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

}  // namespace

const EVP_CIPHER* Aes256Gcm() {
  // Function-local statics are initialised once, thread-safely. Their destructors run before
  // OpenSSL's own atexit clean-up, which was registered earlier (by the fetch itself).
  static const std::unique_ptr<EVP_CIPHER, Deleter<EVP_CIPHER, EVP_CIPHER_free>> cipher(
      EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
  return cipher.get();
}

EVP_MAC* HmacAlgorithm() {
  static const std::unique_ptr<EVP_MAC, Deleter<EVP_MAC, EVP_MAC_free>> mac(
      EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  return mac.get();
}

EVP_KDF* HkdfAlgorithm() {
  static const std::unique_ptr<EVP_KDF, Deleter<EVP_KDF, EVP_KDF_free>> kdf(
      EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  return kdf.get();
}

Status OpenSslError(StatusCode code, std::string_view what) {
  std::string message(what);
  unsigned long first = ERR_get_error();
  if (first != 0) {
    char reason[256];
    ERR_error_string_n(first, reason, sizeof(reason));
    message += ": ";
    message += reason;
  }
  ClearOpenSslErrors();
  return Status(code, std::move(message));
}

void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace nds::crypto::internal
