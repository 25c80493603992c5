// The API addresses that `nds check` spreads its requests over. A membership fault changes them
// while clients run, so every reader takes a copy.
//
// Thread-safe.
#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "util/thread_annotations.h"

namespace nds::check {

class Targets {
 public:
  explicit Targets(std::vector<std::string> addresses) : addresses_(std::move(addresses)) {}

  std::vector<std::string> Get() const {
    MutexLock lock(mu_);
    return addresses_;
  }
  void Add(const std::string& address) {
    MutexLock lock(mu_);
    if (std::find(addresses_.begin(), addresses_.end(), address) == addresses_.end()) {
      addresses_.push_back(address);
    }
  }
  void Remove(const std::string& address) {
    MutexLock lock(mu_);
    addresses_.erase(std::remove(addresses_.begin(), addresses_.end(), address), addresses_.end());
  }

 private:
  mutable Mutex mu_;
  std::vector<std::string> addresses_ NDS_GUARDED_BY(mu_);
};

}  // namespace nds::check
