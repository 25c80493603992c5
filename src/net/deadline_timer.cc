// DeadlineTimer (deadline_timer.h).
#include "net/deadline_timer.h"

#include <utility>

namespace nds::net {

using boost::system::error_code;

DeadlineTimer::DeadlineTimer(const boost::asio::any_io_executor& executor,
                             std::function<void()> on_expired)
    : timer_(executor), on_expired_(std::move(on_expired)) {}

void DeadlineTimer::Cancel() {
  Clear();
  ++generation_;
  waiting_ = false;
  timer_.cancel();
}

void DeadlineTimer::Wait(Clock::time_point expiry, std::shared_ptr<void> owner) {
  waiting_ = true;
  expiry_ = expiry;
  const uint64_t generation = ++generation_;
  timer_.expires_at(expiry);
  timer_.async_wait([this, generation, owner = std::move(owner)](error_code ec) mutable {
    OnWait(generation, ec, std::move(owner));
  });
}

void DeadlineTimer::OnWait(uint64_t generation, error_code ec, std::shared_ptr<void> owner) {
  if (ec == boost::asio::error::operation_aborted || generation != generation_) return;
  waiting_ = false;
  if (deadline_ == Clock::time_point::max()) return;
  if (Clock::now() < deadline_) {
    Wait(deadline_, std::move(owner));  // the deadline moved later since this wait was armed
    return;
  }
  on_expired_();
}

}  // namespace nds::net
