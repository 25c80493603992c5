// Goal: FreePort hands out distinct ports that are bindable and outside the ephemeral range;
// PortFree tells a port someone listens on from a free one.
// Method: real sockets on 127.0.0.1.
#include "net/loopback_port.h"

#include <fstream>
#include <set>
#include <unistd.h>

#include <gtest/gtest.h>

namespace nds::net {
namespace {

TEST(FreePort, HandsOutDistinctBindablePortsBelowTheEphemeralRange) {
  uint32_t ephemeral_low = 0;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
  std::set<uint16_t> seen;
  for (int i = 0; i < 200; ++i) {
    uint16_t port = FreePort();
    ASSERT_NE(port, 0);
    EXPECT_TRUE(seen.insert(port).second) << "port " << port << " handed out twice";
    EXPECT_TRUE(PortFree(port));
    if (ephemeral_low > 11000) {
      EXPECT_LT(port, ephemeral_low);
    }
  }
}

TEST(PortFree, IsFalseWhileSomethingListens) {
  uint16_t port = FreePort();
  int fd = ListenLoopback(port);
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(PortFree(port));
  close(fd);
  EXPECT_TRUE(PortFree(port));
}

}  // namespace
}  // namespace nds::net
