// PeerTransport over Boost.Asio (peer_transport.h; frames per docs/formats/peer.md).
//
// Objects and who owns them:
//   PeerTransportImpl  owned by the caller; owns the io_context, its threads, the acceptor, and
//                      the map of outbound links (one per peer id).
//   OutboundLink       one peer's queue and connection; shared by the map and its pending
//                      handlers (shared_from_this), so a handler never outlives its link.
//   InboundConnection  (peer_inbound.h) one accepted connection; kept alive only by its pending
//                      handlers, and listed (weakly) in the InboundRegistry so that Stop and
//                      the connection limit can find it.
//   PeerContext        (peer_inbound.h) options, receiver and the registry; shared by all of
//                      the above, so it outlives every handler, even those destroyed with the
//                      io_context.
//
// Threads: each link and each inbound connection runs on its own strand. Send/SetPeer/... run on
// the caller's threads: they touch the transport map under PeerTransportImpl::mu_ and a link's
// queue under OutboundLink::mu_, and hand work to the strand with asio::post.
//
// Stop: marks the transport stopped (Send fails from then on), stops the io_context, joins the
// threads, and then closes the acceptor and every socket directly from the stopping thread (no
// io thread runs any more, so nothing races with it). Handlers still queued are destroyed, not
// run, when the io_context is destroyed.
#include "net/peer_transport.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "net/peer_frame.h"
#include "net/peer_handshake.h"
#include "net/peer_inbound.h"
#include "util/check.h"
#include "util/thread_annotations.h"

namespace nds::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Strand = asio::strand<asio::io_context::executor_type>;

constexpr size_t kThreadsMax = 256;
constexpr int kListenBacklog = 1024;
// After a failed accept (say, out of file descriptors), wait this long before the next.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};
// Backoff jitter: each delay is scaled by a factor in [1 - 1/kJitterDivisor, 1 + 1/kJitterDivisor].
constexpr int64_t kJitterDivisor = 5;

Status ValidateOptions(const PeerTransportOptions& o) {
  if (o.threads == 0 || o.threads > kThreadsMax) {
    return InvalidArgument(fmt::format("threads must be 1..{}, got {}", kThreadsMax, o.threads));
  }
  if (o.frame_bytes_max == 0 || o.frame_bytes_max > kPeerFramePayloadBytesLimit) {
    return InvalidArgument(fmt::format("frame_bytes_max must be 1..{}, got {}",
                                       kPeerFramePayloadBytesLimit, o.frame_bytes_max));
  }
  if (o.queue_bytes_max < o.frame_bytes_max) {
    return InvalidArgument(fmt::format(
        "queue_bytes_max ({}) must be at least frame_bytes_max ({}): a largest frame must fit",
        o.queue_bytes_max, o.frame_bytes_max));
  }
  if (o.queue_frames_max == 0) return InvalidArgument("queue_frames_max must be >= 1");
  if (o.backoff_min.count() <= 0 || o.backoff_max < o.backoff_min) {
    return InvalidArgument(fmt::format("need 0 < backoff_min <= backoff_max, got {} ms and {} ms",
                                       o.backoff_min.count(), o.backoff_max.count()));
  }
  if (o.connect_timeout.count() <= 0 || o.hello_timeout.count() <= 0) {
    return InvalidArgument("connect_timeout and hello_timeout must be positive");
  }
  if (o.secret.size() < kPeerSecretBytesMin) {
    return InvalidArgument(fmt::format("the cluster secret must be at least {} bytes, got {}",
                                       kPeerSecretBytesMin, o.secret.size()));
  }
  if (o.inbound_connections_max == 0) {
    return InvalidArgument("inbound_connections_max must be >= 1");
  }
  // The hello travels in the handshake's first frame, after its header and the nonce.
  const size_t hello_max = std::min(kPeerHelloBytesMax, o.frame_bytes_max) -
                           std::min(std::min(kPeerHelloBytesMax, o.frame_bytes_max),
                                    kPeerHandshakeMagic.size() + 2 + kPeerNonceBytes);
  if (o.hello.size() > hello_max) {
    return InvalidArgument(
        fmt::format("hello of {} bytes exceeds the limit of {} bytes", o.hello.size(), hello_max));
  }
  return Status::Ok();
}

