#include "harness/run_bounded.h"

#include <array>
#include <cstdio>

#include <sys/wait.h>

namespace nds::test {

Output RunBounded(const std::string& command, int limit_seconds) {
  Output out;
  std::string full = "timeout -k 5 " + std::to_string(limit_seconds) + " " + command + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    if (out.text.size() < (1 << 20)) out.text.append(buf.data(), n);
  }
  int status = ::pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

bool HaveTool(const std::string& name) {
  return RunBounded("sh -c 'command -v " + name + "' >/dev/null", 10).exit_code == 0;
}

}  // namespace nds::test
