// SwappableEngine: an Engine whose contents can be replaced as a whole while readers use it, for
// installing a Raft snapshot received from the leader (docs/cluster.md "Snapshots").
//
// It forwards every call to the current inner engine. Replace() makes a new inner engine current;
// views (and their iterators) taken before keep the engine they came from alive, so a reader in
// the middle of a stream finishes on the old state and never sees a mix.
// Thread-safe, as Engine requires; Replace() is called by the writer (the apply loop).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "engine/engine.h"
#include "util/thread_annotations.h"

namespace nds::engine {

class SwappableEngine final : public Engine {
 public:
  // Precondition (checked): `inner` is not null.
  explicit SwappableEngine(std::unique_ptr<Engine> inner);

  // Makes `next` the engine every later call uses. Precondition (checked): not null.
  void Replace(std::unique_ptr<Engine> next);

  Result<std::optional<std::string>> Get(std::string_view key) const override;
  Status Write(const WriteBatch& batch, LogIndex applied_index, bool sync) override;
  Status WriteConsuming(WriteBatch* batch, LogIndex applied_index, bool sync) override;
  LogIndex AppliedIndex() const override;
  std::unique_ptr<View> NewView() const override;
  Status Checkpoint(const std::string& dir) const override;
  EngineStats Stats() const override;
  std::string_view Name() const override;

 private:
  std::shared_ptr<Engine> Current() const;

  const std::string name_;  // the kind of every engine swapped in
  mutable Mutex mu_;
  std::shared_ptr<Engine> inner_ NDS_GUARDED_BY(mu_);
};

}  // namespace nds::engine