// Splits "host:port" or "[v6]:port". kInvalidArgument names the address.
Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return InvalidArgument(fmt::format("peer address '{}' is not host:port", address));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  uint32_t port = 0;
  for (size_t i = colon + 1; i < address.size(); ++i) {
    const char c = address[i];
    if (c < '0' || c > '9' || port > 65535) {
      return InvalidArgument(fmt::format("peer address '{}' has a bad port", address));
    }
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port == 0 || port > 65535 || host.empty()) {
    return InvalidArgument(fmt::format("peer address '{}' has a bad host or port", address));
  }
  return std::pair<std::string, uint16_t>(std::move(host), static_cast<uint16_t>(port));
}

// One peer: the bounded queue of frames for it and the connection that carries them. The queue
// and the counters are guarded by mu_ (Enqueue runs on callers' threads); the connection is
// strand only.
//
// Accounting: queued_bytes_/queued_frames_ count frames from Enqueue until their write completes
// (queued and in flight). A failed connection drops the frames of its write in flight (they may
// be partly sent; Raft tolerates the loss); frames still queued wait for the next connection.
class OutboundLink : public std::enable_shared_from_this<OutboundLink> {
 public:
  OutboundLink(std::shared_ptr<PeerContext> context, asio::io_context& ioc, uint64_t id,
               std::string address)
      : context_(std::move(context)),
        id_(id),
        strand_(asio::make_strand(ioc)),
        socket_(strand_),
        resolver_(strand_),
        timer_(strand_),
        address_(address),
        backoff_(context_->options.backoff_min),
        jitter_state_(id * 0x9e3779b97f4a7c15ULL + 1),
        address_for_callers_(std::move(address)) {}

  const std::string& address() const { return address_for_callers_; }

  // Starts dialling (from any thread).
  void Open() {
    asio::post(strand_, [self = shared_from_this()] { self->Dial(); });
  }

