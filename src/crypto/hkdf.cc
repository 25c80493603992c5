// HKDF-SHA256 over EVP_KDF_derive with OSSL_PARAMs for digest, key, salt and info.
#include "crypto/hkdf.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "crypto/openssl_util.h"

namespace nds::crypto {

Result<SecretBytes> HkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                               std::string_view info, size_t output_bytes) {
  if (output_bytes == 0 || output_bytes > kHkdfSha256OutputBytesMax) {
    return InvalidArgument(fmt::format("HKDF-SHA256 output of {} bytes, want 1 to {}", output_bytes,
                                       kHkdfSha256OutputBytesMax));
  }
  EVP_KDF* kdf = internal::HkdfAlgorithm();
  if (kdf == nullptr) return internal::OpenSslError(StatusCode::kUnavailable, "HKDF not available");
  internal::KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  if (ctx == nullptr) return internal::OpenSslError(StatusCode::kUnavailable, "EVP_KDF_CTX_new");

  // OSSL_PARAM takes non-const pointers but only reads these inputs. An empty key or salt is
  // passed as a zero-length parameter on a valid pointer, which OpenSSL treats as empty.
  static const uint8_t empty_byte = 0;
  auto octets = [](const char* name, std::span<const uint8_t> bytes) {
    void* p = const_cast<uint8_t*>(bytes.empty() ? &empty_byte : bytes.data());
    return OSSL_PARAM_construct_octet_string(name, p, bytes.size());
  };
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] =
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0);
  params[n++] = octets(OSSL_KDF_PARAM_KEY, ikm);
  if (!salt.empty()) params[n++] = octets(OSSL_KDF_PARAM_SALT, salt);
  params[n++] = octets(OSSL_KDF_PARAM_INFO, AsBytes(info));
  params[n] = OSSL_PARAM_construct_end();

  SecretBytes out(output_bytes);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return internal::OpenSslError(StatusCode::kUnavailable, "EVP_KDF_derive(HKDF-SHA256)");
  }
  return out;
}

}  // namespace nds::crypto
