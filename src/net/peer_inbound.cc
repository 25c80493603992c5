// The accepting side of the peer transport: the inbound registry and connections
// (peer_inbound.h, docs/formats/peer.md).
#include "net/peer_inbound.h"

#include <algorithm>
#include <span>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "net/peer_handshake.h"
#include "net/peer_tls.h"

namespace nds::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

std::string EndpointText(const tcp::socket& socket) {
  error_code ec;
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return "unknown address";
  return fmt::format("{}:{}", remote.address().to_string(), remote.port());
}

}  // namespace

std::optional<uint64_t> InboundRegistry::TryAdd(
    const std::shared_ptr<InboundConnection>& connection, size_t limit) {
  MutexLock lock(mu_);
  if (connections_.size() >= limit) return std::nullopt;
  const uint64_t id = next_id_++;
  connections_.emplace(id, connection);
  return id;
}

std::weak_ptr<InboundConnection> InboundRegistry::BindPeer(uint64_t id, uint64_t from) {
  MutexLock lock(mu_);
  std::weak_ptr<InboundConnection> previous;
  auto it = by_peer_.find(from);
  if (it != by_peer_.end() && it->second != id) {
    auto other = connections_.find(it->second);
    if (other != connections_.end()) {
      // Two handshakes of one peer can finish in either order on two io threads: the connection
      // accepted last speaks for it, whichever finished last.
      if (it->second > id) {
        auto self = connections_.find(id);
        return self == connections_.end() ? std::weak_ptr<InboundConnection>() : self->second;
      }
      previous = other->second;
    }
  }
  by_peer_[from] = id;
  return previous;
}

std::weak_ptr<InboundConnection> InboundRegistry::FindPeer(uint64_t from) {
  MutexLock lock(mu_);
  auto it = by_peer_.find(from);
  if (it == by_peer_.end()) return {};
  auto connection = connections_.find(it->second);
  if (connection == connections_.end()) return {};
  return connection->second;
}

void InboundRegistry::Remove(uint64_t id, std::optional<uint64_t> from) {
  MutexLock lock(mu_);
  connections_.erase(id);
  if (from.has_value()) {
    auto it = by_peer_.find(*from);
    if (it != by_peer_.end() && it->second == id) by_peer_.erase(it);
  }
}

std::vector<std::shared_ptr<InboundConnection>> InboundRegistry::TakeAll() {
  MutexLock lock(mu_);
  std::vector<std::shared_ptr<InboundConnection>> all;
  for (auto& [id, weak] : connections_) {
    if (auto connection = weak.lock()) all.push_back(std::move(connection));
  }
  connections_.clear();
  by_peer_.clear();
  return all;
}

InboundConnection::InboundConnection(std::shared_ptr<PeerContext> context, tcp::socket socket)
    : context_(std::move(context)),
      stream_(std::move(socket)),
      hello_timer_(stream_.get_executor()),
      decoder_(std::min(kPeerHelloBytesMax, context_->options.frame_bytes_max)),
      remote_(EndpointText(stream_.socket())) {}

void InboundConnection::Start(uint64_t id) {
  id_ = id;
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->hello_timer_.expires_after(self->context_->options.hello_timeout);
    self->hello_timer_.async_wait([self](error_code ec) { self->OnHelloTimeout(ec); });
    if (self->context_->options.tls == nullptr) {
      self->StartRead();
      return;
    }
    self->tls_context_ = self->context_->options.tls->Server();
    self->stream_.StartTls(*self->tls_context_);
    self->stream_.tls()->async_handshake(asio::ssl::stream_base::server,
                                         [self](error_code ec) { self->OnTlsHandshake(ec); });
  });
}

void InboundConnection::OnTlsHandshake(error_code ec) {
  if (closed_) return;
  if (ec) {
    Close(fmt::format("peer TLS handshake failed: {}", ec.message()), /*handshake=*/true);
    return;
  }
  StartRead();
}

void InboundConnection::CloseLater(std::string reason) {
  asio::post(stream_.get_executor(),
             [self = shared_from_this(), reason = std::move(reason)] { self->Close(reason); });
}

void InboundConnection::CloseNow() {
  closed_ = true;
  error_code ec;
  stream_.socket().close(ec);
  hello_timer_.cancel();
}

void InboundConnection::StartRead() {
  const std::span<char> space = decoder_.WritableSpace();
  read_space_ = space.data();
  stream_.async_read_some(
      asio::buffer(space.data(), space.size()),
      [self = shared_from_this()](error_code ec, size_t bytes) { self->OnRead(ec, bytes); });
}

