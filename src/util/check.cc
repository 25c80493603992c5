// The one place a failed NDS_CHECK ends the process.
#include "util/check.h"

#include <cstdio>
#include <cstdlib>

namespace nds::internal {

void CheckFailed(const char* file, int line, const char* expr, std::string_view msg) {
  std::fprintf(stderr, "%s:%d: check failed: %s%s%.*s\n", file, line, expr, msg.empty() ? "" : ": ",
               static_cast<int>(msg.size()), msg.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace nds::internal
