// NdsProcess over launcher::NodeProcess.
#include "harness/nds_process.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <signal.h>
#include <stdlib.h>
#include <utility>

#include <gtest/gtest.h>

#include "util/thread_annotations.h"

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

// The directories MakeTempDir made in this process, removed at exit when every test passed.
Mutex temp_dirs_mu;
// Leaked: atexit handlers may still read it.
std::vector<std::string>* temp_dirs NDS_GUARDED_BY(temp_dirs_mu) = nullptr;

void RemoveTempDirs() {
  MutexLock lock(temp_dirs_mu);
  if (temp_dirs == nullptr || temp_dirs->empty()) return;
  const bool keep =
      std::getenv("NDS_KEEP_TEST_DIRS") != nullptr || !::testing::UnitTest::GetInstance()->Passed();
  if (keep) {
    std::fprintf(stderr, "kept %zu test directories under %s (nds-*)\n", temp_dirs->size(),
                 std::filesystem::path(temp_dirs->front()).parent_path().c_str());
    return;
  }
  for (const std::string& dir : *temp_dirs) {
    std::error_code ec;  // a directory already gone, or busy, is left as it is
    std::filesystem::remove_all(dir, ec);
    std::filesystem::remove(dir + ".log", ec);
  }
}

}  // namespace

std::string MakeTempDir(const std::string& tag) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/nds-" + tag + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return std::string();
  MutexLock lock(temp_dirs_mu);
  if (temp_dirs == nullptr) {
    temp_dirs = new std::vector<std::string>();
    std::atexit(RemoveTempDirs);
  }
  temp_dirs->push_back(tmpl);
  return tmpl;
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
