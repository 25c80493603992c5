// The dialling side of the peer transport (internal to net/; the API is peer_transport.h, the wire
// format docs/formats/peer.md): one OutboundLink per peer this node sends to. It dials, runs TLS
// when the transport has peer TLS (net/peer_tls.h), then the dialer's side of the handshake
// (net/peer_handshake.h), and writes the queued frames.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "net/maybe_tls_stream.h"
#include "net/peer_frame.h"
#include "net/peer_inbound.h"
#include "net/peer_payload.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace nds::net {

// Splits "host:port" or "[v6]:port". kInvalidArgument names the address.
Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& address);

// One peer: the bounded queue of frames for it and the connection that carries them. The queue
// and the counters are guarded by mu_ (Enqueue runs on callers' threads); the connection is
// strand only.
//
// Accounting: queued_bytes_/queued_frames_ count frames from Enqueue until their write completes
// (queued and in flight). A failed connection drops the frames of its write in flight (they may
// be partly sent; Raft tolerates the loss); frames still queued wait for the next connection.
class OutboundLink : public std::enable_shared_from_this<OutboundLink> {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  using Clock = std::chrono::steady_clock;

  OutboundLink(std::shared_ptr<PeerContext> context, boost::asio::io_context& ioc, uint64_t id,
               std::string address);

  const std::string& address() const { return address_for_callers_; }

  // Starts dialling (from any thread).
  void Open();

  // Queues `frame` (false when the link is closed or the queue is full). Its pieces stay
  // referenced until its write completes or the queue is dropped.
  bool Enqueue(PeerPayload frame);

  size_t QueuedBytes() const;
  bool Connected() const;

  // Points the link at a new address: closes the connection and dials at once (queue kept).
  // Called under the transport's mutex, so it is serialised with Open and Close.
  void ChangeAddress(std::string address);

  // Drops the queue and closes the connection (from any thread); Enqueue fails from then on.
  void Close();

  // Closes directly. Only once no io thread runs (Stop, after the join).
  void CloseNow();

 private:
  enum class State { kIdle, kConnecting, kHandshake, kConnected, kBackoff, kClosed };

  // One connection: its TLS context (kept as long as the stream uses it) and its stream.
  struct LinkStream {
    explicit LinkStream(const Strand& strand) : stream(strand) {}
    std::shared_ptr<SslContext> tls_context;
    MaybeTlsStream stream;
  };

  // The buffers of a write point into its frames: a frame is not moved while it is written
  // (writing_ is a deque, swapped, never reallocated).
  struct OutFrame {
    PeerFrameHeaderBytes header;
    PeerPayload payload;
  };

  void MarkClosed();

  void CloseOnStrand();

  void Dial();

  void OnResolved(uint64_t generation, boost::system::error_code ec,
                  const boost::asio::ip::tcp::resolver::results_type& results);

  void OnConnected(uint64_t generation, boost::system::error_code ec);
  // With peer TLS: the client side of the TLS handshake, within the connect timeout.
  void OnTlsHandshake(uint64_t generation, boost::system::error_code ec);

  // The dialer's side of the handshake (peer_handshake.h): our hello and nonce, then the
  // acceptor's challenge, read within hello_timeout; nothing queued is sent before the acceptor
  // proved that it holds the cluster secret.
  void StartHandshake();

  void ReadChallenge();

  void OnChallengeRead(boost::system::error_code ec, size_t bytes);

  void OnKick();

  // Writes the handshake's proof (on a new connection) and everything queued in one gather write.
  void StartWrite(bool with_proof);

  void OnWritten(uint64_t generation, boost::system::error_code ec);

  // After its challenge the acceptor never sends: a read completes only when the connection ends
  // (or the peer breaks the protocol). This notices a restarted peer before the next write is lost
  // to it.
  void StartWatch();

  void ReleaseWriting();

  // Ends the current connection attempt or connection; stale handlers see a new generation.
  void Disconnect();

  void Fail(const std::string& reason);

  void ScheduleRedial();

  std::chrono::milliseconds JitteredBackoff();

  const std::shared_ptr<PeerContext> context_;
  const uint64_t id_;

  // Strand only.
  Strand strand_;
  // The current connection's stream; a new one per dial. Handlers of a stream operation hold
  // it too, so that an old stream outlives its operations after Disconnect moved on.
  std::shared_ptr<LinkStream> stream_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer timer_;  // the connect and handshake timeouts, then the redial backoff
  std::string address_;
  State state_ = State::kIdle;
  // Bumped whenever a connection or attempt ends; a handler whose generation differs is stale.
  uint64_t generation_ = 0;
  std::chrono::milliseconds backoff_;
  uint64_t failures_ = 0;  // failures since the last connection (only for logging)
  Clock::time_point connected_at_{};
  uint64_t jitter_state_;
  bool write_in_flight_ = false;
  std::deque<OutFrame> writing_;  // the frames of the write in flight
  size_t writing_bytes_ = 0;
  std::vector<boost::asio::const_buffer> buffers_;
  std::array<char, 64> watch_buf_{};
  // The handshake of the current connection: our nonce, our hello and proof frames, and the
  // reader of the acceptor's challenge.
  std::string dialer_nonce_;
  std::string handshake_out_;
  std::string proof_out_;
  std::unique_ptr<PeerFrameDecoder> handshake_in_;

  // Guarded by the transport's mutex (Open/ChangeAddress run under it): the last address set.
  std::string address_for_callers_;

  mutable Mutex mu_;
  std::deque<OutFrame> queue_ NDS_GUARDED_BY(mu_);
  size_t queued_bytes_ NDS_GUARDED_BY(mu_) = 0;   // queue_ plus writing_
  size_t queued_frames_ NDS_GUARDED_BY(mu_) = 0;  // queue_ plus writing_
  bool link_up_ NDS_GUARDED_BY(mu_) = false;      // connected (Connected())
  // The strand will look at queue_ again (a kick is posted or a write is in flight), so Enqueue
  // need not post; cleared by the strand when it finds queue_ empty.
  bool writer_busy_ NDS_GUARDED_BY(mu_) = false;
  bool closed_ NDS_GUARDED_BY(mu_) = false;
};

}  // namespace nds::net
