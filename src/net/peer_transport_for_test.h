// For the peer transport's unit tests (peer_transport_test.cc, peer_handshake_test.cc): a receiver
// that records hellos and frames, a raw client that writes exact bytes, transport options for
// 127.0.0.1 with fast redials, one bounded wait (kWaitBound), and two fixtures: one transport
// that raw clients dial, and two transports that dial each other. Test code only: nothing in the
// binaries includes it.
#pragma once

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "net/peer_transport.h"
#include "net/raw_peer_client.h"

namespace nds::net {

inline constexpr auto kWaitBound = std::chrono::seconds(30);

// Polls `done` until it holds or kWaitBound passes; returns whether it held. For transport state
// that has no notification (Connected, QueuedBytes).
inline bool Eventually(const std::function<bool()>& done) {
  const std::chrono::steady_clock::time_point deadline =
      std::chrono::steady_clock::now() + kWaitBound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Records hellos and frames. Accepts a hello "node:<id>" (unless told to reject all); rejects
// anything else.
class TestReceiver : public PeerReceiver {
 public:
  struct Frame {
    uint64_t from;
    std::string bytes;
  };

  Result<uint64_t> OnHello(std::string_view hello) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++hellos_;
    cv_.notify_all();
    if (reject_all_) return Unavailable("this receiver rejects every hello");
    uint64_t id = 0;
    if (!hello.starts_with("node:")) return InvalidArgument("not a node hello");
    const char* end = hello.data() + hello.size();
    auto [ptr, ec] = std::from_chars(hello.data() + 5, end, id);
    if (ec != std::errc() || ptr != end) return InvalidArgument("bad node id");
    return id;
  }

  void OnFrame(uint64_t from, std::string frame) override {
    std::lock_guard<std::mutex> lock(mu_);
    frames_.push_back({from, std::move(frame)});
    cv_.notify_all();
  }

  void set_reject_all(bool reject) {
    std::lock_guard<std::mutex> lock(mu_);
    reject_all_ = reject;
  }
  // Waits until at least `count` frames arrived; returns whether they did within kWaitBound.
  bool WaitFrames(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWaitBound, [&] { return frames_.size() >= count; });
  }
  bool WaitHellos(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWaitBound, [&] { return hellos_ >= count; });
  }
  std::vector<Frame> frames() const {
    std::lock_guard<std::mutex> lock(mu_);
    return frames_;
  }
  size_t frame_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return frames_.size();
  }
  size_t hellos() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hellos_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool reject_all_ = false;
  size_t hellos_ = 0;
  std::vector<Frame> frames_;
};

// The secret the test transports share.
inline const std::string kTestSecret(32, 'k');

// A blocking POSIX TCP client that writes exact bytes, runs the handshake as a dialer would, and
// watches for the server to close.
class RawClient {
 public:
  explicit RawClient(uint16_t port) { connected_ = peer_.Connect(port); }

  bool connected() const { return connected_; }
  bool Send(std::string_view bytes) { return peer_.Send(bytes); }
  // The handshake with `hello` and `secret`; true when the acceptor proved it holds `secret`.
  bool Hello(std::string_view hello, std::string_view secret = kTestSecret) {
    return peer_.RunHandshake(secret, hello) == RawPeerClient::Handshake::kAcceptorProven;
  }
  // Waits (bounded) until the server closes the connection; returns whether it did.
  bool WaitClosed() { return peer_.ClosedByPeer(kWaitBound); }
  RawPeerClient& peer() { return peer_; }

 private:
  RawPeerClient peer_;
  bool connected_ = false;
};

inline PeerTransportOptions TestOptions(uint64_t id) {
  PeerTransportOptions options;
  options.listen_address = "127.0.0.1";
  options.listen_port = 0;
  options.threads = 2;
  options.backoff_min = std::chrono::milliseconds(5);
  options.backoff_max = std::chrono::milliseconds(50);
  options.hello = fmt::format("node:{}", id);
  options.secret = kTestSecret;
  return options;
}

inline std::unique_ptr<PeerTransport> MustStart(const PeerTransportOptions& options,
                                                PeerReceiver* receiver) {
  auto started = PeerTransport::Start(options, receiver);
  EXPECT_TRUE(started.ok()) << started.status().ToString();
  return started.ok() ? std::move(started).value() : nullptr;
}

inline std::string Address(uint16_t port) { return fmt::format("127.0.0.1:{}", port); }

// Frame i: its number then a filler of varying length, so frame boundaries move around reads.
inline std::string NumberedFrame(size_t i) {
  return fmt::format("{}|{}", i, std::string(i % 300, 'x'));
}

// One transport under test (node 2 unless told otherwise) that a test's raw clients dial, with its
// receiver; stopped at the end of the test.
class PeerServerFixture : public ::testing::Test {
 protected:
  // Starts the transport; false (and a failure recorded) when it did not start.
  bool StartServer(const PeerTransportOptions& options = TestOptions(2)) {
    server_ = MustStart(options, &receiver_);
    return server_ != nullptr;
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  TestReceiver receiver_;  // declared first: outlives the transport
  std::unique_ptr<PeerTransport> server_;
};

// Transports a (node 1) and b (node 2) with their receivers; a dials b once started. Both are
// stopped at the end of the test.
class PeerPairFixture : public ::testing::Test {
 protected:
  // Starts both transports and points a at b; false (and a failure recorded) when either did not
  // start.
  bool StartPair(const PeerTransportOptions& options_a = TestOptions(1),
                 const PeerTransportOptions& options_b = TestOptions(2)) {
    a_ = MustStart(options_a, &receiver_a_);
    b_ = MustStart(options_b, &receiver_b_);
    if (a_ == nullptr || b_ == nullptr) return false;
    a_->SetPeer(2, Address(b_->port()));
    return true;
  }
  void TearDown() override {
    if (a_) a_->Stop();
    if (b_) b_->Stop();
  }

  TestReceiver receiver_a_;  // declared first: outlive the transports
  TestReceiver receiver_b_;
  std::unique_ptr<PeerTransport> a_;
  std::unique_ptr<PeerTransport> b_;
};

}  // namespace nds::net
