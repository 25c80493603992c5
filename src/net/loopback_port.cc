// FreePort picks at random among the ports below the ephemeral range and remembers what it gave.
#include "net/loopback_port.h"

#include <fstream>
#include <mutex>
#include <random>
#include <unistd.h>
#include <unordered_set>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace nds::net {
namespace {

// Ports below this are often reserved by other services; above it, up to the ephemeral range,
// nothing on a typical host listens.
constexpr uint32_t kLowestPort = 10000;
constexpr int kAttempts = 1000;

// The first port of the kernel's ephemeral range; 32768 (Linux's default) when unreadable.
uint32_t EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  uint32_t low = 0;
  if (in >> low && low > 0 && low <= 65535) return low;
  return 32768;
}

// A port the kernel picks (inside the ephemeral range): the fallback when there is no room below.
uint16_t KernelPort() {
  int fd = ListenLoopback(0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) port = ntohs(a.sin_port);
  close(fd);
  return port;
}

}  // namespace

uint16_t FreePort() {
  static std::mutex mu;
  static std::unordered_set<uint16_t> given;
  static std::mt19937 random{std::random_device{}()};
  std::lock_guard lock(mu);
  const uint32_t high = EphemeralLow();  // exclusive
  if (high > kLowestPort + 1000) {
    std::uniform_int_distribution<uint32_t> pick(kLowestPort, high - 1);
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      auto port = static_cast<uint16_t>(pick(random));
      if (given.contains(port) || !PortFree(port)) continue;
      given.insert(port);
      return port;
    }
  }
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    uint16_t port = KernelPort();
    if (port == 0) return 0;
    if (given.insert(port).second) return port;
  }
  return 0;
}

int ListenLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 1) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool PortFree(uint16_t port) {
  int fd = ListenLoopback(port);
  if (fd < 0) return false;
  close(fd);
  return true;
}

}  // namespace nds::net
