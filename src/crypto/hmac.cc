// HMAC-SHA256 over EVP_MAC_init/update/final, fed in int-safe pieces.
#include "crypto/hmac.h"

#include <algorithm>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/openssl_util.h"
#include "crypto/secure.h"

namespace nds::crypto {

Result<std::string> HmacSha256(std::span<const uint8_t> key, std::string_view message) {
  EVP_MAC* mac = internal::HmacAlgorithm();
  if (mac == nullptr) return internal::OpenSslError(StatusCode::kUnavailable, "HMAC not available");
  internal::MacCtxPtr ctx(EVP_MAC_CTX_new(mac));
  if (ctx == nullptr) return internal::OpenSslError(StatusCode::kUnavailable, "EVP_MAC_CTX_new");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  // EVP_MAC_init treats a null key as "keep the previous key" and fails when there is none, so an
  // empty key is passed as a zero-length key on a valid pointer.
  static const uint8_t empty_byte = 0;
  const uint8_t* key_data = key.empty() ? &empty_byte : key.data();
  if (EVP_MAC_init(ctx.get(), key_data, key.size(), params) != 1) {
    return internal::OpenSslError(StatusCode::kUnavailable, "EVP_MAC_init(HMAC-SHA256)");
  }
  const std::span<const uint8_t> in = AsBytes(message);
  // Bounded: one iteration per kOpenSslChunkBytesMax bytes of the message.
  for (size_t done = 0; done < in.size();) {
    const size_t n = std::min(in.size() - done, internal::kOpenSslChunkBytesMax);
    if (EVP_MAC_update(ctx.get(), in.data() + done, n) != 1) {
      return internal::OpenSslError(StatusCode::kUnavailable, "EVP_MAC_update(HMAC-SHA256)");
    }
    done += n;
  }
  std::string out(kHmacSha256Bytes, '\0');
  size_t out_bytes = 0;
  if (EVP_MAC_final(ctx.get(), reinterpret_cast<uint8_t*>(out.data()), &out_bytes, out.size()) !=
          1 ||
      out_bytes != kHmacSha256Bytes) {
    return internal::OpenSslError(StatusCode::kUnavailable, "EVP_MAC_final(HMAC-SHA256)");
  }
  return out;
}

Result<bool> HmacSha256Verify(std::span<const uint8_t> key, std::string_view message,
                              std::string_view mac) {
  NDS_ASSIGN_OR_RETURN(std::string expected, HmacSha256(key, message));
  return ConstantTimeEquals(expected, mac);
}

}  // namespace nds::crypto
