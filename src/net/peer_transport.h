// The peer transport: persistent TCP connections between the nodes of a cluster carrying opaque,
// length-prefixed, checksummed frames (docs/formats/peer.md). It knows nothing of Raft: node/
// encodes and decodes the frames.
//
// Each node dials one outbound connection to every peer it sends to and accepts inbound
// connections from every peer. A connection opens with the handshake (net/peer_handshake.h): the
// dialer's hello (opaque bytes the Receiver checks: the cluster id and the sender's node id) and
// a nonce from each side, over which each side proves with an HMAC that it holds the cluster
// secret. The acceptor reads no other frame before the dialer's proof checks out, and the dialer
// sends none before the acceptor's did. Then frames flow one way, dialer to acceptor. Sending never
// blocks: each peer has a bounded queue; a full queue drops the frame (Raft tolerates loss) and
// Send returns false. A lost connection is redialled with bounded exponential backoff. A frame that
// fails its checksum or exceeds the size limit closes that connection and is logged; it never
// crashes the node.
//
// Thread-safe. Owns its io_context and threads. Receiver callbacks run on transport threads,
// never concurrently for one connection, and must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "net/peer_sender.h"
#include "util/status.h"

namespace nds::net {

class PeerTls;  // net/peer_tls.h

class PeerReceiver {
 public:
  virtual ~PeerReceiver() = default;
  // The hello of an inbound connection whose dialer proved it holds the cluster secret. Returns
  // the sending peer's id to accept the connection, or an error to close it (wrong cluster,
  // unknown node). The error's message is logged: it must not hold raw text from the hello.
  virtual Result<uint64_t> OnHello(std::string_view hello) = 0;
  // Every later frame of a connection accepted with `from`.
  virtual void OnFrame(uint64_t from, std::string frame) = 0;
};

struct PeerTransportOptions {
  std::string listen_address = "0.0.0.0";
  uint16_t listen_port = 7778;  // 0 picks a free port (see port())
  size_t threads = 1;
  size_t frame_bytes_max = 64 << 20;
  size_t queue_bytes_max = 128 << 20;  // per peer, frames waiting to be written
  size_t queue_frames_max = 4096;      // per peer
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{2'000};
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds hello_timeout{5'000};  // an inbound connection must say hello by then
  size_t inbound_connections_max = 256;
  // Sent in the handshake of every outbound connection.
  std::string hello;
  // The cluster secret both sides of the handshake prove they hold: at least
  // kPeerSecretBytesMin bytes. Never logged.
  std::string secret;
  // When set, every connection runs mutual TLS with these contexts before the handshake: the
  // other side must present a certificate signed by the peer CA (net/peer_tls.h).
  std::shared_ptr<PeerTls> tls;
};

class PeerTransport : public PeerSender {
 public:
  virtual ~PeerTransport() = default;

  // Listens and starts the threads. `receiver` must outlive the transport. kUnavailable when the
  // port is taken, kInvalidArgument for a bad address.
  static Result<std::unique_ptr<PeerTransport>> Start(const PeerTransportOptions& options,
                                                      PeerReceiver* receiver);

  // SetPeer, RemovePeer, Send, CloseInbound, QueuedBytes, Connected: net/peer_sender.h.

  virtual uint16_t port() const = 0;
  // Closes every connection and joins the threads. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace nds::net
