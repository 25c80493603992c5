// SealSecret/DeriveSecretLocation/OpenSecret: the key schedule of secret_box.h over hkdf/hmac/
// aes_gcm. Every key lives in a SecretBytes and so is wiped on every return path.
#include "crypto/secret_box.h"

#include "crypto/base64url.h"
#include "crypto/hkdf.h"
#include "crypto/hmac.h"
#include "crypto/random.h"
#include "crypto/secure.h"

namespace nds::crypto {
namespace {

// The message OpenSecret gives for every authentication failure, equal to what the API layer
// says for an unknown id.
constexpr std::string_view kSecretNotFoundMessage = "secret not found";

Result<SecretBytes> DecodeKey(std::string_view key_b64url) {
  // The length is checked before decoding so that a long header never costs an allocation.
  auto decoded_bytes = Base64UrlDecodedBytes(key_b64url);
  if (!decoded_bytes.ok() || *decoded_bytes != kSecretKeyBytes) {
    return InvalidArgument(fmt::format("secret key of {} characters is not base64url of {} bytes",
                                       key_b64url.size(), kSecretKeyBytes));
  }
  SecretBytes key(kSecretKeyBytes);
  if (!Base64UrlDecodeInto(key_b64url, key.span()).ok()) {
    return InvalidArgument(
        fmt::format("secret key of {} characters is not base64url", key_b64url.size()));
  }
  return key;
}

Result<SecretBytes> DeriveSubkey(const SecretBytes& key, std::string_view info) {
  return HkdfSha256(key.span(), /*salt=*/{}, info, kSecretKeyBytes);
}

Result<std::string> LocationFromKey(const SecretBytes& key, std::string_view id) {
  NDS_ASSIGN_OR_RETURN(SecretBytes loc_key, DeriveSubkey(key, kSecretLocInfo));
  return HmacSha256(loc_key.span(), id);
}

std::string Aad(std::string_view id) {
  std::string aad;
  aad.reserve(kSecretAadPrefix.size() + id.size());
  aad.append(kSecretAadPrefix);
  aad.append(id);
  return aad;
}

}  // namespace

Result<SealedSecret> SealSecret(std::string_view id, std::string_view plaintext) {
  if (plaintext.size() > kAesGcmPlaintextBytesMax) {
    return InvalidArgument(
        fmt::format("secret of {} bytes exceeds {}", plaintext.size(), kAesGcmPlaintextBytesMax));
  }
  SecretBytes key(kSecretKeyBytes);
  NDS_RETURN_IF_ERROR(RandomBytes(key.span()));
  NDS_ASSIGN_OR_RETURN(SecretBytes enc_key, DeriveSubkey(key, kSecretEncInfo));
  SealedSecret sealed;
  NDS_ASSIGN_OR_RETURN(sealed.location, LocationFromKey(key, id));
  const char version = static_cast<char>(kSecretFormatVersion1);
  NDS_ASSIGN_OR_RETURN(
      sealed.blob, AesGcmSeal(enc_key.span(), plaintext, Aad(id), std::string_view(&version, 1)));
  sealed.key_b64url = Base64UrlEncode(key.span());
  return sealed;
}

Result<std::string> DeriveSecretLocation(std::string_view id, std::string_view key_b64url) {
  NDS_ASSIGN_OR_RETURN(SecretBytes key, DecodeKey(key_b64url));
  return LocationFromKey(key, id);
}

Result<std::string> OpenSecret(std::string_view id, std::string_view key_b64url,
                               std::string_view blob) {
  NDS_ASSIGN_OR_RETURN(SecretBytes key, DecodeKey(key_b64url));
  if (blob.size() < kSecretBlobOverheadBytes) {
    return Corruption(
        fmt::format("secret blob of {} bytes is shorter than the {} bytes of its "
                    "header and tag",
                    blob.size(), kSecretBlobOverheadBytes));
  }
  if (static_cast<uint8_t>(blob[0]) != kSecretFormatVersion1) {
    return Corruption(fmt::format("secret blob of {} bytes has unknown format version {}",
                                  blob.size(), static_cast<uint8_t>(blob[0])));
  }
  NDS_ASSIGN_OR_RETURN(SecretBytes enc_key, DeriveSubkey(key, kSecretEncInfo));
  Result<std::string> plaintext = AesGcmOpen(enc_key.span(), blob.substr(1), Aad(id));
  if (!plaintext.ok() && plaintext.status().code() == StatusCode::kCorruption) {
    // The blob's length was checked above, so this is an authentication failure.
    return NotFound(std::string(kSecretNotFoundMessage));
  }
  return plaintext;
}

}  // namespace nds::crypto
