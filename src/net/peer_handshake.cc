// The peer handshake's frames and proofs (peer_handshake.h, docs/formats/peer.md).
#include "net/peer_handshake.h"

#include <algorithm>
#include <span>

#include "crypto/hmac.h"
#include "crypto/random.h"
#include "crypto/secure.h"
#include "util/coding.h"

namespace nds::net {
namespace {

enum class Step : uint8_t { kHello = 1, kChallenge = 2, kProof = 3 };

constexpr std::string_view kProofLabel = "nds peer handshake 1";
constexpr size_t kStepHeaderBytes = kPeerHandshakeMagic.size() + 2;

std::string StepHeader(Step step) {
  std::string out(kPeerHandshakeMagic);
  out.push_back(static_cast<char>(kPeerHandshakeVersion));
  out.push_back(static_cast<char>(step));
  return out;
}

// The body after the step header, or kCorruption naming the step expected.
Result<std::string_view> StepBody(std::string_view payload, Step step, const char* what) {
  if (payload.size() < kStepHeaderBytes || !payload.starts_with(kPeerHandshakeMagic)) {
    return Corruption(std::string("not a peer handshake ") + what +
                      " (a peer of another version, or not an nds peer)");
  }
  const auto version = static_cast<uint8_t>(payload[kPeerHandshakeMagic.size()]);
  if (version != kPeerHandshakeVersion) {
    return Corruption("peer handshake of unknown version " + std::to_string(version));
  }
  if (static_cast<uint8_t>(payload[kPeerHandshakeMagic.size() + 1]) != static_cast<uint8_t>(step)) {
    return Corruption(std::string("the peer sent another handshake step than its ") + what);
  }
  return payload.substr(kStepHeaderBytes);
}

}  // namespace

std::string EncodeHandshakeHello(const HandshakeHello& h) {
  return StepHeader(Step::kHello) + h.nonce + h.hello;
}

std::string EncodeHandshakeChallenge(const HandshakeChallenge& c) {
  return StepHeader(Step::kChallenge) + c.nonce + c.proof;
}

std::string EncodeHandshakeProof(std::string_view proof) {
  return StepHeader(Step::kProof) + std::string(proof);
}

Result<HandshakeHello> DecodeHandshakeHello(std::string_view payload) {
  NDS_ASSIGN_OR_RETURN(std::string_view body, StepBody(payload, Step::kHello, "hello"));
  if (body.size() < kPeerNonceBytes) return Corruption("peer handshake hello without its nonce");
  return HandshakeHello{std::string(body.substr(0, kPeerNonceBytes)),
                        std::string(body.substr(kPeerNonceBytes))};
}

Result<HandshakeChallenge> DecodeHandshakeChallenge(std::string_view payload) {
  NDS_ASSIGN_OR_RETURN(std::string_view body, StepBody(payload, Step::kChallenge, "challenge"));
  if (body.size() != kPeerNonceBytes + kPeerProofBytes) {
    return Corruption("peer handshake challenge of the wrong length");
  }
  return HandshakeChallenge{std::string(body.substr(0, kPeerNonceBytes)),
                            std::string(body.substr(kPeerNonceBytes))};
}

Result<std::string> DecodeHandshakeProof(std::string_view payload) {
  NDS_ASSIGN_OR_RETURN(std::string_view body, StepBody(payload, Step::kProof, "proof"));
  if (body.size() != kPeerProofBytes) return Corruption("peer handshake proof of the wrong length");
  return std::string(body);
}

Result<std::string> NewHandshakeNonce() {
  std::string nonce(kPeerNonceBytes, '\0');
  NDS_RETURN_IF_ERROR(crypto::RandomBytes(
      std::span<uint8_t>(reinterpret_cast<uint8_t*>(nonce.data()), nonce.size())));
  return nonce;
}

namespace {
std::string ProofMessage(HandshakeRole role, std::string_view dialler_nonce,
                         std::string_view acceptor_nonce, std::string_view hello) {
  std::string m(kProofLabel);
  m.push_back('\0');
  m.push_back(static_cast<char>(role));
  // Fixed-length fields first, then the one variable field with its length: no two different
  // inputs give the same message.
  m += dialler_nonce.substr(0, kPeerNonceBytes);
  m.append(kPeerNonceBytes - std::min(kPeerNonceBytes, dialler_nonce.size()), '\0');
  m += acceptor_nonce.substr(0, kPeerNonceBytes);
  m.append(kPeerNonceBytes - std::min(kPeerNonceBytes, acceptor_nonce.size()), '\0');
  PutFixed32(&m, static_cast<uint32_t>(hello.size()));
  m += hello;
  return m;
}
}  // namespace

Result<std::string> HandshakeProof(std::string_view secret, HandshakeRole role,
                                   std::string_view dialler_nonce, std::string_view acceptor_nonce,
                                   std::string_view hello) {
  return crypto::HmacSha256(crypto::AsBytes(secret),
                            ProofMessage(role, dialler_nonce, acceptor_nonce, hello));
}

Result<bool> VerifyHandshakeProof(std::string_view secret, HandshakeRole role,
                                  std::string_view dialler_nonce, std::string_view acceptor_nonce,
                                  std::string_view hello, std::string_view proof) {
  if (proof.size() != kPeerProofBytes) return false;
  return crypto::HmacSha256Verify(crypto::AsBytes(secret),
                                  ProofMessage(role, dialler_nonce, acceptor_nonce, hello), proof);
}

}  // namespace nds::net
