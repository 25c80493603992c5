// Goal: a DeadlineTimer calls its owner back once the latest deadline set has passed, never for a
// deadline cleared or cancelled, re-arms for a deadline moved earlier or later, and keeps its
// owner alive only while a wait is pending.
// Method: an io_context run on the test's thread until it has no work left (so every wait has
// completed when run() returns), with deadlines tens of milliseconds away.
#include "net/deadline_timer.h"

#include <chrono>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <gtest/gtest.h>

namespace nds::net {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Owner : std::enable_shared_from_this<Owner> {
  explicit Owner(asio::io_context& ioc)
      : timer(asio::make_strand(ioc), [this] {
          ++expired;
          expired_at = Clock::now();
        }) {}
  DeadlineTimer timer;
  int expired = 0;
  Clock::time_point expired_at;
};

class DeadlineTimerTest : public ::testing::Test {
 protected:
  asio::io_context ioc_;
  std::shared_ptr<Owner> owner_ = std::make_shared<Owner>(ioc_);
};

TEST_F(DeadlineTimerTest, CallsBackOnceTheDeadlineHasPassed) {
  const Clock::time_point deadline = Clock::now() + milliseconds(20);
  owner_->timer.Set(deadline, *owner_);
  ioc_.run();
  EXPECT_EQ(owner_->expired, 1);
  EXPECT_GE(owner_->expired_at, deadline);
}

TEST_F(DeadlineTimerTest, ADeadlineMovedLaterIsWaitedFor) {
  owner_->timer.Set(Clock::now() + milliseconds(10), *owner_);
  const Clock::time_point later = Clock::now() + milliseconds(60);
  owner_->timer.Set(later, *owner_);
  ioc_.run();
  EXPECT_EQ(owner_->expired, 1);
  EXPECT_GE(owner_->expired_at, later);
}

TEST_F(DeadlineTimerTest, ADeadlineMovedEarlierReArmsTheTimer) {
  const Clock::time_point far = Clock::now() + std::chrono::seconds(30);
  owner_->timer.Set(far, *owner_);
  const Clock::time_point near = Clock::now() + milliseconds(20);
  owner_->timer.Set(near, *owner_);
  ioc_.run();  // returns once the near wait fired: the far one was replaced
  EXPECT_EQ(owner_->expired, 1);
  EXPECT_GE(owner_->expired_at, near);
  EXPECT_LT(owner_->expired_at, far);
}

TEST_F(DeadlineTimerTest, AClearedDeadlineDoesNotCallBack) {
  owner_->timer.Set(Clock::now() + milliseconds(20), *owner_);
  owner_->timer.Clear();
  ioc_.run();  // the pending wait fires and finds no deadline
  EXPECT_EQ(owner_->expired, 0);
}

TEST_F(DeadlineTimerTest, CancelDropsThePendingWaitAndReleasesTheOwner) {
  owner_->timer.Set(Clock::now() + std::chrono::seconds(30), *owner_);
  EXPECT_EQ(owner_.use_count(), 2);  // the pending wait holds the owner
  owner_->timer.Cancel();
  ioc_.run();  // the cancelled wait completes at once
  EXPECT_EQ(owner_->expired, 0);
  EXPECT_EQ(owner_.use_count(), 1);
}

TEST_F(DeadlineTimerTest, TheOwnerMaySetANewDeadlineFromTheCallback) {
  int rounds = 0;
  // Re-arms twice from inside the callback, as an idle wait that is extended.
  struct Extending : std::enable_shared_from_this<Extending> {
    explicit Extending(asio::io_context& ioc, int* rounds)
        : timer(asio::make_strand(ioc), [this, rounds] {
            if (++*rounds < 3) timer.Set(Clock::now() + milliseconds(5), *this);
          }) {}
    DeadlineTimer timer;
  };
  auto extending = std::make_shared<Extending>(ioc_, &rounds);
  extending->timer.Set(Clock::now() + milliseconds(5), *extending);
  std::weak_ptr<Extending> weak = extending;
  extending.reset();
  EXPECT_FALSE(weak.expired());  // kept alive by its pending wait
  ioc_.run();
  EXPECT_EQ(rounds, 3);
  EXPECT_TRUE(weak.expired());  // released with the last wait
}

}  // namespace
}  // namespace nds::net
