// A client operation history on a key-value register store: what each client asked for, when, and
// what it was told. The simulator records one for every run, and `nds check` records one against a
// real cluster over HTTP; sim/linearizability.h decides whether a history is linearizable.
//
// Times are plain integers on one monotonic clock shared by all clients of the history (simulated
// ticks in the simulator, microseconds since the recorder started in `nds check`). The only thing
// the checker uses is their order: op A precedes op B in real time iff A completed strictly before
// B was invoked.
//
// Depends on util/ only, so that tools outside the simulator can use it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace nds::sim {

enum class OpKind : uint8_t {
  kRead = 0,   // observes the key's value (or its absence)
  kWrite = 1,  // sets the key's value; a write of no value deletes the key
  kCas = 2,    // sets the value to `value` iff the current value equals `expected`
};

// What the client was told.
enum class OpOutcome : uint8_t {
  // Not yet completed: the history is still being recorded. The checker treats an operation still
  // pending like kIndeterminate.
  kPending = 0,
  // Executed, and its result is known (a read's value, whether a cas swapped).
  kOk = 1,
  // Definitely not executed (e.g. refused before it was proposed): it has no effect, and the
  // checker ignores it.
  kFailed = 2,
  // Unknown (a timeout, a lost connection): it may have taken effect at any instant after its
  // invocation, or never.
  kIndeterminate = 3,
};

std::string_view OpKindName(OpKind kind);
std::string_view OpOutcomeName(OpOutcome outcome);

// One operation. Plain value type.
struct Operation {
  uint64_t client_id = 0;
  OpKind kind = OpKind::kRead;
  std::string key;
  // kWrite: the value written (nullopt deletes). kCas: the new value (nullopt deletes).
  // kRead with outcome kOk: the value observed (nullopt: the key was absent).
  std::optional<std::string> value;
  // kCas only: the value the key must hold for the swap (nullopt: the key must be absent).
  std::optional<std::string> expected;
  // kCas with outcome kOk: true when it swapped, false when it observed a mismatch.
  bool cas_swapped = false;
  uint64_t invoke_time = 0;
  // Meaningful for kOk and kFailed only; >= invoke_time.
  uint64_t complete_time = 0;
  OpOutcome outcome = OpOutcome::kPending;

  bool operator==(const Operation&) const = default;
};

// A readable one-line description: "c3 cas(k1, 'a'->'b')=swapped [10,14] ok".
std::string DescribeOperation(const Operation& op);

// Records operations as clients invoke and complete them. Owned by whoever drives the clients.
// Not thread-safe: the caller serialises (a recorder with several client threads takes a lock).
class History {
 public:
  // A history refuses more than `ops_max` operations (every buffer has a limit, STYLE.md §6).
  explicit History(size_t ops_max = kDefaultOpsMax) : ops_max_(ops_max) {}

  static constexpr size_t kDefaultOpsMax = 1'000'000;

  // Records the invocation of `op` (its outcome and completion time are ignored and reset).
  // Returns the operation's handle, or kResourceExhausted when the history is full, or
  // kInvalidArgument when `time` is earlier than a time already recorded.
  Result<size_t> Invoke(Operation op, uint64_t time);

  // Completes a pending operation. `observed` is a read's value (kOk reads only); `cas_swapped`
  // is a cas's result (kOk cas only). Errors (kInvalidArgument): unknown handle, operation not
  // pending, outcome kPending, or a time earlier than one already recorded.
  Status CompleteOk(size_t handle, uint64_t time, std::optional<std::string> observed = {},
                    bool cas_swapped = false);
  Status CompleteFailed(size_t handle, uint64_t time);
  Status CompleteIndeterminate(size_t handle, uint64_t time);

  // All operations in invocation order. Valid until the next call of a non-const method.
  const std::vector<Operation>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }

  // A text form, one operation a line, that ParseHistory reads back (values are hex-encoded so
  // any bytes survive). Used to save a history and to check it offline.
  std::string ToText() const;

 private:
  Status CheckTime(uint64_t time) const;
  Result<Operation*> PendingOp(size_t handle);

  size_t ops_max_;
  uint64_t last_time_ = 0;
  std::vector<Operation> ops_;
};

// Parses the output of History::ToText. Every malformed line is kInvalidArgument naming the line
// number; an input of more than `ops_max` operations is kResourceExhausted.
Result<std::vector<Operation>> ParseHistory(std::string_view text,
                                            size_t ops_max = History::kDefaultOpsMax);

}  // namespace nds::sim
