// Running `nds` commands from process tests, through RunBounded (bounded in time).
#include "harness/run_nds.h"

#include "harness/run_bounded.h"

namespace nds::test {

CommandResult RunNds(const std::string& args) {
  Output out = RunBounded(std::string(NDS_BINARY) + " " + args, 300);
  return CommandResult{out.exit_code, std::move(out.text)};
}

}  // namespace nds::test
