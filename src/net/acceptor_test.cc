// Goal: the acceptor shared by the HTTP, peer and RESP servers listens where asked, reports bad
// addresses and taken ports as the right errors, hands each accepted socket over with TCP_NODELAY
// set, and hands none over once stopped.
// Method: a real Acceptor on 127.0.0.1 with one io thread, and blocking client sockets; the retry
// after a failed accept in a child process that has used up its file descriptors.
#include "net/acceptor.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fcntl.h>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

namespace nds::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

constexpr std::chrono::seconds kWaitMax{10};

// An io_context run by one thread, and acceptors on it that outlive that thread (as in a server).
// A test's state reached from a callback is declared before the acceptor is stopped and is not
// left early (no ASSERT) between Start and Stop.
class AcceptorTest : public ::testing::Test {
 protected:
  ~AcceptorTest() override {
    work_.reset();
    ioc_.stop();
    thread_.join();
  }

  // Connects a blocking client to 127.0.0.1:port; the error of the connect.
  error_code Connect(uint16_t port, tcp::socket& client) {
    error_code ec;
    client.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    return ec;
  }

  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      asio::make_work_guard(ioc_)};
  std::thread thread_{[this] { ioc_.run(); }};
  asio::io_context client_ioc_;
  Acceptor acceptor_{ioc_, "test"};
  Acceptor second_{ioc_, "test"};
};

TEST_F(AcceptorTest, HandsEachAcceptedSocketOverWithNoDelay) {
  ASSERT_TRUE(acceptor_.Listen("127.0.0.1", 0, 16).ok());
  ASSERT_NE(acceptor_.port(), 0);
  std::promise<bool> no_delay;
  acceptor_.Start([&](tcp::socket socket) {
    tcp::no_delay option;
    error_code ec;
    socket.get_option(option, ec);
    no_delay.set_value(!ec && option.value());
  });
  tcp::socket client(client_ioc_);
  EXPECT_FALSE(Connect(acceptor_.port(), client));
  auto accepted = no_delay.get_future();
  const bool ready = accepted.wait_for(kWaitMax) == std::future_status::ready;
  acceptor_.Stop();
  ASSERT_TRUE(ready);
  EXPECT_TRUE(accepted.get());
}

TEST_F(AcceptorTest, AcceptsOneConnectionAfterAnother) {
  ASSERT_TRUE(acceptor_.Listen("127.0.0.1", 0, 16).ok());
  constexpr int kConnections = 5;
  std::promise<void> all_accepted;
  int accepted = 0;  // the acceptor's strand only
  std::vector<tcp::socket> kept;
  acceptor_.Start([&](tcp::socket socket) {
    kept.push_back(std::move(socket));
    if (++accepted == kConnections) all_accepted.set_value();
  });
  std::vector<tcp::socket> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.emplace_back(client_ioc_);
    EXPECT_FALSE(Connect(acceptor_.port(), clients.back()));
  }
  EXPECT_EQ(all_accepted.get_future().wait_for(kWaitMax), std::future_status::ready);
  acceptor_.Stop();
}

TEST_F(AcceptorTest, AfterStopNothingListensAndNothingIsHandedOver) {
  ASSERT_TRUE(acceptor_.Listen("127.0.0.1", 0, 16).ok());
  std::atomic<int> accepted{0};
  acceptor_.Start([&](tcp::socket) { ++accepted; });
  acceptor_.Stop();
  acceptor_.Stop();  // idempotent
  tcp::socket client(client_ioc_);
  EXPECT_EQ(Connect(acceptor_.port(), client), asio::error::connection_refused);
  EXPECT_EQ(accepted, 0);
}

TEST_F(AcceptorTest, StopWithoutStartClosesTheSocket) {
  ASSERT_TRUE(acceptor_.Listen("127.0.0.1", 0, 16).ok());
  acceptor_.Stop();
  tcp::socket client(client_ioc_);
  EXPECT_EQ(Connect(acceptor_.port(), client), asio::error::connection_refused);
}

TEST_F(AcceptorTest, AnAddressThatDoesNotParseIsInvalidArgument) {
  const Status status = acceptor_.Listen("not-an-address", 0, 16);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find("bad test listen address 'not-an-address'"), std::string::npos)
      << status.ToString();
}

TEST_F(AcceptorTest, AnAddressNotOnThisHostIsInvalidArgument) {
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never a local address.
  const Status status = acceptor_.Listen("192.0.2.1", 0, 16);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
}

TEST_F(AcceptorTest, ATakenPortIsUnavailable) {
  ASSERT_TRUE(acceptor_.Listen("127.0.0.1", 0, 16).ok());
  const Status status = second_.Listen("127.0.0.1", acceptor_.port(), 16);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find("cannot bind 127.0.0.1:"), std::string::npos)
      << status.ToString();
}

// Counts the warnings logged, and lets a thread wait for the first.
class WarningSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  bool WaitFirst() {
    std::unique_lock<std::mutex> lock(wait_mu_);
    return cv_.wait_for(lock, kWaitMax, [&] { return warnings_ > 0; });
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level != spdlog::level::warn) return;
    {
      std::lock_guard<std::mutex> lock(wait_mu_);
      ++warnings_;
    }
    cv_.notify_all();
  }
  void flush_() override {}

 private:
  std::mutex wait_mu_;
  std::condition_variable cv_;
  int warnings_ = 0;
};

// In a child process: uses up every file descriptor, so that accepting a waiting connection fails
// (EMFILE); once the failure is logged, frees one. Exits 0 when the connection is then handed
// over (the accept was retried), 1 when it is not within kWaitMax, 2 when the setup failed.
[[noreturn]] void AcceptAfterRunningOutOfDescriptors() {
  auto sink = std::make_shared<WarningSink>();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  asio::io_context ioc;
  auto work = asio::make_work_guard(ioc);
  Acceptor acceptor(ioc, "test");
  if (!acceptor.Listen("127.0.0.1", 0, 16).ok()) _exit(2);
  std::promise<void> accepted;
  acceptor.Start([&](tcp::socket) { accepted.set_value(); });
  asio::io_context client_ioc;
  tcp::socket client(client_ioc);
  error_code ec;
  client.open(tcp::v4(), ec);
  // Started before the descriptors run out: the sanitizers' runtime needs free descriptors (UBSan's
  // vptr check opens a pipe), and a thread made afterwards fails that check.
  std::thread io([&] { ioc.run(); });
  rlimit limit{};
  if (ec || getrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(2);
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_cur, 512);
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(2);
  std::vector<int> fillers;
  for (int fd = ::open("/dev/null", O_RDONLY); fd >= 0; fd = ::open("/dev/null", O_RDONLY)) {
    fillers.push_back(fd);
  }
  if (fillers.empty()) _exit(2);
  client.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), acceptor.port()), ec);
  const bool failed = !ec && sink->WaitFirst();  // "accept failed: Too many open files"
  ::close(fillers.back());
  const bool handed_over =
      failed && accepted.get_future().wait_for(kWaitMax) == std::future_status::ready;
  _exit(handed_over ? 0 : 1);
}

TEST(AcceptorDeathTest, AFailedAcceptIsRetriedOnceADescriptorIsFree) {
#ifdef NDS_SANITIZED
  // UBSan's vptr check tests memory through a pipe: with every descriptor taken it reports a
  // false "invalid vptr" in whichever thread meets a new type first. The release build runs it.
  GTEST_SKIP() << "needs free file descriptors for the sanitizers' runtime";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(AcceptAfterRunningOutOfDescriptors(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace nds::net
