// LocalCluster: forming, probing and stopping a cluster of NodeProcesses.
#include "launcher/local_cluster.h"

#include <algorithm>
#include <filesystem>
#include <signal.h>
#include <thread>
#include <utility>

#include "util/check.h"

namespace nds::launcher {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr auto kProbeTimeout = std::chrono::milliseconds(500);
constexpr auto kKillTimeout = std::chrono::seconds(10);

// True when `dir` exists and holds anything: the node was started there before.
bool HoldsData(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec) && !std::filesystem::is_empty(dir, ec);
}

}  // namespace

LocalCluster::LocalCluster(LocalClusterOptions options) : options_(std::move(options)) {
  for (size_t i = 0; i < options_.nodes; ++i) {
    nodes_.push_back(std::make_unique<NodeProcess>(SpecFor(i)));
  }
}

LocalCluster::~LocalCluster() = default;  // each NodeProcess SIGKILLs its child

NodeSpec LocalCluster::SpecFor(size_t i) const {
  NodeSpec spec;
  spec.binary = options_.binary;
  spec.name = "node" + std::to_string(i + 1);
  spec.data_dir = options_.base_dir + "/" + spec.name;
  spec.log_path = spec.data_dir + ".log";
  if (options_.first_api_port != 0) {
    spec.api_port = static_cast<uint16_t>(options_.first_api_port + 10 * i);
  }
  if (options_.first_peer_port != 0) {
    spec.peer_port = static_cast<uint16_t>(options_.first_peer_port + 10 * i);
  }
  spec.token = options_.token;
  spec.extra_args = options_.extra_args;
  spec.https_ca_file = options_.https_ca_file;
  if (!options_.https_ca_file.empty()) {
    spec.extra_args.insert(spec.extra_args.end(), {"--cacert", options_.https_ca_file});
  }
  if (i < options_.node_args.size()) {
    spec.extra_args.insert(spec.extra_args.end(), options_.node_args[i].begin(),
                           options_.node_args[i].end());
  }
  if (options_.netns != nullptr) {
    spec.host = options_.netns->Ip(i);
    spec.exec_prefix = options_.netns->ExecPrefix(i);
  }
  return spec;
}

Status LocalCluster::Start() {
  std::error_code ec;
  std::filesystem::create_directories(options_.base_dir, ec);
  if (ec) return IoError("cannot create " + options_.base_dir + ": " + ec.message());
  if (options_.netns != nullptr) {
    for (size_t i = 0; i < nodes_.size(); ++i) NDS_RETURN_IF_ERROR(options_.netns->AddNode(i));
  }
  std::vector<size_t> fresh;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!HoldsData(nodes_[i]->spec().data_dir)) {
      fresh.push_back(i);
      continue;
    }
    nodes_[i]->mutable_spec().join.clear();
    NDS_RETURN_IF_ERROR(nodes_[i]->Start(options_.start_timeout));
  }
  if (fresh.size() == nodes_.size() && !fresh.empty()) {
    NDS_RETURN_IF_ERROR(StartAndWaitReady(*nodes_[0]));  // bootstrap
    fresh.erase(fresh.begin());
  } else {
    NDS_RETURN_IF_ERROR(WaitReady(options_.start_timeout));
  }
  for (size_t i : fresh) NDS_RETURN_IF_ERROR(Join(i));
  return WaitVoters(nodes_.size(), options_.start_timeout);
}

Result<size_t> LocalCluster::AddNode() {
  nodes_.push_back(std::make_unique<NodeProcess>(SpecFor(nodes_.size())));
  size_t i = nodes_.size() - 1;
  if (options_.netns != nullptr) NDS_RETURN_IF_ERROR(options_.netns->AddNode(i));
  NDS_RETURN_IF_ERROR(Join(i));
  NDS_RETURN_IF_ERROR(WaitVoters(nodes_.size() - removed_.size(), options_.start_timeout));
  return i;
}

void LocalCluster::MarkRemoved(size_t i) { removed_.insert(i); }

std::optional<size_t> LocalCluster::AnyRunningMember() const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->pid() > 0 && !nodes_[i]->paused() && !removed_.contains(i)) return i;
  }
  return std::nullopt;
}

Status LocalCluster::Join(size_t i) {
  std::optional<size_t> via = AnyRunningMember();
  if (!via || *via == i) {
    return FailedPrecondition(nodes_[i]->spec().name + " cannot join: no member runs");
  }
  nodes_[i]->mutable_spec().join =
      (options_.https_ca_file.empty() ? "" : "https://") + nodes_[*via]->api_address();
  return StartAndWaitReady(*nodes_[i]);
}

