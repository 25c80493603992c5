// `nds start`'s use of what the data directory remembers (node/data_dir_state.h), and the checks
// a start makes before it joins a cluster, so that a join either completes or leaves nothing
// behind (docs/operations.md "Identity and data directories").
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "client/client.h"
#include "client/options.h"
#include "node/data_dir_state.h"
#include "util/status.h"

namespace nds::cli {

// The identity flags of `nds start`, with whether each was given on the command line.
struct IdentityFlags {
  std::string* name;
  std::string* api;
  std::string* peer;
  std::string* advertise_api;
  std::string* advertise_peer;
  bool name_given = false;
  bool api_given = false;
  bool peer_given = false;
  bool advertise_api_given = false;
  bool advertise_peer_given = false;
};

// The join token saved in DATA/token by the node that created the cluster, or "".
std::string ReadSavedToken(const std::string& data_dir);

// Writes DATA/token durably (atomic replace, synced), readable by its owner only.
Status SaveToken(const std::string& data_dir, const std::string& token);

// A data directory of cluster `cluster_id` started with --join `join`: refuses when `join`
// answers for another cluster. A member that does not answer is no reason to refuse a restart.
Status CheckSameCluster(const std::string& join, const std::string& cluster_id,
                        const client::ClientTlsOptions& tls);

// Before anything is opened: refuses a data directory whose node was removed, one that holds a
// Raft log but no meta file, and a --name other than the saved one; fills every identity flag
// not given from DATA/identity. kFailedPrecondition with a message that says what to do.
Status AdoptSavedIdentity(const std::string& data_dir, IdentityFlags flags);

// Refuses an engine that has applied entries (`applied_index` > 0) in a data directory without
// its meta file: like a Raft log without meta, starting would make a new cluster over old data.
// A first start that failed before its meta was written leaves an engine at index 0, which is
// fine to start again.
Status CheckEngineHasMeta(const std::string& data_dir, uint64_t applied_index);

// Once the node's meta file exists: saves (or updates) DATA/identity.
Status SaveIdentity(const std::string& data_dir, const node::NodeIdentity& id);

// Binds HOST:PORT for a moment: kUnavailable naming `flag` when another process holds it.
Status CheckPortFree(const std::string& flag, const std::string& host, uint16_t port);

// A client of the --join address list `join`; kInvalidArgument naming --join for a bad list.
Result<std::unique_ptr<Client>> ClientForJoin(const std::string& join,
                                              const client::ClientTlsOptions& tls);

// Asks `join` which engine its node runs: kFailedPrecondition when it is not `engine` (a
// snapshot of one engine cannot be installed in the other). Ok when it cannot tell.
Status CheckSameEngine(const std::string& join, const std::string& engine,
                       const client::ClientTlsOptions& tls);

// A join that succeeded but whose node cannot start: asks `join` to remove member `id` again,
// logging the outcome.
void UndoJoin(const std::string& join, uint64_t id, const client::ClientTlsOptions& tls);

}  // namespace nds::cli
