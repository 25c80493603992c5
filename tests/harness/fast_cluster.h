// What the multi-node process tests share: flags that make a local cluster quick (elections in
// about a second, small WAL segments), and a client with short timeouts for one or more nodes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "client/client.h"

namespace nds::test {

// Fast Raft timing so that elections take about a second (the defaults are twice as slow), and
// small WAL segments (with a value limit to match) so that a cluster takes tens of MB of disk,
// not hundreds.
extern const std::vector<std::string> kFastNodeFlags;

// A client of `servers` (HOST:PORT[,...]) with a 500 ms connect and 5 s request timeout.
std::unique_ptr<Client> ClientFor(const std::string& servers);

}  // namespace nds::test
