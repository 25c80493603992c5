// What the workloads share (see workload.h).
#include "check/workload.h"

#include <thread>

#include <fmt/format.h>

namespace nds::check {

std::unique_ptr<WorkloadRunner> MakeWatchWorkload(const WorkloadContext& context);
std::unique_ptr<WorkloadRunner> MakeLeaseWorkload(const WorkloadContext& context);
std::unique_ptr<WorkloadRunner> MakeLockWorkload(const WorkloadContext& context);

std::string_view WorkloadName(Workload workload) {
  switch (workload) {
    case Workload::kRegister:
      return "register";
    case Workload::kWatch:
      return "watch";
    case Workload::kLease:
      return "lease";
    case Workload::kLock:
      return "lock";
  }
  return "?";
}

Result<Workload> ParseWorkload(std::string_view text) {
  for (Workload w : {Workload::kRegister, Workload::kWatch, Workload::kLease, Workload::kLock}) {
    if (WorkloadName(w) == text) return w;
  }
  return InvalidArgument(
      fmt::format("--workload: unknown workload '{}' (register, watch, lease, lock)", text));
}

void ProblemList::Add(std::string text) {
  if (out_->size() < max_) {
    out_->push_back(std::move(text));
  } else {
    ++dropped_;
  }
}

void ProblemList::Finish() {
  if (dropped_ > 0) out_->push_back(fmt::format("... and {} more problems", dropped_));
  dropped_ = 0;
}

std::unique_ptr<WorkloadRunner> MakeWorkload(Workload workload, const WorkloadContext& context) {
  switch (workload) {
    case Workload::kRegister:
      return nullptr;
    case Workload::kWatch:
      return MakeWatchWorkload(context);
    case Workload::kLease:
      return MakeLeaseWorkload(context);
    case Workload::kLock:
      return MakeLockWorkload(context);
  }
  return nullptr;
}

Result<client::ClientOptions> RunClientOptions(const WorkloadContext& context, size_t first,
                                               size_t attempts) {
  std::vector<std::string> addresses = context.targets->Get();
  if (addresses.empty()) return Unavailable("no node to talk to");
  std::string list;
  for (size_t i = 0; i < addresses.size(); ++i) {
    if (i > 0) list += ",";
    list += addresses[(first + i) % addresses.size()];
  }
  client::ClientOptions options;
  NDS_ASSIGN_OR_RETURN(options.servers, client::ParseServerList(list));
  options.connect_timeout = std::min(context.request_timeout, std::chrono::milliseconds(1'000));
  options.request_timeout = context.request_timeout;
  options.attempts_max = attempts;
  options.retry_deadline = context.request_timeout * static_cast<int64_t>(attempts);
  options.auth_token = context.auth_token;
  options.tls = context.tls;
  return options;
}

Result<std::unique_ptr<Client>> MakeRunClient(const WorkloadContext& context, size_t first,
                                              size_t attempts) {
  NDS_ASSIGN_OR_RETURN(client::ClientOptions options, RunClientOptions(context, first, attempts));
  return Client::Create(std::move(options));
}

uint64_t SteadyMicros() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

bool SleepUnlessStopped(std::chrono::milliseconds wait, const std::atomic<bool>& stop) {
  auto until = std::chrono::steady_clock::now() + wait;
  while (!stop.load()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(20)));
  }
  return false;
}

}  // namespace nds::check