  bool Enqueue(std::string frame) {
    const size_t bytes = frame.size();  // the accounting counts payload bytes (QueuedBytes)
    OutFrame out{EncodePeerFrameHeader(frame), std::move(frame)};
    bool kick = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return false;
      if (queued_frames_ >= context_->options.queue_frames_max ||
          bytes > context_->options.queue_bytes_max -
                      std::min(queued_bytes_, context_->options.queue_bytes_max)) {
        return false;
      }
      queue_.push_back(std::move(out));
      queued_bytes_ += bytes;
      ++queued_frames_;
      if (link_up_ && !writer_busy_) {
        writer_busy_ = true;
        kick = true;
      }
    }
    if (kick) asio::post(strand_, [self = shared_from_this()] { self->OnKick(); });
    return true;
  }

  size_t QueuedBytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queued_bytes_;
  }
  bool Connected() const {
    std::lock_guard<std::mutex> lock(mu_);
    return link_up_;
  }

  // Points the link at a new address: closes the connection and dials at once (queue kept).
  // Called under the transport's mutex, so it is serialised with Open and Close.
  void ChangeAddress(std::string address) {
    address_for_callers_ = address;
    asio::post(strand_, [self = shared_from_this(), address = std::move(address)] {
      if (self->state_ == State::kClosed) return;
      self->Disconnect();
      self->address_ = address;
      self->backoff_ = self->context_->options.backoff_min;
      self->failures_ = 0;
      self->Dial();
    });
  }

  // Drops the queue and closes the connection (from any thread); Enqueue fails from then on.
  void Close() {
    MarkClosed();
    asio::post(strand_, [self = shared_from_this()] { self->CloseOnStrand(); });
  }

  // Closes directly. Only once no io thread runs (Stop, after the join).
  void CloseNow() {
    MarkClosed();
    CloseOnStrand();
  }

 private:
  enum class State { kIdle, kConnecting, kHandshake, kConnected, kBackoff, kClosed };

  struct OutFrame {
    PeerFrameHeaderBytes header;
    std::string payload;
  };

  void MarkClosed() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    link_up_ = false;
    for (const OutFrame& f : queue_) queued_bytes_ -= f.payload.size();
    queued_frames_ -= queue_.size();
    queue_.clear();
  }

  void CloseOnStrand() {
    if (state_ == State::kClosed) return;
    Disconnect();
    state_ = State::kClosed;
  }

  void Dial() {
    if (state_ == State::kClosed) return;
    ++generation_;
    const uint64_t generation = generation_;
    Result<std::pair<std::string, uint16_t>> host_port = ParseHostPort(address_);
    if (!host_port.ok()) {
      spdlog::error("peer transport: peer {} is not dialled: {}", id_,
                    host_port.status().ToString());
      state_ = State::kIdle;  // until SetPeer gives a usable address
      return;
    }
    state_ = State::kConnecting;
    timer_.expires_after(context_->options.connect_timeout);
    timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
      if (ec || generation != self->generation_) return;
      self->Fail(fmt::format("no connection within {} ms",
                             self->context_->options.connect_timeout.count()));
    });
    const auto& [host, port] = *host_port;
    error_code ec;
    const asio::ip::address ip = asio::ip::make_address(host, ec);
    if (!ec) {
      socket_.async_connect(tcp::endpoint(ip, port),
                            [self = shared_from_this(), generation](error_code connect_ec) {
                              self->OnConnected(generation, connect_ec);
                            });
      return;
    }
    resolver_.async_resolve(host, std::to_string(port),
                            [self = shared_from_this(), generation](
                                error_code resolve_ec, const tcp::resolver::results_type& results) {
                              self->OnResolved(generation, resolve_ec, results);
                            });
  }

  void OnResolved(uint64_t generation, error_code ec, const tcp::resolver::results_type& results) {
    if (generation != generation_) return;
    if (ec) {
      Fail(fmt::format("cannot resolve: {}", ec.message()));
      return;
    }
    asio::async_connect(
        socket_, results,
        [self = shared_from_this(), generation](error_code connect_ec, const tcp::endpoint&) {
          self->OnConnected(generation, connect_ec);
        });
  }

  void OnConnected(uint64_t generation, error_code ec) {
    if (generation != generation_) return;
    if (ec) {
      Fail(fmt::format("cannot connect: {}", ec.message()));
      return;
    }
    error_code option_ec;
    socket_.set_option(tcp::no_delay(true), option_ec);
    if (option_ec) {
      Fail(fmt::format("cannot set TCP_NODELAY: {}", option_ec.message()));
      return;
    }
    StartHandshake();
  }

  // The dialer's side of the handshake (peer_handshake.h): our hello and nonce, then the
  // acceptor's challenge, read within hello_timeout; nothing queued is sent before the acceptor
  // proved that it holds the cluster secret.
  void StartHandshake() {
    Result<std::string> nonce = NewHandshakeNonce();
    if (!nonce.ok()) {
      Fail(fmt::format("cannot start the handshake: {}", nonce.status().ToString()));
      return;
    }
    state_ = State::kHandshake;
    dialer_nonce_ = std::move(*nonce);
    handshake_out_ =
        EncodePeerFrame(EncodeHandshakeHello({dialer_nonce_, context_->options.hello}));
    handshake_in_ = std::make_unique<PeerFrameDecoder>(kPeerChallengeBytes);
    const uint64_t generation = generation_;
    timer_.expires_after(context_->options.hello_timeout);
    timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
      if (ec || generation != self->generation_ || self->state_ != State::kHandshake) return;
      self->Fail(fmt::format("no answer to the handshake within {} ms",
                             self->context_->options.hello_timeout.count()));
    });
    asio::async_write(socket_, asio::buffer(handshake_out_),
                      [self = shared_from_this(), generation](error_code ec, size_t /*bytes*/) {
                        if (ec && generation == self->generation_) {
                          self->Fail(fmt::format("write failed: {}", ec.message()));
                        }
                      });
    ReadChallenge();
  }

  void ReadChallenge() {
    const std::span<char> space = handshake_in_->WritableSpace();
    const uint64_t generation = generation_;
    socket_.async_read_some(asio::buffer(space.data(), space.size()),
                            [self = shared_from_this(), generation](error_code ec, size_t bytes) {
                              if (generation != self->generation_) return;
                              self->OnChallengeRead(ec, bytes);
                            });
  }

  void OnChallengeRead(error_code ec, size_t bytes) {
    if (ec) {
      Fail(ec == asio::error::eof ? std::string("closed by peer during the handshake (does it "
                                                "hold the same cluster secret and know this node?)")
                                  : ec.message());
      return;
    }
    handshake_in_->Commit(bytes);
    Result<std::optional<std::string>> frame = handshake_in_->Next();
    if (frame.ok() && !frame->has_value()) {
      ReadChallenge();
      return;
    }
    Result<HandshakeChallenge> challenge =
        frame.ok() ? DecodeHandshakeChallenge(**frame) : Result<HandshakeChallenge>(frame.status());
    Result<bool> good =
        challenge.ok() ? VerifyHandshakeProof(context_->options.secret, HandshakeRole::kAcceptor,
                                              dialer_nonce_, challenge->nonce,
                                              context_->options.hello, challenge->proof)
                       : Result<bool>(challenge.status());
    if (!good.ok() || !*good || handshake_in_->buffered_bytes() != 0) {
      Fail(!good.ok() ? "handshake failed: " + good.status().ToString()
                      : "handshake failed: the acceptor did not prove that it holds the cluster "
                        "secret");
      return;
    }
    Result<std::string> proof =
        HandshakeProof(context_->options.secret, HandshakeRole::kDialler, dialer_nonce_,
                       challenge->nonce, context_->options.hello);
    if (!proof.ok()) {
      Fail("handshake failed: " + proof.status().ToString());
      return;
    }
    timer_.cancel();
    handshake_in_.reset();
    proof_out_ = EncodePeerFrame(EncodeHandshakeProof(*proof));
    state_ = State::kConnected;
    connected_at_ = Clock::now();
    if (failures_ > 0) spdlog::info("peer transport: connected to peer {} at {}", id_, address_);
    failures_ = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      link_up_ = !closed_;
      writer_busy_ = true;
    }
    StartWrite(/*with_proof=*/true);
    StartWatch();
  }

  void OnKick() {
    if (state_ != State::kConnected || write_in_flight_) return;
    StartWrite(/*with_proof=*/false);
  }

  // Writes the handshake's proof (on a new connection) and everything queued in one gather write.
  void StartWrite(bool with_proof) {
    NDS_CHECK(!write_in_flight_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty() && !with_proof) {
        writer_busy_ = false;
        return;
      }
      writing_.swap(queue_);  // queue_ was emptied after the last write
    }
    buffers_.clear();
    buffers_.reserve(2 * writing_.size() + 2);
    if (with_proof) buffers_.emplace_back(proof_out_.data(), proof_out_.size());
    writing_bytes_ = 0;
    for (const OutFrame& f : writing_) {
      buffers_.emplace_back(f.header.data(), f.header.size());
      buffers_.emplace_back(f.payload.data(), f.payload.size());
      writing_bytes_ += f.payload.size();
    }
    write_in_flight_ = true;
    const uint64_t generation = generation_;
    asio::async_write(socket_, buffers_,
                      [self = shared_from_this(), generation](error_code ec, size_t /*bytes*/) {
                        self->OnWritten(generation, ec);
                      });
  }

  void OnWritten(uint64_t generation, error_code ec) {
    if (generation != generation_) return;
    write_in_flight_ = false;
    if (ec) {
      Fail(fmt::format("write failed: {}", ec.message()));
      return;
    }
    ReleaseWriting();
    StartWrite(/*with_proof=*/false);
  }

  // After its challenge the acceptor never sends: a read completes only when the connection ends
  // (or the peer breaks the protocol). This notices a restarted peer before the next write is lost
  // to it.
  void StartWatch() {
    const uint64_t generation = generation_;
    socket_.async_read_some(
        asio::buffer(watch_buf_), [self = shared_from_this(), generation](error_code ec, size_t) {
          if (generation != self->generation_) return;
          self->Fail(ec ? (ec == asio::error::eof ? std::string("closed by peer") : ec.message())
                        : std::string("peer sent bytes on a one-way link"));
        });
  }

  void ReleaseWriting() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!closed_) {  // MarkClosed already zeroed the counters of a closed link
        queued_bytes_ -= writing_bytes_;
        queued_frames_ -= writing_.size();
      }
    }
    writing_.clear();
    writing_bytes_ = 0;
  }

  // Ends the current connection attempt or connection; stale handlers see a new generation.
  void Disconnect() {
    ++generation_;
    error_code ec;
    socket_.close(ec);
    resolver_.cancel();
    timer_.cancel();
    write_in_flight_ = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      link_up_ = false;
      writer_busy_ = false;
    }
    ReleaseWriting();
  }

  void Fail(const std::string& reason) {
    if (state_ == State::kClosed) return;
    const bool was_connected = state_ == State::kConnected;
    Disconnect();
    ++failures_;
    if (was_connected && Clock::now() - connected_at_ >= context_->options.backoff_max) {
      backoff_ = context_->options.backoff_min;  // a connection that lasted resets the backoff
    }
    if (was_connected || failures_ == 1) {
      spdlog::warn("peer transport: peer {} at {}: {}; redialling with backoff", id_, address_,
                   reason);
    } else {
      spdlog::debug("peer transport: peer {} at {}: {} (failure {})", id_, address_, reason,
                    failures_);
    }
    ScheduleRedial();
  }

  void ScheduleRedial() {
    state_ = State::kBackoff;
    const std::chrono::milliseconds delay = JitteredBackoff();
    backoff_ = std::min(backoff_ * 2, context_->options.backoff_max);
    const uint64_t generation = generation_;
    timer_.expires_after(delay);
    timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
      if (ec || generation != self->generation_) return;
      self->Dial();
    });
  }

  std::chrono::milliseconds JitteredBackoff() {
    // splitmix64: a small seeded PRNG, so that peers that failed together do not redial together.
    jitter_state_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = jitter_state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    const int64_t base = backoff_.count();
    const int64_t spread = base / kJitterDivisor;
    const int64_t offset = spread == 0 ? 0 : static_cast<int64_t>(z % (2 * spread + 1)) - spread;
    return std::clamp(std::chrono::milliseconds(base + offset), context_->options.backoff_min,
                      context_->options.backoff_max);
  }

  const std::shared_ptr<PeerContext> context_;
  const uint64_t id_;

  // Strand only.
  Strand strand_;
  tcp::socket socket_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;  // the connect and handshake timeouts, then the redial backoff
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
  std::vector<asio::const_buffer> buffers_;
  std::array<char, 64> watch_buf_{};
  // The handshake of the current connection: our nonce, our hello and proof frames, and the
  // reader of the acceptor's challenge.
  std::string dialer_nonce_;
  std::string handshake_out_;
  std::string proof_out_;
  std::unique_ptr<PeerFrameDecoder> handshake_in_;

  // Guarded by the transport's mutex (Open/ChangeAddress run under it): the last address set.
  std::string address_for_callers_;

  mutable std::mutex mu_;
  std::deque<OutFrame> queue_ NDS_GUARDED_BY(mu_);
  size_t queued_bytes_ NDS_GUARDED_BY(mu_) = 0;   // queue_ plus writing_
  size_t queued_frames_ NDS_GUARDED_BY(mu_) = 0;  // queue_ plus writing_
  bool link_up_ NDS_GUARDED_BY(mu_) = false;      // connected (Connected())
  // The strand will look at queue_ again (a kick is posted or a write is in flight), so Enqueue
  // need not post; cleared by the strand when it finds queue_ empty.
  bool writer_busy_ NDS_GUARDED_BY(mu_) = false;
  bool closed_ NDS_GUARDED_BY(mu_) = false;
};

