// AES-256-GCM over EVP_CipherInit_ex2/Update/Final, with the tag moved through OSSL_PARAMs.
#include "crypto/aes_gcm.h"

#include <algorithm>
#include <array>

#include <openssl/core_names.h>
#include <openssl/params.h>

#include "crypto/openssl_util.h"
#include "crypto/random.h"
#include "crypto/secure.h"

namespace nds::crypto {
namespace {

enum class Direction { kDecrypt = 0, kEncrypt = 1 };

uint8_t* MutableBytes(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }

Status CheckKey(std::span<const uint8_t> key) {
  if (key.size() != kAesGcmKeyBytes) {
    return InvalidArgument(
        fmt::format("AES-256-GCM key of {} bytes, want {}", key.size(), kAesGcmKeyBytes));
  }
  return Status::Ok();
}

Status CheckKeyAndNonce(std::span<const uint8_t> key, std::span<const uint8_t> nonce) {
  NDS_RETURN_IF_ERROR(CheckKey(key));
  if (nonce.size() != kAesGcmNonceBytes) {
    return InvalidArgument(
        fmt::format("AES-GCM nonce of {} bytes, want {}", nonce.size(), kAesGcmNonceBytes));
  }
  return Status::Ok();
}

// A cipher context keyed for one message in `direction`.
Result<internal::CipherCtxPtr> NewContext(std::span<const uint8_t> key,
                                          std::span<const uint8_t> nonce, Direction direction) {
  const EVP_CIPHER* cipher = internal::Aes256Gcm();
  if (cipher == nullptr) {
    return internal::OpenSslError(StatusCode::kUnavailable, "AES-256-GCM not available");
  }
  internal::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return internal::OpenSslError(StatusCode::kUnavailable, "EVP_CIPHER_CTX_new");
  // The default IV length of GCM in OpenSSL is 12 bytes, the one we use, so no parameter is set.
  if (EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), nonce.data(), static_cast<int>(direction),
                         nullptr) != 1) {
    return internal::OpenSslError(StatusCode::kUnavailable, "EVP_CipherInit_ex2(AES-256-GCM)");
  }
  return ctx;
}

// Feeds `in` through the cipher. With `out` null, `in` is associated data; otherwise `out` receives
// in.size() bytes (GCM is a stream mode: output length equals input length).
Status Update(EVP_CIPHER_CTX* ctx, std::span<const uint8_t> in, uint8_t* out) {
  // Bounded: one iteration per kOpenSslChunkBytesMax bytes of input.
  for (size_t done = 0; done < in.size();) {
    const size_t n = std::min(in.size() - done, internal::kOpenSslChunkBytesMax);
    int out_bytes = 0;
    if (EVP_CipherUpdate(ctx, out == nullptr ? nullptr : out + done, &out_bytes, in.data() + done,
                         static_cast<int>(n)) != 1) {
      return internal::OpenSslError(StatusCode::kUnavailable, "EVP_CipherUpdate(AES-256-GCM)");
    }
    if (out != nullptr && static_cast<size_t>(out_bytes) != n) {
      return Status(StatusCode::kUnavailable,
                    fmt::format("AES-GCM update gave {} bytes for {}", out_bytes, n));
    }
    done += n;
  }
  return Status::Ok();
}

Status CheckPlaintextSize(std::string_view plaintext) {
  if (plaintext.size() > kAesGcmPlaintextBytesMax) {
    return InvalidArgument(fmt::format("AES-GCM plaintext of {} bytes exceeds {}", plaintext.size(),
                                       kAesGcmPlaintextBytesMax));
  }
  return Status::Ok();
}

