// The peer handshake (docs/formats/peer.md "Handshake"): before any other frame, the dialler and
// the acceptor of a peer connection each prove that they hold the cluster secret, over fresh
// nonces from both sides, so that neither an impostor nor a replay of a captured connection gets
// in. Encoding, decoding and the proofs; the connections that run it are in peer_transport.cc
// (dialler) and peer_inbound.cc (acceptor).
//
//     dialler -> acceptor  hello      magic "ndsauth" version:u8=1 step:u8=1 nonce_d:32 hello:rest
//     acceptor -> dialler  challenge  magic "ndsauth" version:u8=1 step:u8=2 nonce_a:32 proof_a:32
//     dialler -> acceptor  proof      magic "ndsauth" version:u8=1 step:u8=3 proof_d:32
//
//     proof_X = HMAC-SHA256(secret, "nds peer handshake 1" 0x00 role_X nonce_d nonce_a
//                                   hello_bytes:u32le hello)   role_X = 'A' or 'D'
//
// `hello` is node/'s hello (cluster id, claimed node id, addresses), opaque here: both proofs
// cover it, so a proof made for one claim cannot be used for another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace nds::net {

inline constexpr std::string_view kPeerHandshakeMagic = "ndsauth";
inline constexpr uint8_t kPeerHandshakeVersion = 1;
inline constexpr size_t kPeerNonceBytes = 32;
inline constexpr size_t kPeerProofBytes = 32;  // an HMAC-SHA256
// The shortest cluster secret a transport accepts (nds generates 32 bytes).
inline constexpr size_t kPeerSecretBytesMin = 16;
// The largest challenge frame's payload: what a dialler reads before the acceptor proved itself.
inline constexpr size_t kPeerChallengeBytes =
    kPeerHandshakeMagic.size() + 2 + kPeerNonceBytes + kPeerProofBytes;

enum class HandshakeRole : uint8_t { kDialler = 'D', kAcceptor = 'A' };

struct HandshakeHello {
  std::string nonce;  // the dialler's, kPeerNonceBytes
  std::string hello;  // node/'s hello, opaque
};
struct HandshakeChallenge {
  std::string nonce;  // the acceptor's, kPeerNonceBytes
  std::string proof;  // the acceptor's proof, kPeerProofBytes
};

std::string EncodeHandshakeHello(const HandshakeHello& h);
std::string EncodeHandshakeChallenge(const HandshakeChallenge& c);
std::string EncodeHandshakeProof(std::string_view proof);
// kCorruption for a payload that is not that step of the handshake (wrong magic, version, step or
// lengths). Nothing from the payload is echoed in the message.
Result<HandshakeHello> DecodeHandshakeHello(std::string_view payload);
Result<HandshakeChallenge> DecodeHandshakeChallenge(std::string_view payload);
Result<std::string> DecodeHandshakeProof(std::string_view payload);

// kPeerNonceBytes fresh random bytes; kUnavailable when the generator fails.
Result<std::string> NewHandshakeNonce();

// The proof `role` sends (see the grammar above). kUnavailable when OpenSSL fails.
Result<std::string> HandshakeProof(std::string_view secret, HandshakeRole role,
                                   std::string_view dialler_nonce, std::string_view acceptor_nonce,
                                   std::string_view hello);
// Whether `proof` is the proof `role` must send, compared in constant time. False (never an error)
// when it is not; kUnavailable when OpenSSL fails.
Result<bool> VerifyHandshakeProof(std::string_view secret, HandshakeRole role,
                                  std::string_view dialler_nonce, std::string_view acceptor_nonce,
                                  std::string_view hello, std::string_view proof);

}  // namespace nds::net
