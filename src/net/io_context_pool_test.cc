// Goal: an IoContextPool runs each context on its own thread, hands the contexts out in turn,
// and stops and joins idempotently, also when it never ran.
// Method: handlers posted to each context record the thread that ran them.
#include "net/io_context_pool.h"

#include <future>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

namespace nds::net {
namespace {

std::thread::id RunOn(boost::asio::io_context& context, const IoContextPool& pool,
                      bool* on_io_thread) {
  std::promise<std::thread::id> ran;
  boost::asio::post(context, [&] {
    *on_io_thread = pool.OnIoThread();
    ran.set_value(std::this_thread::get_id());
  });
  return ran.get_future().get();
}

TEST(IoContextPoolTest, EachContextInTurnRunsOnAThreadOfItsOwn) {
  IoContextPool pool(3, "test-io");
  pool.Run();
  std::vector<boost::asio::io_context*> handed(6);
  for (auto& context : handed) context = &pool.Next();
  EXPECT_EQ(handed[0], handed[3]);
  EXPECT_EQ(handed[1], handed[4]);
  EXPECT_NE(handed[0], handed[1]);
  EXPECT_NE(handed[1], handed[2]);
  EXPECT_NE(handed[0], handed[2]);
  std::set<std::thread::id> threads;
  for (int i = 0; i < 3; ++i) {
    bool on_io_thread = false;
    threads.insert(RunOn(*handed[i], pool, &on_io_thread));
    EXPECT_TRUE(on_io_thread);
  }
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_FALSE(threads.contains(std::this_thread::get_id()));
  EXPECT_FALSE(pool.OnIoThread());
  EXPECT_FALSE(pool.stopped());
  pool.Stop();
  EXPECT_TRUE(pool.stopped());
  pool.Stop();  // idempotent
}

TEST(IoContextPoolTest, TheFirstContextIsAlsoHandedOutToConnections) {
  IoContextPool pool(2, "test-io");
  boost::asio::io_context* first = &pool.first();
  EXPECT_EQ(&pool.Next(), first);
  EXPECT_NE(&pool.Next(), first);
  EXPECT_EQ(&pool.Next(), first);
  // Never run: Stop (and the destructor) must not hang.
  pool.Stop();
}

}  // namespace
}  // namespace nds::net
