// The dialling side of the peer transport (peer_outbound.h, docs/formats/peer.md).
#include "net/peer_outbound.h"

#include <algorithm>
#include <span>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "net/peer_handshake.h"
#include "net/peer_tls.h"
#include "util/check.h"
#include "util/host_port.h"

namespace nds::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// Backoff jitter: each delay is scaled by a factor in [1 - 1/kJitterDivisor, 1 + 1/kJitterDivisor].
constexpr int64_t kJitterDivisor = 5;

}  // namespace

Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& address) {
  std::optional<HostPort> hp = SplitHostPort(address);
  if (!hp) return InvalidArgument(fmt::format("peer address '{}' is not host:port", address));
  if (hp->port == 0 || hp->host.empty()) {
    return InvalidArgument(fmt::format("peer address '{}' has a bad host or port", address));
  }
  return std::pair<std::string, uint16_t>(std::move(hp->host), hp->port);
}

OutboundLink::OutboundLink(std::shared_ptr<PeerContext> context, asio::io_context& ioc, uint64_t id,
                           std::string address)
    : context_(std::move(context)),
      id_(id),
      strand_(asio::make_strand(ioc)),
      resolver_(strand_),
      timer_(strand_),
      address_(address),
      backoff_(context_->options.backoff_min),
      jitter_state_(id * 0x9e3779b97f4a7c15ULL + 1),
      address_for_callers_(std::move(address)) {}

void OutboundLink::Open() {
  asio::post(strand_, [self = shared_from_this()] { self->Dial(); });
}

