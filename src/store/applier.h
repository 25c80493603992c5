// Applies store commands to the engine, many at a time (group commit).
//
// A BatchApplier collects the effects of consecutive commands, each at its own log index, into one
// engine WriteBatch; preconditions of later commands see the effects of earlier ones in the same
// batch (an overlay over the engine). Commit() writes the batch and the last index atomically.
// Owned by the apply thread; not thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "engine/engine.h"
#include "store/command.h"
#include "util/status.h"
#include "util/strong_id.h"

namespace nds::store {

// The outcome of one command. `status` is ok, or the precondition that failed: kNotFound (missing
// key for kMustExist), kAlreadyExists (kMustNotExist), kFailedPrecondition (revision mismatch,
// or If-Match on a missing key). A failed command changes nothing but still consumes its index.
struct ApplyResult {
  Status status;
  uint64_t revision = 0;  // the command's log index
  bool created = false;   // kPut: the key did not exist before
};

class BatchApplier {
 public:
  // `engine` must outlive the applier.
  explicit BatchApplier(const engine::Engine* engine) : engine_(engine) {}

  // Applies `cmd` at `index`. Preconditions: index > every index applied before, including the
  // engine's applied index. Errors reading the engine come back as the result's status (kIoError).
  ApplyResult Apply(const Command& cmd, LogIndex index);

  // Records an index that carries no command (a Raft no-op or configuration entry).
  void Skip(LogIndex index);

  // Writes everything applied so far, with the last index, in one atomic engine write, durable
  // when `sync`. The applier is empty afterwards. A batch with no index applied is a no-op.
  Status Commit(engine::Engine* engine, bool sync);

  bool empty() const { return !last_index_.has_value(); }
  size_t bytes() const { return batch_.ByteSize(); }

 private:
  // The current record of a data key as this batch sees it, or std::nullopt when absent.
  Result<std::optional<uint64_t>> CurrentRevision(const std::string& data_key) const;
  Status CheckPrecondition(const Command& cmd, const std::optional<uint64_t>& revision) const;
  void AdvanceTo(LogIndex index);

  const engine::Engine* engine_;
  engine::WriteBatch batch_;
  // Data keys written or deleted in this batch: revision, or nullopt for deleted.
  std::map<std::string, std::optional<uint64_t>> overlay_;
  bool cleared_ = false;  // a kClear is in this batch: keys outside the overlay are absent
  std::optional<LogIndex> last_index_;
};

}  // namespace nds::store
