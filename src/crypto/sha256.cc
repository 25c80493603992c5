// SHA-256 of a byte string. OpenSSL 3 looks a digest up by name on every EVP_Digest given
// EVP_sha256() (an implicit fetch, under a lock shared by all threads), and EVP_Digest allocates a
// context each time: this is on every authenticated request's path, so the digest is fetched once
// and each thread keeps one context.
#include "crypto/sha256.h"

#include <memory>

#include <openssl/evp.h>

#include "util/check.h"

namespace nds::crypto {
namespace {

const EVP_MD* FetchedSha256() {
  // Never freed: it lives as long as the process, like OpenSSL's own tables.
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    NDS_CHECK(fetched != nullptr, "OpenSSL has no SHA-256");
    return fetched;
  }();
  return md;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

EVP_MD_CTX* ThreadContext() {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  NDS_CHECK(ctx != nullptr, "EVP_MD_CTX_new failed");
  return ctx.get();
}

}  // namespace

std::string Sha256(std::string_view bytes) {
  std::string digest(kSha256DigestBytes, '\0');
  unsigned int digest_bytes = 0;
  EVP_MD_CTX* ctx = ThreadContext();
  int ok =
      EVP_DigestInit_ex2(ctx, FetchedSha256(), nullptr) == 1 &&
      EVP_DigestUpdate(ctx, bytes.data(), bytes.size()) == 1 &&
      EVP_DigestFinal_ex(ctx, reinterpret_cast<unsigned char*>(digest.data()), &digest_bytes) == 1;
  NDS_CHECK(ok, "SHA-256 failed");
  NDS_CHECK(digest_bytes == kSha256DigestBytes, "SHA-256 gave {} bytes", digest_bytes);
  return digest;
}

}  // namespace nds::crypto
