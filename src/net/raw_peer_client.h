// Test support (header only): the dialing side of the peer protocol over a blocking socket, so
// that a test can act as a member, an impostor without the secret, or a replayer of captured
// bytes. Not for production code: it blocks, and every wait is bounded by a timeout.
#pragma once

#include <chrono>
#include <optional>
#include <poll.h>
#include <string>
#include <string_view>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/peer_frame.h"
#include "net/peer_handshake.h"

namespace nds::net {

class RawPeerClient {
 public:
  enum class Handshake {
    kNoChallenge,       // the acceptor closed or sent no challenge in time
    kAcceptorUnproven,  // its proof did not check out with our secret (our proof was sent anyway)
    kAcceptorProven,    // it proved it holds our secret; our proof was sent
  };

  RawPeerClient() = default;
  RawPeerClient(const RawPeerClient&) = delete;
  RawPeerClient& operator=(const RawPeerClient&) = delete;
  ~RawPeerClient() { Close(); }

  // Connects to 127.0.0.1:`port`.
  bool Connect(uint16_t port) {
    Close();
    sent_.clear();
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      Close();
      return false;
    }
    return true;
  }

  // Takes over a connected socket (say, one a test accepted to play the acceptor).
  void Adopt(int fd) {
    Close();
    sent_.clear();
    fd_ = fd;
  }

  // Sends raw bytes (recorded in sent()).
  bool Send(std::string_view bytes) {
    if (fd_ < 0) return false;
    sent_ += bytes;
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  bool SendFrame(std::string_view payload) { return Send(EncodePeerFrame(payload)); }

  // The next whole frame within `timeout`; std::nullopt when the connection ends, the time is up
  // or the bytes are not frames.
  std::optional<std::string> ReadFrame(
      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (fd_ >= 0) {
      Result<std::optional<std::string>> next = decoder_.Next();
      if (!next.ok()) return std::nullopt;
      if (next->has_value()) return std::move(**next);
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      std::span<char> space = decoder_.WritableSpace();
      const ssize_t got = ::recv(fd_, space.data(), space.size(), 0);
      if (got <= 0) return std::nullopt;
      decoder_.Commit(static_cast<size_t>(got));
    }
    return std::nullopt;
  }

  // The dialer's handshake: our hello with a fresh nonce, the acceptor's challenge, our proof
  // made with `secret` (sent whenever a challenge arrived, so that a test can see the acceptor
  // refuse a wrong one).
  Handshake RunHandshake(std::string_view secret, std::string_view hello) {
    Result<std::string> nonce = NewHandshakeNonce();
    if (!nonce.ok() || !SendFrame(EncodeHandshakeHello({*nonce, std::string(hello)}))) {
      return Handshake::kNoChallenge;
    }
    std::optional<std::string> frame = ReadFrame();
    if (!frame) return Handshake::kNoChallenge;
    Result<HandshakeChallenge> challenge = DecodeHandshakeChallenge(*frame);
    if (!challenge.ok()) return Handshake::kNoChallenge;
    Result<bool> proven = VerifyHandshakeProof(secret, HandshakeRole::kAcceptor, *nonce,
                                               challenge->nonce, hello, challenge->proof);
    Result<std::string> proof =
        HandshakeProof(secret, HandshakeRole::kDialler, *nonce, challenge->nonce, hello);
    if (!proof.ok() || !SendFrame(EncodeHandshakeProof(*proof))) return Handshake::kNoChallenge;
    return proven.ok() && *proven ? Handshake::kAcceptorProven : Handshake::kAcceptorUnproven;
  }

  // Whether the other side closes the connection within `timeout` (bytes it sends are skipped).
  bool ClosedByPeer(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    char buf[256];
    while (fd_ >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) > 0 &&
          ::recv(fd_, buf, sizeof buf, 0) <= 0) {
        return true;
      }
    }
    return false;
  }

  // Every byte sent on the last connection (to replay it on another); kept after Close.
  const std::string& sent() const { return sent_; }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    decoder_ = PeerFrameDecoder(kPeerFramePayloadBytesLimit);
  }

 private:
  int fd_ = -1;
  std::string sent_;
  PeerFrameDecoder decoder_{kPeerFramePayloadBytesLimit};
};

}  // namespace nds::net