void InboundConnection::OnRead(error_code ec, size_t bytes) {
  if (closed_) return;
  if (ec) {
    // A TLS peer that closes without close_notify (a stop, a crash) ends the stream "truncated":
    // for a frame stream, whose every frame is checksummed and framed, that is a plain close.
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
      spdlog::debug("peer transport: inbound connection from {} closed by the peer", remote_);
      Close("");
    } else {
      Close(fmt::format("read failed: {}", ec.message()));
    }
    return;
  }
  if (!any_byte_read_ && bytes > 0) {
    any_byte_read_ = true;
    tls_dialler_ = context_->options.tls == nullptr &&
                   static_cast<uint8_t>(read_space_[0]) == kTlsHandshakeRecordType;
  }
  decoder_.Commit(bytes);
  while (!closed_) {
    Result<std::optional<std::string>> next = decoder_.Next();
    if (!next.ok()) {
      Close(
          next.status().ToString() +
              (tls_dialler_ ? " (the dialler speaks TLS: its cluster runs peer TLS, and this node "
                              "was started without --peer-tls-*)"
                            : ""),
          /*handshake=*/!from_.has_value());
      return;
    }
    if (!next->has_value()) break;
    Deliver(std::move(**next));
  }
  if (!closed_) StartRead();
}

void InboundConnection::Deliver(std::string frame) {
  if (from_.has_value()) {
    context_->receiver->OnFrame(*from_, std::move(frame));
  } else if (!hello_received_) {
    OnHandshakeHello(frame);
  } else {
    OnHandshakeProof(frame);
  }
}

void InboundConnection::OnHandshakeHello(std::string_view frame) {
  Result<HandshakeHello> hello = DecodeHandshakeHello(frame);
  if (!hello.ok()) {
    Close(fmt::format("handshake failed: {}", hello.status().ToString()), /*handshake=*/true);
    return;
  }
  Result<std::string> nonce = NewHandshakeNonce();
  Result<std::string> proof =
      nonce.ok() ? HandshakeProof(context_->options.secret, HandshakeRole::kAcceptor, hello->nonce,
                                  *nonce, hello->hello)
                 : Result<std::string>(nonce.status());
  if (!proof.ok()) {
    Close(fmt::format("cannot answer the handshake: {}", proof.status().ToString()));
    return;
  }
  hello_received_ = true;
  hello_ = std::move(hello->hello);
  dialer_nonce_ = std::move(hello->nonce);
  acceptor_nonce_ = *nonce;
  challenge_frame_ = EncodePeerFrame(EncodeHandshakeChallenge({*nonce, *proof}));
  asio::async_write(stream_, asio::buffer(challenge_frame_),
                    [self = shared_from_this()](error_code ec, size_t /*bytes*/) {
                      if (ec && !self->closed_) {
                        self->Close(fmt::format("writing the challenge failed: {}", ec.message()));
                      }
                    });
}

void InboundConnection::OnHandshakeProof(std::string_view frame) {
  Result<std::string> proof = DecodeHandshakeProof(frame);
  Result<bool> good = proof.ok()
                          ? VerifyHandshakeProof(context_->options.secret, HandshakeRole::kDialler,
                                                 dialer_nonce_, acceptor_nonce_, hello_, *proof)
                          : Result<bool>(proof.status());
  if (!good.ok()) {
    Close(fmt::format("handshake failed: {}", good.status().ToString()), /*handshake=*/true);
    return;
  }
  if (!*good) {
    Close("handshake failed: the dialer did not prove that it holds the cluster secret",
          /*handshake=*/true);
    return;
  }
  Result<uint64_t> from = context_->receiver->OnHello(hello_);
  if (!from.ok()) {
    Close(fmt::format("hello rejected: {}", from.status().ToString()), /*handshake=*/true);
    return;
  }
  from_ = *from;
  hello_timer_.cancel();
  decoder_.set_payload_bytes_max(context_->options.frame_bytes_max);
  // Only an authenticated connection may replace the one that speaks for its peer.
  std::weak_ptr<InboundConnection> stale = context_->inbound.BindPeer(id_, *from_);
  if (auto previous = stale.lock()) {
    if (previous.get() == this) {
      CloseLater(fmt::format("peer {} has a newer connection", *from_));
    } else {
      previous->CloseLater(fmt::format("peer {} connected again from {}", *from_, remote_));
    }
  }
}

void InboundConnection::OnHelloTimeout(error_code ec) {
  if (ec || closed_ || from_.has_value()) return;
  Close(fmt::format("no complete handshake within {} ms", context_->options.hello_timeout.count()),
        /*handshake=*/true);
}

void InboundConnection::Close(const std::string& reason, bool handshake) {
  if (closed_) return;
  uint64_t suppressed = 0;
  if (!reason.empty() && (!handshake || context_->handshake_failure_log.Allow(&suppressed))) {
    // The reason may quote what the peer sent: escaped, so that it cannot forge log lines.
    spdlog::warn("peer transport: closing inbound connection from {}{}: {}{}", remote_,
                 from_.has_value() ? fmt::format(" (peer {})", *from_) : std::string(),
                 EscapeForLog(reason, 1024),
                 suppressed == 0
                     ? std::string()
                     : fmt::format(" ({} more failed handshakes not logged)", suppressed));
  }
  CloseNow();
  context_->inbound.Remove(id_, from_);
}

}  // namespace nds::net
