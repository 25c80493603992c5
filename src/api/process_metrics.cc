// process_* metrics from /proc/self/stat, /proc/self/fd and getrlimit (see process_metrics.h).
#include "api/process_metrics.h"

#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <string_view>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <sys/resource.h>

#include "util/memory_trimmer.h"

namespace nds::api {
namespace {

// The fields of /proc/self/stat after the command name, from field 3 (state) on; empty when it
// cannot be read. The name is in parentheses and may hold spaces: the fields start after the
// last ')'.
std::vector<std::string> StatFields() {
  std::FILE* f = std::fopen("/proc/self/stat", "re");
  if (f == nullptr) return {};
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string_view text(buf, n);
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos) return {};
  text.remove_prefix(close + 1);
  std::vector<std::string> fields;
  size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) fields.emplace_back(text.substr(pos, end - pos));
    pos = end;
  }
  return fields;
}

int64_t OpenFds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int64_t n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the directory's own descriptor
}

void Family(std::string* out, std::string_view name, std::string_view type, std::string_view help,
            double value) {
  *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}

}  // namespace

void AppendProcessMetrics(std::string* out) {
  const std::vector<std::string> f = StatFields();
  // Field numbers of proc(5) minus 3: utime 14, stime 15, starttime 22, vsize 23, rss 24.
  if (f.size() > 21) {
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    const double utime = std::strtod(f[11].c_str(), nullptr);
    const double stime = std::strtod(f[12].c_str(), nullptr);
    Family(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent, seconds.",
           (utime + stime) / ticks);
    Family(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size, bytes.",
           std::strtod(f[20].c_str(), nullptr));
    Family(out, "process_resident_memory_bytes", "gauge", "Resident memory size, bytes.",
           std::strtod(f[21].c_str(), nullptr) * page);
  }
  if (const int64_t fds = OpenFds(); fds >= 0) {
    Family(out, "process_open_fds", "gauge", "Open file descriptors.", static_cast<double>(fds));
  }
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    Family(out, "process_max_fds", "gauge", "Limit on open file descriptors.",
           static_cast<double>(rl.rlim_cur));
  }
  Family(out, "nds_memory_trims_total", "counter",
         "Times the node gave freed heap memory back to the kernel after a burst of big values.",
         static_cast<double>(MemoryTrimsTotal()));
}

}  // namespace nds::api
