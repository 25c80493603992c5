// OffLoopRunner (off_loop_runner.h): one call of the work per Schedule, on the chosen thread.
#include "node/off_loop_runner.h"

#include <utility>

#include "util/thread_name.h"

namespace nds::node {

OffLoopRunner::OffLoopRunner(std::string thread_name, std::function<void(Work)> hook, bool threaded,
                             Work run_one)
    : hook_(std::move(hook)), run_one_(std::move(run_one)), own_thread_(!hook_ && threaded) {
  if (!own_thread_) return;
  thread_ = std::thread([this, name = std::move(thread_name)] {
    NameThisThread(name);
    for (;;) {
      {
        MutexLock lock(mu_);
        while (!stopped_ && pending_ == 0) lock.Wait(wake_);
        if (stopped_) return;
        --pending_;
      }
      run_one_();
    }
  });
}

OffLoopRunner::~OffLoopRunner() { Stop(); }

void OffLoopRunner::Schedule() {
  if (hook_) {
    hook_(run_one_);
  } else if (own_thread_) {
    {
      MutexLock lock(mu_);
      if (stopped_) return;
      ++pending_;
    }
    wake_.notify_one();
  } else {
    run_one_();
  }
}

void OffLoopRunner::Stop() {
  {
    MutexLock lock(mu_);
    stopped_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace nds::node