// Encrypts `plaintext` into `out`, which has room for plaintext.size() + kAesGcmTagBytes bytes:
// the ciphertext, then the tag. Key and nonce sizes are already checked.
Status SealInto(std::span<const uint8_t> key, std::span<const uint8_t> nonce,
                std::string_view plaintext, std::string_view aad, uint8_t* out) {
  NDS_ASSIGN_OR_RETURN(internal::CipherCtxPtr ctx, NewContext(key, nonce, Direction::kEncrypt));
  NDS_RETURN_IF_ERROR(Update(ctx.get(), AsBytes(aad), nullptr));
  NDS_RETURN_IF_ERROR(Update(ctx.get(), AsBytes(plaintext), out));
  int final_bytes = 0;
  if (EVP_CipherFinal_ex(ctx.get(), out + plaintext.size(), &final_bytes) != 1 ||
      final_bytes != 0) {
    return internal::OpenSslError(StatusCode::kUnavailable, "EVP_CipherFinal_ex(AES-256-GCM)");
  }
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
                                                           out + plaintext.size(), kAesGcmTagBytes),
                         OSSL_PARAM_construct_end()};
  if (EVP_CIPHER_CTX_get_params(ctx.get(), params) != 1) {
    return internal::OpenSslError(StatusCode::kUnavailable, "AES-GCM: reading the tag");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> AesGcmSealWithNonce(std::span<const uint8_t> key,
                                        std::span<const uint8_t> nonce, std::string_view plaintext,
                                        std::string_view aad) {
  NDS_RETURN_IF_ERROR(CheckKeyAndNonce(key, nonce));
  NDS_RETURN_IF_ERROR(CheckPlaintextSize(plaintext));
  std::string out(plaintext.size() + kAesGcmTagBytes, '\0');
  NDS_RETURN_IF_ERROR(SealInto(key, nonce, plaintext, aad, MutableBytes(out)));
  return out;
}

Result<std::string> AesGcmOpenWithNonce(std::span<const uint8_t> key,
                                        std::span<const uint8_t> nonce,
                                        std::string_view ciphertext_and_tag, std::string_view aad) {
  NDS_RETURN_IF_ERROR(CheckKeyAndNonce(key, nonce));
  if (ciphertext_and_tag.size() < kAesGcmTagBytes) {
    return Corruption(fmt::format("AES-GCM message of {} bytes is shorter than its tag",
                                  ciphertext_and_tag.size()));
  }
  const size_t ciphertext_bytes = ciphertext_and_tag.size() - kAesGcmTagBytes;
  NDS_ASSIGN_OR_RETURN(internal::CipherCtxPtr ctx, NewContext(key, nonce, Direction::kDecrypt));
  // The expected tag is given before decrypting; OpenSSL wants a writable buffer for it.
  std::array<uint8_t, kAesGcmTagBytes> tag;
  std::copy_n(AsBytes(ciphertext_and_tag).begin() + ciphertext_bytes, kAesGcmTagBytes, tag.begin());
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), tag.size()),
      OSSL_PARAM_construct_end()};
  if (EVP_CIPHER_CTX_set_params(ctx.get(), params) != 1) {
    return internal::OpenSslError(StatusCode::kUnavailable, "AES-GCM: setting the tag");
  }
  std::string plaintext(ciphertext_bytes, '\0');
  Status s = Update(ctx.get(), AsBytes(aad), nullptr);
  if (s.ok()) {
    s = Update(ctx.get(), AsBytes(ciphertext_and_tag.substr(0, ciphertext_bytes)),
               MutableBytes(plaintext));
  }
  if (!s.ok()) {
    SecureWipe(plaintext);
    return s;
  }
  // GCM decryption writes unauthenticated plaintext first; only Final compares the tag. On a
  // mismatch the plaintext is wiped and never returned.
  int final_bytes = 0;
  if (EVP_CipherFinal_ex(ctx.get(), MutableBytes(plaintext) + ciphertext_bytes, &final_bytes) !=
          1 ||
      final_bytes != 0) {
    SecureWipe(plaintext);
    internal::ClearOpenSslErrors();
    return Corruption(
        fmt::format("AES-GCM authentication failed for {} bytes of ciphertext", ciphertext_bytes));
  }
  return plaintext;
}

Result<std::string> AesGcmSeal(std::span<const uint8_t> key, std::string_view plaintext,
                               std::string_view aad, std::string_view prefix) {
  NDS_RETURN_IF_ERROR(CheckKey(key));
  NDS_RETURN_IF_ERROR(CheckPlaintextSize(plaintext));
  std::string out(prefix.size() + kAesGcmOverheadBytes + plaintext.size(), '\0');
  std::copy(prefix.begin(), prefix.end(), out.begin());
  const std::span<uint8_t> nonce(MutableBytes(out) + prefix.size(), kAesGcmNonceBytes);
  NDS_RETURN_IF_ERROR(RandomBytes(nonce));
  NDS_RETURN_IF_ERROR(
      SealInto(key, nonce, plaintext, aad, MutableBytes(out) + prefix.size() + kAesGcmNonceBytes));
  return out;
}

Result<std::string> AesGcmOpen(std::span<const uint8_t> key, std::string_view sealed,
                               std::string_view aad) {
  NDS_RETURN_IF_ERROR(CheckKey(key));
  if (sealed.size() < kAesGcmOverheadBytes) {
    return Corruption(
        fmt::format("AES-GCM sealed message of {} bytes is shorter than the {} "
                    "bytes of nonce and tag",
                    sealed.size(), kAesGcmOverheadBytes));
  }
  return AesGcmOpenWithNonce(key, AsBytes(sealed.substr(0, kAesGcmNonceBytes)),
                             sealed.substr(kAesGcmNonceBytes), aad);
}

}  // namespace nds::crypto
