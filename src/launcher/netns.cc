// NetnsNetwork: `ip` commands for the namespaces, veths, bridge and cuts; a /bin/sh reaper for
// the cleanup (see netns.h).
#include "launcher/netns.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sched.h>
#include <signal.h>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <utility>

#include "launcher/child_process.h"
#include "util/check.h"

namespace nds::launcher {
namespace {

constexpr auto kCommandTimeout = std::chrono::seconds(10);
constexpr auto kReaperTimeout = std::chrono::seconds(20);
// 198.18.0.0/15 holds 512 subnets of /24.
constexpr int kSubnets = 512;

std::string FindIpTool() {
  for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return {};
}

// Subnet `index` of 198.18.0.0/15 as "198.1x.y" (index 256 is 198.19.0).
std::string SubnetPrefix(int index) {
  return (index < 256 ? "198.18." : "198.19.") + std::to_string(index % 256);
}

// The IPv4 addresses of every interface (`ip -4 -o addr show`), as text; empty when unknown.
std::string AddressesInUse(const std::string& ip_tool) {
  std::string out;
  FILE* f = ::popen((ip_tool + " -4 -o addr show 2>/dev/null").c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && out.size() < (1u << 20)) out.append(buf, n);
  ::pclose(f);
  return out;
}

// The reaper's script: wait for the pipe on stdin to close, then remove everything named after
// the tag: kill the processes left in its namespaces, delete them, the veths and the bridge.
constexpr std::string_view kReaperScript = R"(trap '' INT TERM HUP
while read -r _; do :; done
for ns in $(@IP@ netns list | sed -n 's/^\(@TAG@n[0-9]*\).*/\1/p'); do
  for p in $(@IP@ netns pids "$ns"); do kill -9 "$p"; done
  @IP@ netns del "$ns"
done
for l in $(@IP@ -o link show | sed -n 's/^[0-9]*: \(@TAG@o[0-9]*\)@.*/\1/p'); do
  @IP@ link del "$l"
done
@IP@ link del @TAG@br 2>/dev/null
exit 0
)";

std::string ReaperScript(const std::string& ip, const std::string& tag) {
  std::string script(kReaperScript);
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"@IP@", ip}, {"@TAG@", tag}}) {
    for (size_t at = script.find(from); at != std::string::npos; at = script.find(from, at)) {
      script.replace(at, from.size(), to);
      at += to.size();
    }
  }
  return script;
}

}  // namespace

Result<std::unique_ptr<NetnsNetwork>> NetnsNetwork::Create(const std::string& log_path) {
  if (::geteuid() != 0) {
    return FailedPrecondition("network namespaces need root (this process runs as uid " +
                              std::to_string(::geteuid()) + ")");
  }
  std::unique_ptr<NetnsNetwork> net(new NetnsNetwork());
  net->ip_tool_ = FindIpTool();
  if (net->ip_tool_.empty()) {
    return FailedPrecondition("network namespaces need the `ip` tool (iproute2), not found");
  }
  net->log_path_ = log_path;
  net->pid_ = ::getpid();
  std::string in_use = AddressesInUse(net->ip_tool_);
  for (int k = 0; k < kSubnets && net->subnet_.empty(); ++k) {
    int index = (static_cast<int>(net->pid_) + k) % kSubnets;
    std::string prefix = SubnetPrefix(index);
    if (in_use.find(" " + prefix + ".") == std::string::npos) net->subnet_ = prefix;
  }
  if (net->subnet_.empty()) return Unavailable("no free /24 subnet in 198.18.0.0/15");

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Unavailable(std::string("cannot make the reaper's pipe: ") + std::strerror(errno));
  }
  Result<pid_t> reaper =
      SpawnLogged({"/bin/sh", "-c", ReaperScript(net->ip_tool_, net->Tag())}, log_path, fds[0]);
  ::close(fds[0]);
  if (!reaper.ok()) {
    ::close(fds[1]);
    return reaper.status();
  }
  net->reaper_fd_ = fds[1];
  net->reaper_pid_ = *reaper;

  std::string br = net->Tag() + "br";
  Status made = net->RunIp({"link", "add", br, "type", "bridge"});
  if (!made.ok()) {
    return FailedPrecondition("cannot make a network bridge (needs CAP_NET_ADMIN): " +
                              made.message());
  }
  NDS_RETURN_IF_ERROR(net->RunIp({"addr", "add", net->subnet_ + ".254/24", "dev", br}));
  NDS_RETURN_IF_ERROR(net->RunIp({"link", "set", br, "up"}));
  return net;
}