Status LocalCluster::StartAndWaitReady(NodeProcess& node) {
  auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  NDS_RETURN_IF_ERROR(node.Start(options_.start_timeout));
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return node.WaitFor200("/readyz", std::max(left, std::chrono::milliseconds(1)));
}

std::vector<std::string> LocalCluster::ApiAddresses() const {
  std::vector<std::string> out;
  for (const auto& n : nodes_) {
    out.push_back((options_.https_ca_file.empty() ? "" : "https://") + n->api_address());
  }
  return out;
}

std::string LocalCluster::ServerList() const {
  std::string out;
  for (const auto& a : ApiAddresses()) out += (out.empty() ? "" : ",") + a;
  return out;
}

Status LocalCluster::Kill(size_t i) {
  NDS_CHECK(i < nodes_.size());
  return nodes_[i]->Stop(SIGKILL, kKillTimeout).status();
}

Status LocalCluster::Terminate(size_t i) {
  NDS_CHECK(i < nodes_.size());
  return nodes_[i]->Stop(SIGTERM).status();
}

void LocalCluster::Pause(size_t i) {
  NDS_CHECK(i < nodes_.size());
  nodes_[i]->Signal(SIGSTOP);
}

void LocalCluster::Resume(size_t i) {
  NDS_CHECK(i < nodes_.size());
  nodes_[i]->Signal(SIGCONT);
}

Status LocalCluster::Restart(size_t i) {
  NDS_CHECK(i < nodes_.size());
  nodes_[i]->mutable_spec().join.clear();
  return nodes_[i]->Start(options_.start_timeout);
}

Result<std::optional<size_t>> LocalCluster::Goose() {
  std::optional<size_t> goose;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->paused() || !nodes_[i]->Running()) continue;
    auto reply = nodes_[i]->Get("/role", kProbeTimeout);
    if (!reply.ok() || reply->status != 200 || reply->body.rfind("goose", 0) != 0) continue;
    if (goose) {
      return FailedPrecondition(nodes_[*goose]->spec().name + " and " + nodes_[i]->spec().name +
                                " both answer goose");
    }
    goose = i;
  }
  return goose;
}

Result<size_t> LocalCluster::WaitForGoose(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    NDS_ASSIGN_OR_RETURN(std::optional<size_t> goose, Goose());
    if (goose) return *goose;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Timeout("no node answered goose within " + std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

Status LocalCluster::WaitReady(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto& n : nodes_) {
    if (n->paused() || !n->Running()) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    NDS_RETURN_IF_ERROR(n->WaitFor200("/readyz", std::max(left, std::chrono::milliseconds(1))));
  }
  return Status::Ok();
}

Status LocalCluster::WaitVoters(size_t members, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    NodeProcess* n = nodes_[i].get();
    std::string last = "no answer";
    while (true) {
      if (removed_.contains(i) || n->paused() || !n->Running()) break;
      auto probe =
          ProbeClient(n->spec().api_port, kProbeTimeout, n->spec().https_ca_file, n->spec().host);
      auto listed = probe.ok() ? (*probe)->Members() : probe.status();
      if (listed.ok()) {
        size_t voters = 0;
        for (const auto& m : *listed) voters += m.voter ? 1 : 0;
        if (listed->size() == members && voters == members) break;
        last = std::to_string(voters) + " voters of " + std::to_string(listed->size()) + " members";
      } else {
        last = listed.status().ToString();
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return Timeout(n->spec().name + " does not list " + std::to_string(members) +
                       " voters within " + std::to_string(timeout.count()) + " ms (" + last +
                       "; log: " + n->spec().log_path + ")");
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }
  return Status::Ok();
}

void LocalCluster::StopAll(std::chrono::milliseconds grace) {
  for (auto& n : nodes_) {
    if (n->Running()) n->Signal(SIGTERM);
    if (n->paused()) n->Signal(SIGCONT);
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (auto& n : nodes_) {
    if (!n->Running()) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto stopped = n->Stop(SIGTERM, std::max(left, std::chrono::milliseconds(1)));
    if (!stopped.ok()) IgnoreError(n->Stop(SIGKILL, kKillTimeout).status(), "SIGKILL is final");
  }
}

}  // namespace nds::launcher
