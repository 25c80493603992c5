// A deadline for the operation in progress on one strand (a read, a write), over one Asio timer.
// Used for both deadlines of an HTTP connection (http_connection.h).
//
// Setting a deadline is cheap: the timer is armed only when nothing is pending or the new deadline
// comes earlier than the pending wait, so most operations cost no timer syscall. A wait that fires
// before the current deadline (the deadline moved later meanwhile) re-arms itself for it. Every
// wait carries a generation and acts only while it is still the current one, so a wait that was
// re-armed or cancelled meanwhile does nothing. When the deadline has passed, the owner's
// `on_expired` runs.
//
// Not thread-safe: every call, and `on_expired`, runs on the owner's strand.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace nds::net {

class DeadlineTimer {
 public:
  using Clock = std::chrono::steady_clock;

  // `executor` is the owner's strand. `on_expired` is called when a deadline set has passed and was
  // neither cleared nor cancelled meanwhile.
  DeadlineTimer(const boost::asio::any_io_executor& executor, std::function<void()> on_expired);

  // The operation in progress must be over by `deadline`. `owner` (an enable_shared_from_this
  // object that holds this timer) is kept alive by the pending wait.
  template <typename Owner>
  void Set(Clock::time_point deadline, Owner& owner) {
    deadline_ = deadline;
    if (!waiting_ || deadline < expiry_) Wait(deadline, owner.shared_from_this());
  }
  // No operation is in progress: a pending wait that fires finds nothing to do.
  void Clear() { deadline_ = Clock::time_point::max(); }
  // Clear, and cancel the pending wait (on close).
  void Cancel();

 private:
  void Wait(Clock::time_point expiry, std::shared_ptr<void> owner);
  void OnWait(uint64_t generation, boost::system::error_code ec, std::shared_ptr<void> owner);

  boost::asio::steady_timer timer_;
  const std::function<void()> on_expired_;
  Clock::time_point deadline_ = Clock::time_point::max();  // max() when none
  Clock::time_point expiry_;  // when the pending wait fires; valid while `waiting_`
  bool waiting_ = false;
  uint64_t generation_ = 0;  // of the latest wait armed
};

}  // namespace nds::net
