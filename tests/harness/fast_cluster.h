// What the multi-node process tests share: flags that make a local cluster quick (elections in
// about a second, small WAL segments), a client with short timeouts for one or more nodes, and
// FastClusterTest, the one way a process test forms a cluster of real `nds start` children.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/client.h"
#include "launcher/local_cluster.h"
#include "util/strong_id.h"

namespace nds::test {

// Fast Raft timing so that elections take about a second (the defaults are twice as slow), and
// small WAL segments (with a value limit to match) so that a cluster takes tens of MB of disk,
// not hundreds.
extern const std::vector<std::string> kFastNodeFlags;

// How long a cluster may take to elect a goose (one is expected in about a second).
inline constexpr std::chrono::seconds kElectionBound{10};

// kFastNodeFlags with `more` applied: a flag of `more` that kFastNodeFlags has (with a value)
// replaces its value there; any other argument is appended in order.
std::vector<std::string> FastNodeFlagsWith(const std::vector<std::string>& more);

// A client of `servers` (HOST:PORT[,...]) with a 500 ms connect and 5 s request timeout.
std::unique_ptr<Client> ClientFor(const std::string& servers);

// A fixture that runs a launcher::LocalCluster of real `nds start` processes on 127.0.0.1 in a new
// temporary directory (dir_, named after the test suite). On a failure the nodes' logs are
// printed and the data is kept for a look; after a pass it is removed. Every wait is bounded.
class FastClusterTest : public ::testing::Test {
 protected:
  // Starts a fresh cluster of `nodes` nodes with FastNodeFlagsWith(more_flags), and node i also
  // with node_args[i] when there is one (launcher::LocalClusterOptions::node_args), in dir_ (made
  // here unless the test made it first); waits (kElectionBound) until it has a goose. Fails the
  // test (fatally) when it cannot.
  void StartCluster(size_t nodes, const std::vector<std::string>& more_flags = {},
                    std::vector<std::vector<std::string>> node_args = {});
  void TearDown() override;

  // The tail of every node's log, for failure messages.
  std::string Logs();
  // A client of node i (made once, kept for the test).
  Client& On(size_t i);
  // What node i holds locally: the /get body of `key` read with ?consistency=stale, or
  // std::nullopt for 404. Other answers fail the test.
  std::optional<std::string> Stale(size_t i, const std::string& key);
  // Polls Stale(i, key) until it is `want`, up to `bound`.
  bool EventuallyHolds(size_t i, const std::string& key, const std::string& want,
                       std::chrono::milliseconds bound = std::chrono::seconds(10));
  // The index of the node answering goose (waited for up to kElectionBound); 0 with a failure when
  // there is none.
  size_t Goose();
  // Node i's id, as its /status says.
  NodeId IdOf(size_t i);

  std::string dir_;  // the cluster's base directory (and room for the test's own files)
  std::unique_ptr<launcher::LocalCluster> cluster_;
  std::vector<std::unique_ptr<Client>> clients_;
};

}  // namespace nds::test
