// One client thread of `nds check`: issues random reads, writes and compare-and-swaps of the run's
// keys on random nodes, one at a time, and records each in the shared history (recorder.h). The
// operations go over the protocol of register_ops.h (HTTP /store/, RESP or /txn).
//
// Every value a worker writes is "c<client id>-<sequence number>": unique in the run. A cas needs
// what this client last read of the key (its value and revision); without that it reads instead.
//
// Not thread-safe: one worker per thread; the shared pieces (Recorder, Targets, the stop flag and
// the operation budget) are.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "check/recorder.h"
#include "check/register_ops.h"
#include "check/targets.h"

namespace nds::check {

struct WorkerShared {
  Recorder* recorder = nullptr;
  Targets* targets = nullptr;
  const std::vector<std::string>* keys = nullptr;
  std::atomic<bool>* stop = nullptr;  // set by the run when it ends
  // Operations the run may still start; a worker stops when it finds none left.
  std::atomic<uint64_t>* ops_left = nullptr;
  std::chrono::milliseconds request_timeout{3'000};
  std::string auth_token;        // CheckOptions::auth_token
  client::ClientTlsOptions tls;  // for https:// servers
  Protocol protocol = Protocol::kHttp;
  // Protocol::kResp: each node's RESP address by its API address (filled before any worker).
  const std::map<std::string, std::string>* resp_addresses = nullptr;
};

class ClientWorker {
 public:
  ClientWorker(uint64_t client_id, uint64_t seed, const WorkerShared& shared);

  // Issues operations until *stop is set, the budget is spent or the history is full.
  void Run();

  // One linearizable read of `key` on `address`, recorded; returns its outcome.
  sim::OpOutcome ReadFrom(const std::string& key, const std::string& address);

 private:
  // What this client last read of a key. Only a successful read sets it.
  using Seen = SeenValue;

  // A write (seen == nullptr), or a cas against what this client last read of the key; returns
  // its outcome. Sets history_full_ (and returns kFailed) when the history refuses the operation.
  sim::OpOutcome Update(const std::string& key, const std::string& address, const Seen* seen);

  uint64_t client_id_;
  std::mt19937_64 rng_;
  WorkerShared shared_;
  std::unique_ptr<RegisterOps> ops_;
  uint64_t next_value_ = 0;
  std::map<std::string, Seen> seen_;  // by key
  bool history_full_ = false;
};

}  // namespace nds::check
