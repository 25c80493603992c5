// Running `nds` commands from process tests.
#include "harness/run_nds.h"

#include <stdio.h>

#include <sys/wait.h>

namespace nds::test {

CommandResult RunNds(const std::string& args) {
  CommandResult result;
  const std::string command = std::string(NDS_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0 && result.output.size() < (4 << 20)) {
    result.output.append(buf, n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace nds::test
