// Goal: NameThisThread names the calling thread as the kernel shows it (/proc/self/task/TID/comm,
// what top -H and perf print), cuts a name longer than the kernel keeps, and names no other
// thread.
// Method: threads of the test name themselves and read their comm back.
#include "util/thread_name.h"

#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sys/syscall.h>

namespace nds {
namespace {

std::string CommOf(long tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

std::string MyComm() { return CommOf(syscall(SYS_gettid)); }

TEST(ThreadName, NamesTheCallingThreadOnly) {
  const std::string main_before = MyComm();
  std::string seen;
  std::thread t([&] {
    NameThisThread("nds-test");
    seen = MyComm();
  });
  t.join();
  EXPECT_EQ(seen, "nds-test");
  EXPECT_EQ(MyComm(), main_before) << "named another thread than the caller";
}

TEST(ThreadName, ALongNameIsCutToWhatTheKernelKeeps) {
  std::string seen;
  std::thread t([&] {
    NameThisThread("nds-a-name-far-too-long-for-the-kernel");
    seen = MyComm();
  });
  t.join();
  EXPECT_EQ(seen, std::string("nds-a-name-far-too-long-for-the-kernel").substr(0, 15));
  EXPECT_EQ(seen.size(), kThreadNameBytesMax);
}

}  // namespace
}  // namespace nds