bool OutboundLink::Enqueue(PeerPayload frame) {
  const size_t bytes = frame.size();  // the accounting counts payload bytes (QueuedBytes)
  OutFrame out{EncodePeerFrameHeader(bytes, frame.Crc32c()), std::move(frame)};
  bool kick = false;
  {
    MutexLock lock(mu_);
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

size_t OutboundLink::QueuedBytes() const {
  MutexLock lock(mu_);
  return queued_bytes_;
}

bool OutboundLink::Connected() const {
  MutexLock lock(mu_);
  return link_up_;
}

void OutboundLink::ChangeAddress(std::string address) {
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

void OutboundLink::Close() {
  MarkClosed();
  asio::post(strand_, [self = shared_from_this()] { self->CloseOnStrand(); });
}

void OutboundLink::CloseNow() {
  MarkClosed();
  CloseOnStrand();
}

void OutboundLink::MarkClosed() {
  MutexLock lock(mu_);
  closed_ = true;
  link_up_ = false;
  for (const OutFrame& f : queue_) queued_bytes_ -= f.payload.size();
  queued_frames_ -= queue_.size();
  queue_.clear();
}

void OutboundLink::CloseOnStrand() {
  if (state_ == State::kClosed) return;
  Disconnect();
  state_ = State::kClosed;
}

void OutboundLink::Dial() {
  if (state_ == State::kClosed) return;
  ++generation_;
  const uint64_t generation = generation_;
  Result<std::pair<std::string, uint16_t>> host_port = ParseHostPort(address_);
  if (!host_port.ok()) {
    spdlog::error("peer transport: peer {} is not dialled: {}", id_, host_port.status().ToString());
    state_ = State::kIdle;  // until SetPeer gives a usable address
    return;
  }
  state_ = State::kConnecting;
  stream_ = std::make_shared<LinkStream>(strand_);
  timer_.expires_after(context_->options.connect_timeout);
  timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
    if (ec || generation != self->generation_) return;
    self->Fail(
        fmt::format("no connection within {} ms", self->context_->options.connect_timeout.count()));
  });
  const auto& [host, port] = *host_port;
  error_code ec;
  const asio::ip::address ip = asio::ip::make_address(host, ec);
  if (!ec) {
    stream_->stream.socket().async_connect(
        tcp::endpoint(ip, port),
        [self = shared_from_this(), stream = stream_, generation](error_code connect_ec) {
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

void OutboundLink::OnResolved(uint64_t generation, error_code ec,
                              const tcp::resolver::results_type& results) {
  if (generation != generation_) return;
  if (ec) {
    Fail(fmt::format("cannot resolve: {}", ec.message()));
    return;
  }
  asio::async_connect(stream_->stream.socket(), results,
                      [self = shared_from_this(), stream = stream_, generation](
                          error_code connect_ec, const tcp::endpoint&) {
                        self->OnConnected(generation, connect_ec);
                      });
}

void OutboundLink::OnConnected(uint64_t generation, error_code ec) {
  if (generation != generation_) return;
  if (ec) {
    Fail(fmt::format("cannot connect: {}", ec.message()));
    return;
  }
  error_code option_ec;
  stream_->stream.socket().set_option(tcp::no_delay(true), option_ec);
  if (option_ec) {
    Fail(fmt::format("cannot set TCP_NODELAY: {}", option_ec.message()));
    return;
  }
  if (context_->options.tls == nullptr) {
    StartHandshake();
    return;
  }
  stream_->tls_context = context_->options.tls->Client();
  stream_->stream.StartTls(*stream_->tls_context);
  stream_->stream.tls()->async_handshake(
      asio::ssl::stream_base::client,
      [self = shared_from_this(), stream = stream_, generation](error_code tls_ec) {
        self->OnTlsHandshake(generation, tls_ec);
      });
}

void OutboundLink::OnTlsHandshake(uint64_t generation, error_code ec) {
  if (generation != generation_) return;
  if (ec) {
    Fail(fmt::format(
        "peer TLS handshake failed: {} (does the peer run peer TLS with a certificate of our "
        "peer CA, and does it trust ours?)",
        DescribeTlsFailure(stream_->stream.tls()->native_handle(), ec)));
    return;
  }
  StartHandshake();
}

void OutboundLink::StartHandshake() {
  Result<std::string> nonce = NewHandshakeNonce();
  if (!nonce.ok()) {
    Fail(fmt::format("cannot start the handshake: {}", nonce.status().ToString()));
    return;
  }
  state_ = State::kHandshake;
  dialer_nonce_ = std::move(*nonce);
  handshake_out_ = EncodePeerFrame(EncodeHandshakeHello({dialer_nonce_, context_->options.hello}));
  handshake_in_ = std::make_unique<PeerFrameDecoder>(kPeerChallengeBytes);
  const uint64_t generation = generation_;
  timer_.expires_after(context_->options.hello_timeout);
  timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
    if (ec || generation != self->generation_ || self->state_ != State::kHandshake) return;
    self->Fail(fmt::format("no answer to the handshake within {} ms",
                           self->context_->options.hello_timeout.count()));
  });
  asio::async_write(
      stream_->stream, asio::buffer(handshake_out_),
      [self = shared_from_this(), stream = stream_, generation](error_code ec, size_t /*bytes*/) {
        if (ec && generation == self->generation_) {
          self->Fail(fmt::format("write failed: {}", ec.message()));
        }
      });
  ReadChallenge();
}

void OutboundLink::ReadChallenge() {
  const std::span<char> space = handshake_in_->WritableSpace();
  const uint64_t generation = generation_;
  stream_->stream.async_read_some(
      asio::buffer(space.data(), space.size()),
      [self = shared_from_this(), stream = stream_, generation](error_code ec, size_t bytes) {
        if (generation != self->generation_) return;
        self->OnChallengeRead(ec, bytes);
      });
}

void OutboundLink::OnChallengeRead(error_code ec, size_t bytes) {
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
      challenge.ok()
          ? VerifyHandshakeProof(context_->options.secret, HandshakeRole::kAcceptor, dialer_nonce_,
                                 challenge->nonce, context_->options.hello, challenge->proof)
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
    MutexLock lock(mu_);
    link_up_ = !closed_;
    writer_busy_ = true;
  }
  StartWrite(/*with_proof=*/true);
  StartWatch();
}

void OutboundLink::OnKick() {
  if (state_ != State::kConnected || write_in_flight_) return;
  StartWrite(/*with_proof=*/false);
}

void OutboundLink::StartWrite(bool with_proof) {
  NDS_CHECK(!write_in_flight_);
  {
    MutexLock lock(mu_);
    if (queue_.empty() && !with_proof) {
      writer_busy_ = false;
      return;
    }
    writing_.swap(queue_);  // queue_ was emptied after the last write
  }
  buffers_.clear();
  if (with_proof) buffers_.emplace_back(proof_out_.data(), proof_out_.size());
  writing_bytes_ = 0;
  for (const OutFrame& f : writing_) {
    buffers_.emplace_back(f.header.data(), f.header.size());
    f.payload.AppendBuffers(&buffers_);  // big entries by reference: no copy per follower
    writing_bytes_ += f.payload.size();
  }
  write_in_flight_ = true;
  const uint64_t generation = generation_;
  asio::async_write(stream_->stream, buffers_,
                    [self = shared_from_this(), stream = stream_, generation](
                        error_code ec, size_t /*bytes*/) { self->OnWritten(generation, ec); });
}

void OutboundLink::OnWritten(uint64_t generation, error_code ec) {
  if (generation != generation_) return;
  write_in_flight_ = false;
  if (ec) {
    Fail(fmt::format("write failed: {}", ec.message()));
    return;
  }
  ReleaseWriting();
  StartWrite(/*with_proof=*/false);
}

void OutboundLink::StartWatch() {
  const uint64_t generation = generation_;
  stream_->stream.async_read_some(
      asio::buffer(watch_buf_),
      [self = shared_from_this(), stream = stream_, generation](error_code ec, size_t) {
        if (generation != self->generation_) return;
        self->Fail(ec ? (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated
                             ? std::string("closed by peer")
                             : ec.message())
                      : std::string("peer sent bytes on a one-way link"));
      });
}

void OutboundLink::ReleaseWriting() {
  {
    MutexLock lock(mu_);
    if (!closed_) {  // MarkClosed already zeroed the counters of a closed link
      queued_bytes_ -= writing_bytes_;
      queued_frames_ -= writing_.size();
    }
  }
  writing_.clear();
  writing_bytes_ = 0;
}

void OutboundLink::Disconnect() {
  ++generation_;
  error_code ec;
  if (stream_ != nullptr) stream_->stream.socket().close(ec);
  resolver_.cancel();
  timer_.cancel();
  write_in_flight_ = false;
  {
    MutexLock lock(mu_);
    link_up_ = false;
    writer_busy_ = false;
  }
  ReleaseWriting();
}

void OutboundLink::Fail(const std::string& reason) {
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

void OutboundLink::ScheduleRedial() {
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

std::chrono::milliseconds OutboundLink::JitteredBackoff() {
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

}  // namespace nds::net