// The transport. Owned by the caller; thread-safe (mu_ guards the map and the running flag).
class PeerTransportImpl final : public PeerTransport {
 public:
  PeerTransportImpl(const PeerTransportOptions& options, PeerReceiver* receiver)
      : context_(std::make_shared<PeerContext>()),
        ioc_(static_cast<int>(options.threads)),
        work_(asio::make_work_guard(ioc_)),
        acceptor_(asio::make_strand(ioc_)),
        accept_retry_timer_(acceptor_.get_executor()) {
    context_->options = options;
    context_->receiver = receiver;
  }

  ~PeerTransportImpl() override { Stop(); }

  Status Listen();
  void Run();

  void SetPeer(uint64_t id, const std::string& address) override;
  void RemovePeer(uint64_t id) override;
  bool Send(uint64_t id, std::string frame) override;
  void CloseInbound(uint64_t id, const std::string& reason) override;
  size_t QueuedBytes(uint64_t id) const override;
  bool Connected(uint64_t id) const override;
  uint16_t port() const override { return port_; }
  void Stop() override;

 private:
  std::shared_ptr<OutboundLink> FindLink(uint64_t id) const;
  void StartAccept();
  void OnAccept(error_code ec, tcp::socket socket);

  const std::shared_ptr<PeerContext> context_;
  // Declared before everything bound to it, so that it is destroyed after them.
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;                 // acceptor strand only (and Stop after the join)
  asio::steady_timer accept_retry_timer_;  // acceptor strand only
  uint16_t port_ = 0;                      // set by Listen, then read-only
  std::atomic<bool> accepting_{false};

