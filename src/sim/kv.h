// The replicated state machine of the simulated cluster: a key-value register map, and the
// encoding of the client commands that the simulated clients propose through Raft. Each command
// carries its client operation's id, so that a node applying it can complete the waiting client.
//
// Plain types; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sim/history.h"
#include "util/status.h"

namespace nds::sim {

struct KvCommand {
  uint64_t op_id = 0;            // the client operation (History handle) that proposed it
  OpKind kind = OpKind::kWrite;  // kWrite or kCas
  std::string key;
  std::optional<std::string> value;
  std::optional<std::string> expected;  // kCas only

  bool operator==(const KvCommand&) const = default;
};

// Layout: varint op_id, byte kind, length-prefixed key, then for value and expected a byte 0/1
// (absent/present) and, when present, the length-prefixed bytes.
std::string EncodeKvCommand(const KvCommand& cmd);
// kCorruption when `data` is truncated, has trailing bytes or an unknown kind.
Result<KvCommand> DecodeKvCommand(std::string_view data);

class KvStateMachine {
 public:
  // Applies `cmd`; returns whether it changed the value (a write always does; a cas when the
  // current value equals `expected`).
  bool Apply(const KvCommand& cmd);
  std::optional<std::string> Get(const std::string& key) const;
  const std::map<std::string, std::string>& data() const { return data_; }

 private:
  std::map<std::string, std::string> data_;
};

}  // namespace nds::sim
