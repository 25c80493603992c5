// The accepting side of the peer transport (internal to net/; the API is peer_transport.h, the
// wire format docs/formats/peer.md): one InboundConnection per accepted socket, which runs the
// acceptor's side of the handshake and then reads the frames and hands them to the PeerReceiver,
// and the InboundRegistry that bounds and lists the open connections. Also PeerContext, the state
// every connection of a transport (inbound or outbound) shares.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/maybe_tls_stream.h"
#include "net/peer_frame.h"
#include "net/peer_transport.h"
#include "util/log_text.h"
#include "util/thread_annotations.h"

namespace nds::net {

class InboundConnection;

// The open inbound connections. Owned by PeerContext; thread-safe. Holds them weakly: a
// connection lives through its pending handlers and unregisters itself when it closes.
class InboundRegistry {
 public:
  // Registers `connection` unless `limit` connections are open; returns its id, or nullopt at
  // the limit.
  std::optional<uint64_t> TryAdd(const std::shared_ptr<InboundConnection>& connection,
                                 size_t limit);
  // Records that connection `id` speaks for peer `from`; returns the connection to close (a
  // dialer keeps one connection, so an older one is stale), or an empty pointer. That is the one
  // that spoke for it before, or `id` itself (left unbound) when a connection accepted after it
  // already speaks for `from`.
  std::weak_ptr<InboundConnection> BindPeer(uint64_t id, uint64_t from);
  // The connection that speaks for peer `from` now, or an empty pointer.
  std::weak_ptr<InboundConnection> FindPeer(uint64_t from);
  // Forgets connection `id` (and its binding to `from`, if it still holds it). No-op if absent.
  void Remove(uint64_t id, std::optional<uint64_t> from);
  // Empties the registry and returns the connections still alive.
  std::vector<std::shared_ptr<InboundConnection>> TakeAll();

 private:
  Mutex mu_;
  uint64_t next_id_ NDS_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, std::weak_ptr<InboundConnection>> connections_ NDS_GUARDED_BY(mu_);
  std::map<uint64_t, uint64_t> by_peer_ NDS_GUARDED_BY(mu_);  // peer id -> connection id
};

// What every connection of one transport shares. Created by the transport and held through
// shared_ptr by every connection, so it outlives each handler, even those destroyed with the
// io_context. Immutable after Start except `inbound` (which locks itself).
struct PeerContext {
  PeerTransportOptions options;
  PeerReceiver* receiver = nullptr;
  InboundRegistry inbound;
  // Failed handshakes are logged at most this often: strangers may dial as fast as they like.
  LogRateLimiter handshake_failure_log{20};
};

// One accepted connection: the handshake within hello_timeout (with peer TLS first the TLS
// handshake, then the dialer's hello, our challenge, the dialer's proof), then every frame to the
// receiver, in order; a failed handshake or any damage closes it (docs/formats/peer.md). Kept alive
// by its pending handlers (shared_from_this). Runs on the strand its socket is bound to; CloseLater
// may be called from any thread; CloseNow only when no io thread runs.
class InboundConnection : public std::enable_shared_from_this<InboundConnection> {
 public:
  // `socket` must be bound to a strand of its own.
  InboundConnection(std::shared_ptr<PeerContext> context, boost::asio::ip::tcp::socket socket);

  // The remote "address:port", for logs.
  const std::string& remote() const { return remote_; }

  // Starts the hello timer and the read loop; `id` is the registry id from TryAdd.
  void Start(uint64_t id);
  // Closes on the strand, logging `reason` as a warning.
  void CloseLater(std::string reason);
  // Closes the socket directly. Only when no io thread runs (Stop after the join, or before
  // Start).
  void CloseNow();

 private:
  // With peer TLS: the server side of the TLS handshake (a client certificate of the peer CA
  // required), within hello_timeout like the rest of the handshake.
  void OnTlsHandshake(boost::system::error_code ec);
  void StartRead();
  void OnRead(boost::system::error_code ec, size_t bytes);
  void Deliver(std::string frame);
  // The handshake's two frames from the dialer.
  void OnHandshakeHello(std::string_view frame);
  void OnHandshakeProof(std::string_view frame);
  void OnHelloTimeout(boost::system::error_code ec);
  // `reason` empty: a normal close, not logged as a warning. `handshake`: a failed handshake
  // (logged through the rate limiter).
  void Close(const std::string& reason, bool handshake = false);

  // All strand only.
  const std::shared_ptr<PeerContext> context_;
  std::shared_ptr<SslContext> tls_context_;  // with peer TLS; declared before the stream using it
  MaybeTlsStream stream_;
  boost::asio::steady_timer hello_timer_;
  PeerFrameDecoder decoder_;  // limited to the hello size until the handshake succeeded
  const std::string remote_;
  uint64_t id_ = 0;               // registry id; set by Start
  std::optional<uint64_t> from_;  // the peer id, once the handshake succeeded
  bool closed_ = false;
  char* read_space_ = nullptr;  // where the read in flight writes
  bool any_byte_read_ = false;
  // Without peer TLS: the connection's first byte opened a TLS handshake record (said on close).
  bool tls_dialler_ = false;
  // The handshake: the dialer's hello and nonce (once its hello arrived), our nonce, and the
  // challenge frame being written.
  bool hello_received_ = false;
  std::string hello_;
  std::string dialer_nonce_;
  std::string acceptor_nonce_;
  std::string challenge_frame_;
};

}  // namespace nds::net
