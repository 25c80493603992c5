// PeerTransport over Boost.Asio (peer_transport.h; frames per docs/formats/peer.md).
//
// Objects and who owns them:
//   PeerTransportImpl  owned by the caller; owns the io_context, its threads, the acceptor
//                      (acceptor.h), and the map of outbound links (one per peer id).
//   OutboundLink       (peer_outbound.h) one peer's queue and connection; shared by the map
//                      and its pending handlers (shared_from_this), so a handler never outlives
//                      its link.
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
// Stop: marks the transport stopped (Send fails from then on), closes the acceptor (on its strand),
// stops the io_context, joins the threads, and then closes every socket directly from the
// stopping thread (no io thread runs any more, so nothing races with it). Handlers still queued
// are destroyed, not run, when the io_context is destroyed.
#include "net/peer_transport.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "net/acceptor.h"
#include "net/peer_frame.h"
#include "net/peer_handshake.h"
#include "net/peer_inbound.h"
#include "net/peer_outbound.h"
#include "util/check.h"
#include "util/thread_annotations.h"
#include "util/thread_name.h"

namespace nds::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr size_t kThreadsMax = 256;
constexpr int kListenBacklog = 1024;

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

// The transport. Owned by the caller; thread-safe (mu_ guards the map and the running flag).
class PeerTransportImpl final : public PeerTransport {
 public:
  PeerTransportImpl(const PeerTransportOptions& options, PeerReceiver* receiver)
      : context_(std::make_shared<PeerContext>()),
        ioc_(static_cast<int>(options.threads)),
        work_(asio::make_work_guard(ioc_)),
        acceptor_(ioc_, "peer") {
    context_->options = options;
    context_->receiver = receiver;
  }

  // NOLINTNEXTLINE(bugprone-exception-escape): only a bug throws here; terminate is right.
  ~PeerTransportImpl() override { Stop(); }

  Status Listen();
  void Run();

  void SetPeer(uint64_t id, const std::string& address) override;
  void RemovePeer(uint64_t id) override;
  bool Send(uint64_t id, PeerPayload frame) override;
  void CloseInbound(uint64_t id, const std::string& reason) override;
  size_t QueuedBytes(uint64_t id) const override;
  bool Connected(uint64_t id) const override;
  uint16_t port() const override { return acceptor_.port(); }
  void Stop() override;

 private:
  std::shared_ptr<OutboundLink> FindLink(uint64_t id) const;
  void OnAccept(tcp::socket socket);

  const std::shared_ptr<PeerContext> context_;
  // Declared before everything bound to it, so that it is destroyed after them.
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  Acceptor acceptor_;

  mutable Mutex mu_;
  bool running_ NDS_GUARDED_BY(mu_) = false;  // threads started and Stop not yet called
  std::vector<std::thread> threads_ NDS_GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<OutboundLink>> links_ NDS_GUARDED_BY(mu_);
};

Status PeerTransportImpl::Listen() {
  const PeerTransportOptions& o = context_->options;
  return acceptor_.Listen(o.listen_address, o.listen_port, kListenBacklog);
}

void PeerTransportImpl::Run() {
  acceptor_.Start([this](tcp::socket socket) { OnAccept(std::move(socket)); });
  MutexLock lock(mu_);
  running_ = true;
  for (size_t i = 0; i < context_->options.threads; ++i) {
    threads_.emplace_back([this] {
      NameThisThread("nds-peer-io");
      ioc_.run();
    });
  }
}

// On the acceptor's strand.
void PeerTransportImpl::OnAccept(tcp::socket socket) {
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
}

std::shared_ptr<OutboundLink> PeerTransportImpl::FindLink(uint64_t id) const {
  MutexLock lock(mu_);
  auto it = links_.find(id);
  return it == links_.end() ? nullptr : it->second;
}

void PeerTransportImpl::SetPeer(uint64_t id, const std::string& address) {
  MutexLock lock(mu_);
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
    MutexLock lock(mu_);
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

bool PeerTransportImpl::Send(uint64_t id, PeerPayload frame) {
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
    MutexLock lock(mu_);
    if (!running_) return;
    running_ = false;
    for (const std::thread& t : threads_) {
      NDS_CHECK(t.get_id() != std::this_thread::get_id(), "Stop called on a transport thread");
    }
    links.swap(links_);  // Send, QueuedBytes and Connected see no peer from here on
    threads.swap(threads_);
  }
  for (auto& [id, link] : links) link->Close();  // Enqueue fails at once on a racing Send
  acceptor_.Stop();
  work_.reset();
  ioc_.stop();
  for (std::thread& t : threads) t.join();
  // No io thread runs: close everything directly.
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
