// Internal to crypto/: owning handles for OpenSSL objects, the algorithms fetched once per process,
// and the conversion of OpenSSL's per-thread error queue into a Status. Not for use outside
// crypto/.
#pragma once

#include <climits>
#include <cstddef>
#include <memory>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "util/status.h"

namespace nds::crypto::internal {

// The largest length passed to one OpenSSL call that takes an int; longer inputs are fed in pieces.
inline constexpr size_t kOpenSslChunkBytesMax = size_t{1} << 30;
static_assert(kOpenSslChunkBytesMax <= static_cast<size_t>(INT_MAX));

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};
// The *_free functions of OpenSSL wipe the key schedules and keys the contexts hold.
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, KdfCtxFree>;

// The algorithms, fetched from the default provider on first use and kept for the life of the
// process (fetching on every call costs a locked lookup). Null when the provider lacks them.
// Thread-safe: fetched algorithm objects are immutable and may be shared by threads.
const EVP_CIPHER* Aes256Gcm();
EVP_MAC* HmacAlgorithm();
EVP_KDF* HkdfAlgorithm();

// Drains this thread's OpenSSL error queue (so that stale errors never leak into a later call)
// and returns a Status of `code` whose message is `what` followed by OpenSSL's first reason.
Status OpenSslError(StatusCode code, std::string_view what);

// Empties this thread's OpenSSL error queue without reporting it.
void ClearOpenSslErrors();

}  // namespace nds::crypto::internal