NetnsNetwork::~NetnsNetwork() {
  if (reaper_fd_ >= 0) ::close(reaper_fd_);
  if (reaper_pid_ > 0 && !WaitExit(reaper_pid_, kReaperTimeout)) {
    ::kill(reaper_pid_, SIGKILL);
    WaitExit(reaper_pid_, kCommandTimeout);
  }
}

std::string NetnsNetwork::Tag() const { return "nds" + std::to_string(pid_); }

std::string NetnsNetwork::Ns(size_t i) const { return Tag() + "n" + std::to_string(i); }

std::string NetnsNetwork::Ip(size_t i) const { return subnet_ + "." + std::to_string(i + 1); }

std::vector<std::string> NetnsNetwork::ExecPrefix(size_t i) const {
  return {ip_tool_, "netns", "exec", Ns(i)};
}

Status NetnsNetwork::RunIp(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {ip_tool_};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string line;
  for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
  {
    std::ofstream log(log_path_, std::ios::app);
    log << "+ " << line << "\n";
  }
  NDS_ASSIGN_OR_RETURN(pid_t pid, SpawnLogged(argv, log_path_));
  std::optional<int> status = WaitExit(pid, kCommandTimeout);
  if (!status) {
    ::kill(pid, SIGKILL);
    WaitExit(pid, kCommandTimeout);
    return Timeout("`" + line + "` did not finish within 10 s");
  }
  if (*status != 0) {
    return Unavailable("`" + line + "` failed (exit " + std::to_string(*status) +
                       "): " + LastLine(FileTail(log_path_, 1024)));
  }
  return Status::Ok();
}

Status NetnsNetwork::AddNode(size_t i) {
  NDS_CHECK(i < kNetnsNodesMax);
  if (nodes_.contains(i)) return Status::Ok();
  std::string ns = Ns(i), out = Tag() + "o" + std::to_string(i),
              in = Tag() + "i" + std::to_string(i);
  NDS_RETURN_IF_ERROR(RunIp({"netns", "add", ns}));
  nodes_.insert(i);  // the reaper removes it from now on, whatever fails below
  NDS_RETURN_IF_ERROR(RunIp({"link", "add", out, "type", "veth", "peer", "name", in}));
  NDS_RETURN_IF_ERROR(RunIp({"link", "set", in, "netns", ns}));
  NDS_RETURN_IF_ERROR(RunIp({"link", "set", out, "master", Tag() + "br"}));
  NDS_RETURN_IF_ERROR(RunIp({"link", "set", out, "up"}));
  NDS_RETURN_IF_ERROR(RunIp({"-n", ns, "addr", "add", Ip(i) + "/24", "dev", in}));
  NDS_RETURN_IF_ERROR(RunIp({"-n", ns, "link", "set", in, "up"}));
  return RunIp({"-n", ns, "link", "set", "lo", "up"});
}

Status NetnsNetwork::Block(size_t from, size_t to) {
  if (from == to || blocked_.contains({from, to})) return Status::Ok();
  NDS_RETURN_IF_ERROR(RunIp({"-n", Ns(from), "route", "add", "blackhole", Ip(to) + "/32"}));
  blocked_.insert({from, to});
  return Status::Ok();
}

Status NetnsNetwork::Isolate(size_t i) {
  for (size_t j : nodes_) {
    if (j == i) continue;
    NDS_RETURN_IF_ERROR(Block(i, j));
    NDS_RETURN_IF_ERROR(Block(j, i));
  }
  return Status::Ok();
}

Status NetnsNetwork::HealAll() {
  Status first;
  for (auto it = blocked_.begin(); it != blocked_.end();) {
    Status s = RunIp({"-n", Ns(it->first), "route", "del", "blackhole", Ip(it->second) + "/32"});
    if (s.ok()) {
      it = blocked_.erase(it);
    } else {
      if (first.ok()) first = s;
      ++it;
    }
  }
  return first;
}

Status NetnsNetwork::RunIn(size_t i, const std::function<void()>& fn) const {
  std::string path = "/var/run/netns/" + Ns(i);
  Status entered;
  std::thread t([&] {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
      entered = Unavailable("cannot enter " + path + ": " + std::strerror(errno));
      if (fd >= 0) ::close(fd);
      return;
    }
    ::close(fd);
    fn();
  });
  t.join();
  return entered;
}

}  // namespace nds::launcher
