// NdsProcess over launcher::NodeProcess.
#include "harness/nds_process.h"

#include <cstdlib>
#include <signal.h>
#include <stdlib.h>
#include <utility>

namespace nds::test {
namespace {

launcher::NodeSpec SpecFor(std::string data_dir, std::vector<std::string> extra_args) {
  launcher::NodeSpec spec;
  spec.binary = NDS_BINARY;
  spec.name = "node1";
  spec.data_dir = std::move(data_dir);
  spec.extra_args = std::move(extra_args);
  return spec;
}

}  // namespace

std::string MakeTempDir(const std::string& tag) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/nds-" + tag + "-XXXXXX";
  return mkdtemp(tmpl.data()) ? tmpl : std::string();
}

NdsProcess::NdsProcess(std::string data_dir, std::vector<std::string> extra_args)
    : process_(SpecFor(std::move(data_dir), std::move(extra_args))) {}

bool NdsProcess::Start(std::chrono::milliseconds timeout) {
  Status s = process_.Start(timeout);
  error = s.ok() ? std::string() : s.message() + "\n" + LogTail();
  return s.ok();
}

int NdsProcess::Stop(int sig, std::chrono::milliseconds timeout) {
  Result<int> stopped = process_.Stop(sig, timeout);
  if (stopped.ok()) return *stopped;
  if (stopped.status().code() == StatusCode::kTimeout) {
    IgnoreError(process_.Stop(SIGKILL).status(), "the test already sees -1");
  }
  return -1;
}

}  // namespace nds::test
