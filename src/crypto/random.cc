// RandomBytes over RAND_bytes, fed in int-sized pieces.
#include "crypto/random.h"

#include <algorithm>

#include <openssl/rand.h>

#include "crypto/openssl_util.h"
#include "crypto/secure.h"

namespace nds::crypto {

Status RandomBytes(std::span<uint8_t> out) {
  // Bounded: one iteration per kOpenSslChunkBytesMax bytes of `out`.
  for (size_t done = 0; done < out.size();) {
    const size_t n = std::min(out.size() - done, internal::kOpenSslChunkBytesMax);
    if (RAND_bytes(out.data() + done, static_cast<int>(n)) != 1) {
      SecureWipe(out);
      return internal::OpenSslError(StatusCode::kUnavailable, "RAND_bytes failed");
    }
    done += n;
  }
  return Status::Ok();
}

}  // namespace nds::crypto
