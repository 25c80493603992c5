// PeerSender: what a Raft node needs from the links to its peers — where each peer is, a frame
// to send, whether a link is up, and how much waits on it. net::PeerTransport implements it over
// TCP (and TLS); the deterministic simulator (src/sim/) implements it over its simulated network.
// Thread safety is the implementation's: PeerTransport may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "net/peer_payload.h"

namespace nds::net {

class PeerSender {
 public:
  virtual ~PeerSender() = default;

  // Sets (or changes) where peer `id` is reached: "host:port". Idempotent.
  virtual void SetPeer(uint64_t id, const std::string& address) = 0;
  // Forgets a peer: its queue is dropped and its connection closed.
  virtual void RemovePeer(uint64_t id) = 0;

  // Queues `frame` for peer `id`. False (frame dropped) when the peer is unknown, its queue is
  // full, or the frame is too large. The frame's shared pieces are kept (not copied) until it is
  // written or dropped.
  virtual bool Send(uint64_t id, PeerPayload frame) = 0;

  // Closes the inbound connection on which peer `id` speaks to us (it dials again), logging
  // `reason`: for a frame that arrived intact but that the receiver cannot decode. No-op when
  // no such connection is open.
  virtual void CloseInbound(uint64_t id, const std::string& reason) = 0;

  // Bytes queued for `id` and not yet written (0 for an unknown peer): lets a snapshot sender
  // apply back-pressure by waiting until the queue drains.
  virtual size_t QueuedBytes(uint64_t id) const = 0;
  // Whether the outbound link to `id` is currently established and authenticated.
  virtual bool Connected(uint64_t id) const = 0;
};

}  // namespace nds::net