  mutable std::mutex mu_;
  bool running_ NDS_GUARDED_BY(mu_) = false;  // threads started and Stop not yet called
  std::vector<std::thread> threads_ NDS_GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<OutboundLink>> links_ NDS_GUARDED_BY(mu_);
};

Status PeerTransportImpl::Listen() {
  const PeerTransportOptions& o = context_->options;
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(o.listen_address, ec);
  if (ec) {
    return InvalidArgument(
        fmt::format("bad peer listen address '{}': {}", o.listen_address, ec.message()));
  }
  const tcp::endpoint endpoint(address, o.listen_port);
  const std::string where = fmt::format("{}:{}", o.listen_address, o.listen_port);
  if (acceptor_.open(endpoint.protocol(), ec)) {
    return Unavailable(fmt::format("cannot open a socket for {}: {}", where, ec.message()));
  }
  if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec)) {
    return Unavailable(fmt::format("cannot set SO_REUSEADDR for {}: {}", where, ec.message()));
  }
  if (acceptor_.bind(endpoint, ec)) {
    if (ec == boost::system::errc::address_not_available) {
      return InvalidArgument(fmt::format("cannot bind {}: {}", where, ec.message()));
    }
    return Unavailable(fmt::format("cannot bind {}: {}", where, ec.message()));
  }
  if (acceptor_.listen(kListenBacklog, ec)) {
    return Unavailable(fmt::format("cannot listen on {}: {}", where, ec.message()));
  }
  const tcp::endpoint local = acceptor_.local_endpoint(ec);
  if (ec) return Unavailable(fmt::format("cannot read the port of {}: {}", where, ec.message()));
  port_ = local.port();
  return Status::Ok();
}

