// Shared settings of the multi-node process tests.
#include "harness/fast_cluster.h"

namespace nds::test {

const std::vector<std::string> kFastNodeFlags = {
    "--heartbeat-ms",      "50",      "--election-timeout-ms", "500",
    "--lease-ms",          "400",     "--request-timeout-ms",  "3000",
    "--wal-segment-bytes", "4194304", "--max-value-bytes",     "1048576"};

std::unique_ptr<Client> ClientFor(const std::string& servers) {
  client::ClientOptions options;
  options.servers = client::ParseServerList(servers).value();
  options.connect_timeout = std::chrono::milliseconds(500);
  options.request_timeout = std::chrono::seconds(5);
  options.retry_deadline = std::chrono::seconds(10);
  return Client::Create(std::move(options)).value();
}

}  // namespace nds::test
