// SHA-256 of a byte string.
#include "crypto/sha256.h"

#include <openssl/evp.h>

#include "util/check.h"

namespace nds::crypto {

std::string Sha256(std::string_view bytes) {
  std::string digest(kSha256DigestBytes, '\0');
  unsigned int digest_bytes = 0;
  int ok = EVP_Digest(bytes.data(), bytes.size(), reinterpret_cast<unsigned char*>(digest.data()),
                      &digest_bytes, EVP_sha256(), nullptr);
  NDS_CHECK(ok == 1, "EVP_Digest(SHA-256) failed");
  NDS_CHECK(digest_bytes == kSha256DigestBytes, "SHA-256 gave {} bytes", digest_bytes);
  return digest;
}

}  // namespace nds::crypto
