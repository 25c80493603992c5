// The server-wide budget of request body bytes in flight (HttpServerOptions::
// upload_bytes_in_flight_max): bytes a connection has reserved for a body it is reading, or has
// read and not yet answered. A request whose Content-Length does not fit gets 503 with
// Retry-After before any of its body is read; a chunked body reserves as it grows. One upload is
// always admitted when nothing else is reserved, so a body up to body_bytes_max never waits for
// a budget smaller than it.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace nds::net {

// Thread-safe: every io thread reserves and releases.
class UploadBudget {
 public:
  UploadBudget() = default;
  explicit UploadBudget(uint64_t max_bytes) : max_bytes_(max_bytes) {}
  // Before any thread uses the budget.
  void set_max_bytes(uint64_t max_bytes) { max_bytes_ = max_bytes; }

  // Adds `bytes` when the sum stays within the budget, or when nothing is reserved at all.
  bool TryReserve(uint64_t bytes) {
    uint64_t now = in_flight_.load(std::memory_order_relaxed);
    for (;;) {
      if (now != 0 && (bytes > max_bytes_ || now > max_bytes_ - bytes)) return false;
      if (in_flight_.compare_exchange_weak(now, now + bytes, std::memory_order_relaxed)) {
        return true;
      }
    }
  }
  void Release(uint64_t bytes) { in_flight_.fetch_sub(bytes, std::memory_order_relaxed); }
  void CountRefusal() { refused_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  uint64_t max_bytes() const { return max_bytes_; }
  // Requests answered 503 because their body did not fit.
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  uint64_t max_bytes_ = 0;
  std::atomic<uint64_t> in_flight_{0};
  std::atomic<uint64_t> refused_{0};
};

// Bytes one request holds in an UploadBudget; released when reset or destroyed. Move-only.
class UploadReservation {
 public:
  UploadReservation() = default;
  explicit UploadReservation(UploadBudget* budget) : budget_(budget) {}
  UploadReservation(UploadReservation&& other) noexcept
      : budget_(std::exchange(other.budget_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  UploadReservation& operator=(UploadReservation&& other) noexcept {
    if (this != &other) {
      Reset();
      budget_ = std::exchange(other.budget_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  UploadReservation(const UploadReservation&) = delete;
  UploadReservation& operator=(const UploadReservation&) = delete;
  ~UploadReservation() { Reset(); }

  // Grows the reservation to `total` bytes (no-op when it holds that many already); false, with
  // the reservation unchanged, when the budget has no room.
  bool GrowTo(uint64_t total) {
    if (budget_ == nullptr || total <= bytes_) return true;
    if (!budget_->TryReserve(total - bytes_)) return false;
    bytes_ = total;
    return true;
  }
  void Reset() {
    if (budget_ != nullptr && bytes_ > 0) budget_->Release(bytes_);
    bytes_ = 0;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  UploadBudget* budget_ = nullptr;
  uint64_t bytes_ = 0;
};

}  // namespace nds::net