void PeerTransportImpl::Run() {
  accepting_ = true;
  asio::post(acceptor_.get_executor(), [this] { StartAccept(); });
  std::lock_guard<std::mutex> lock(mu_);
  running_ = true;
  for (size_t i = 0; i < context_->options.threads; ++i) {
    threads_.emplace_back([this] { ioc_.run(); });
  }
}

void PeerTransportImpl::StartAccept() {
  if (!accepting_) return;
  acceptor_.async_accept(asio::make_strand(ioc_), [this](error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void PeerTransportImpl::OnAccept(error_code ec, tcp::socket socket) {
  if (!accepting_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    spdlog::warn("peer transport: accept failed: {}", ec.message());
    accept_retry_timer_.expires_after(kAcceptRetryDelay);
    accept_retry_timer_.async_wait([this](error_code wait_ec) {
      if (!wait_ec) StartAccept();
    });
    return;
  }
  error_code option_ec;
  socket.set_option(tcp::no_delay(true), option_ec);
  auto connection = std::make_shared<InboundConnection>(context_, std::move(socket));
  const std::optional<uint64_t> id =
      context_->inbound.TryAdd(connection, context_->options.inbound_connections_max);
  if (!id.has_value()) {
    spdlog::warn("peer transport: refusing the connection from {}: {} inbound connections open",
                 connection->remote(), context_->options.inbound_connections_max);
    connection->CloseNow();  // never started: no handler of it runs
  } else {
    connection->Start(*id);
  }
  StartAccept();
}

std::shared_ptr<OutboundLink> PeerTransportImpl::FindLink(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = links_.find(id);
  return it == links_.end() ? nullptr : it->second;
}

void PeerTransportImpl::SetPeer(uint64_t id, const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!running_) return;
  auto it = links_.find(id);
  if (it == links_.end()) {
    auto link = std::make_shared<OutboundLink>(context_, ioc_, id, address);
    link->Open();
    links_.emplace(id, std::move(link));
  } else if (it->second->address() != address) {
    it->second->ChangeAddress(address);
  }
}

void PeerTransportImpl::RemovePeer(uint64_t id) {
  std::shared_ptr<OutboundLink> link;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = links_.find(id);
    if (it == links_.end()) return;
    link = std::move(it->second);
    links_.erase(it);
  }
  link->Close();
}

void PeerTransportImpl::CloseInbound(uint64_t id, const std::string& reason) {
  if (auto connection = context_->inbound.FindPeer(id).lock()) connection->CloseLater(reason);
}

bool PeerTransportImpl::Send(uint64_t id, std::string frame) {
  if (frame.size() > context_->options.frame_bytes_max) return false;
  std::shared_ptr<OutboundLink> link = FindLink(id);
  return link != nullptr && link->Enqueue(std::move(frame));
}

size_t PeerTransportImpl::QueuedBytes(uint64_t id) const {
  std::shared_ptr<OutboundLink> link = FindLink(id);
  return link == nullptr ? 0 : link->QueuedBytes();
}

bool PeerTransportImpl::Connected(uint64_t id) const {
  std::shared_ptr<OutboundLink> link = FindLink(id);
  return link != nullptr && link->Connected();
}

void PeerTransportImpl::Stop() {
  std::map<uint64_t, std::shared_ptr<OutboundLink>> links;
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return;
    running_ = false;
    for (const std::thread& t : threads_) {
      NDS_CHECK(t.get_id() != std::this_thread::get_id(), "Stop called on a transport thread");
    }
    links.swap(links_);  // Send, QueuedBytes and Connected see no peer from here on
    threads.swap(threads_);
  }
  for (auto& [id, link] : links) link->Close();  // Enqueue fails at once on a racing Send
  accepting_ = false;
  work_.reset();
  ioc_.stop();
  for (std::thread& t : threads) t.join();
  // No io thread runs: close everything directly.
  error_code ec;
  acceptor_.close(ec);
  accept_retry_timer_.cancel();
  for (auto& [id, link] : links) link->CloseNow();
  for (const auto& connection : context_->inbound.TakeAll()) connection->CloseNow();
}

}  // namespace

Result<std::unique_ptr<PeerTransport>> PeerTransport::Start(const PeerTransportOptions& options,
                                                            PeerReceiver* receiver) {
  NDS_CHECK(receiver != nullptr);
  NDS_RETURN_IF_ERROR(ValidateOptions(options));
  auto transport = std::make_unique<PeerTransportImpl>(options, receiver);
  NDS_RETURN_IF_ERROR(transport->Listen());
  transport->Run();
  return std::unique_ptr<PeerTransport>(std::move(transport));
}

}  // namespace nds::net
