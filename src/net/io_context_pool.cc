// IoContextPool (io_context_pool.h).
#include "net/io_context_pool.h"

#include "util/check.h"
#include "util/thread_name.h"

namespace nds::net {

IoContextPool::IoContextPool(size_t threads, std::string thread_name)
    : thread_name_(std::move(thread_name)) {
  NDS_CHECK(threads >= 1);
  for (size_t i = 0; i < threads; ++i) {
    // A hint of 1: this context is run by one thread only, which lets asio skip waking another
    // thread for each handler posted (it still locks, as other threads post answers into it).
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    work_.emplace_back(boost::asio::make_work_guard(*contexts_.back()));
  }
}

IoContextPool::~IoContextPool() { Stop(); }

boost::asio::io_context& IoContextPool::Next() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void IoContextPool::Run() {
  NDS_CHECK(threads_.empty());
  for (auto& context : contexts_) {
    threads_.emplace_back([c = context.get(), name = thread_name_] {
      NameThisThread(name);
      c->run();
    });
  }
}

bool IoContextPool::OnIoThread() const {
  for (const std::thread& t : threads_) {
    if (t.get_id() == std::this_thread::get_id()) return true;
  }
  return false;
}

void IoContextPool::Stop() {
  NDS_CHECK(!OnIoThread(), "an io thread stops its own pool");
  for (auto& w : work_) w.reset();
  for (auto& context : contexts_) context->stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

}  // namespace nds::net
