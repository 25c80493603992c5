// Wing–Gong–Lowe linearizability search over a register model, per key (see linearizability.h).
#include "sim/linearizability.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

namespace nds::sim {

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kViolation:
      return "violation";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

namespace {

constexpr uint64_t kInfinity = std::numeric_limits<uint64_t>::max();

// An operation of one key, in the model's terms. Values are interned: 0 is "absent".
struct ModelOp {
  OpKind kind;
  bool determinate;  // outcome kOk; otherwise it may also never take effect
  uint32_t value;    // write/cas: the new value; read: the value observed
  uint32_t expected;
  bool cas_swapped;
  uint64_t invoke_time;
  uint64_t complete_time;  // kInfinity when not determinate
};

// Applies `op` to register state `state`; returns false when the op's recorded result is
// impossible from that state.
bool Step(const ModelOp& op, uint32_t state, uint32_t* next) {
  switch (op.kind) {
    case OpKind::kRead:
      *next = state;
      return op.value == state;
    case OpKind::kWrite:
      *next = op.value;
      return true;
    case OpKind::kCas:
      if (!op.determinate || op.cas_swapped) {
        // An indeterminate cas that mismatched has no effect: that case is "never".
        *next = op.value;
        return state == op.expected;
      }
      *next = state;
      return state != op.expected;
  }
  return false;
}

// Per-op random numbers for an incremental (Zobrist) hash of the linearized set.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct Config {
  uint64_t hash;
  uint32_t state;
  std::vector<uint64_t> bits;
  bool operator==(const Config& o) const {
    return hash == o.hash && state == o.state && bits == o.bits;
  }
};
struct ConfigHash {
  size_t operator()(const Config& c) const { return c.hash; }
};

enum class KeyVerdict { kOk, kViolation, kUnknown };

struct KeyOutcome {
  KeyVerdict verdict = KeyVerdict::kOk;
  uint64_t steps = 0;
  // kViolation: the op whose completion was reached unlinearized in the deepest configuration.
  size_t blocked_op = 0;
  const Operation* blocked = nullptr;  // the same, as the caller's operation (set by SearchKey)
};

// The search for one key. Not thread-safe; one instance per search.
class KeySearch {
 public:
  KeySearch(const std::vector<ModelOp>& ops, uint64_t steps_max, size_t cache_entries_max)
      : ops_(ops), steps_max_(steps_max), cache_entries_max_(cache_entries_max) {
    BuildList();
  }

  KeyOutcome Run();

 private:
  struct Node {
    size_t op;
    bool is_call;
    size_t match;  // call: its return node
    size_t prev;
    size_t next;
  };
  static constexpr size_t kNil = std::numeric_limits<size_t>::max();
  static constexpr size_t kHead = 0;

  void BuildList();
  void Lift(size_t call) {
    Node& c = nodes_[call];
    nodes_[c.prev].next = c.next;
    if (c.next != kNil) nodes_[c.next].prev = c.prev;
    Node& r = nodes_[c.match];
    nodes_[r.prev].next = r.next;
    if (r.next != kNil) nodes_[r.next].prev = r.prev;
  }
  void Unlift(size_t call) {
    Node& r = nodes_[nodes_[call].match];
    nodes_[r.prev].next = nodes_[call].match;
    if (r.next != kNil) nodes_[r.next].prev = nodes_[call].match;
    Node& c = nodes_[call];
    nodes_[c.prev].next = call;
    if (c.next != kNil) nodes_[c.next].prev = call;
  }
  void Flip(size_t op) {
    bits_[op / 64] ^= uint64_t{1} << (op % 64);
    hash_ ^= Mix(op);
  }

  const std::vector<ModelOp>& ops_;
  uint64_t steps_max_;
  size_t cache_entries_max_;
  std::vector<Node> nodes_;
  std::vector<uint64_t> bits_;
  uint64_t hash_ = 0;
};

void KeySearch::BuildList() {
  struct Event {
    uint64_t time;
    bool is_call;
    size_t op;
  };
  std::vector<Event> events;
  events.reserve(2 * ops_.size());
  for (size_t i = 0; i < ops_.size(); ++i) {
    events.push_back({ops_[i].invoke_time, true, i});
    events.push_back({ops_[i].complete_time, false, i});
  }
  // Calls before returns at equal times: equal times overlap (see the header).
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.is_call != b.is_call) return a.is_call;
    return a.op < b.op;
  });
  nodes_.assign(events.size() + 1, Node{kNil, false, kNil, kNil, kNil});
  std::vector<size_t> return_node(ops_.size(), kNil);
  for (size_t i = 0; i < events.size(); ++i) {
    size_t n = i + 1;
    nodes_[n] =
        Node{events[i].op, events[i].is_call, kNil, n - 1, n + 1 < nodes_.size() ? n + 1 : kNil};
    if (!events[i].is_call) return_node[events[i].op] = n;
  }
  nodes_[kHead].next = nodes_.size() > 1 ? 1 : kNil;
  for (size_t n = 1; n < nodes_.size(); ++n) {
    if (nodes_[n].is_call) nodes_[n].match = return_node[nodes_[n].op];
  }
  bits_.assign((ops_.size() + 63) / 64, 0);
}

KeyOutcome KeySearch::Run() {
  KeyOutcome out;
  std::unordered_set<Config, ConfigHash> cache;
  struct Frame {
    size_t call;
    uint32_t state;  // the state before the call was linearized
  };
  std::vector<Frame> stack;
  uint32_t state = 0;
  size_t entry = nodes_[kHead].next;
  size_t deepest = 0;
  while (entry != kNil) {
    if (++out.steps > steps_max_) {
      out.verdict = KeyVerdict::kUnknown;
      return out;
    }
    const Node& node = nodes_[entry];
    if (node.is_call) {
      uint32_t next_state = 0;
      if (Step(ops_[node.op], state, &next_state)) {
        Flip(node.op);
        Config config{hash_ ^ Mix(next_state + (uint64_t{1} << 40)), next_state, bits_};
        if (cache.insert(std::move(config)).second) {
          if (cache.size() > cache_entries_max_) {
            out.verdict = KeyVerdict::kUnknown;
            return out;
          }
          stack.push_back({entry, state});
          state = next_state;
          Lift(entry);
          entry = nodes_[kHead].next;
          continue;
        }
        Flip(node.op);
      }
      entry = node.next;
      continue;
    }
    // A completion reached before its operation was linearized.
    if (!ops_[node.op].determinate) {
      return out;  // every determinate operation is linearized; the rest may never happen
    }
    if (stack.size() >= deepest) {
      deepest = stack.size();
      out.blocked_op = node.op;
    }
    if (stack.empty()) {
      out.verdict = KeyVerdict::kViolation;
      return out;
    }
    Frame top = stack.back();
    stack.pop_back();
    state = top.state;
    Flip(nodes_[top.call].op);
    Unlift(top.call);
    entry = nodes_[top.call].next;
  }
  return out;
}

// Interns a key's operations into model ops; returns the kept source operations beside them.
struct KeyHistory {
  std::vector<const Operation*> source;
  std::vector<ModelOp> model;
};

KeyHistory BuildKeyHistory(const std::vector<const Operation*>& ops) {
  std::map<std::string, uint32_t> ids;
  auto intern = [&ids](const std::optional<std::string>& v) -> uint32_t {
    if (!v) return 0;
    auto it = ids.emplace(*v, static_cast<uint32_t>(ids.size() + 1)).first;
    return it->second;
  };
  KeyHistory kh;
  for (const Operation* op : ops) {
    bool determinate = op->outcome == OpOutcome::kOk;
    ModelOp m{op->kind,
              determinate,
              intern(op->value),
              op->kind == OpKind::kCas ? intern(op->expected) : 0,
              op->cas_swapped,
              op->invoke_time,
              determinate ? op->complete_time : kInfinity};
    kh.source.push_back(op);
    kh.model.push_back(m);
  }
  return kh;
}

// Drops the indeterminate writes and cas whose effect nobody could have seen: no read returned
// their value, no cas expected it, and no cas that reported a mismatch could have run after them.
// Sound: in any linearization that contains such an op, the op that follows it must be a write
// (anything else would observe its value), so removing the op leaves a linearization. It matters:
// each indeterminate op otherwise doubles the configurations to explore.
std::vector<const Operation*> PruneUnobservedIndeterminate(
    const std::vector<const Operation*>& ops) {
  std::set<std::optional<std::string>> observed;
  uint64_t last_mismatch_complete = 0;
  bool any_mismatch = false;
  for (const Operation* op : ops) {
    if (op->kind == OpKind::kRead) observed.insert(op->value);
    if (op->kind == OpKind::kCas) observed.insert(op->expected);
    if (op->kind == OpKind::kCas && op->outcome == OpOutcome::kOk && !op->cas_swapped) {
      any_mismatch = true;
      last_mismatch_complete = std::max(last_mismatch_complete, op->complete_time);
    }
  }
  std::vector<const Operation*> kept;
  kept.reserve(ops.size());
  for (const Operation* op : ops) {
    bool indeterminate = op->outcome != OpOutcome::kOk;
    bool unobserved =
        !observed.count(op->value) && !(any_mismatch && last_mismatch_complete >= op->invoke_time);
    if (indeterminate && op->kind != OpKind::kRead && unobserved) continue;
    kept.push_back(op);
  }
  return kept;
}

KeyOutcome SearchKey(const std::vector<const Operation*>& all_ops, uint64_t steps_max,
                     size_t cache_entries_max) {
  std::vector<const Operation*> ops = PruneUnobservedIndeterminate(all_ops);
  KeyHistory kh = BuildKeyHistory(ops);
  KeySearch search(kh.model, steps_max, cache_entries_max);
  KeyOutcome out = search.Run();
  if (out.verdict == KeyVerdict::kViolation) out.blocked = kh.source[out.blocked_op];
  return out;
}

// True when every value that an op of `ops` observes (a read's result, a swapped cas's expected
// value) and that some op of `original` writes is still written by some op of `ops`. Shrinking
// keeps this so that the core explains the anomaly ("read 'a' after 'b' was written") rather than
// shrinking to the trivial "read 'a' from an empty register".
bool KeepsWritersOfObservedValues(const std::vector<const Operation*>& ops,
                                  const std::set<std::string>& written_originally) {
  std::set<std::string> written;
  for (const Operation* op : ops) {
    if (op->kind != OpKind::kRead && op->value) written.insert(*op->value);
  }
  for (const Operation* op : ops) {
    const std::optional<std::string>* seen = nullptr;
    if (op->kind == OpKind::kRead) seen = &op->value;
    if (op->kind == OpKind::kCas && op->cas_swapped) seen = &op->expected;
    if (seen && seen->has_value() && written_originally.count(**seen) && !written.count(**seen)) {
      return false;
    }
  }
  return true;
}

// Greedy shrinking: drop chunks of operations, halving the chunk size, while the rest stays a
// violation (and keeps the writers of observed values). Ends 1-minimal in that sense when the
// budget lasts.
std::vector<const Operation*> Minimize(std::vector<const Operation*> ops, uint64_t* steps_left,
                                       size_t cache_entries_max) {
  std::set<std::string> written_originally;
  for (const Operation* op : ops) {
    if (op->kind != OpKind::kRead && op->value) written_originally.insert(*op->value);
  }
  // The last round (chunk 1) repeats until no op can go: a removal may free an earlier op.
  for (size_t chunk = std::max<size_t>(1, ops.size() / 2);;) {
    bool removed = false;
    for (size_t start = 0; start < ops.size();) {
      std::vector<const Operation*> trial;
      trial.reserve(ops.size());
      for (size_t i = 0; i < ops.size(); ++i) {
        if (i < start || i >= start + chunk) trial.push_back(ops[i]);
      }
      if (!KeepsWritersOfObservedValues(trial, written_originally)) {
        start += chunk;
        continue;
      }
      KeyOutcome o = SearchKey(trial, *steps_left, cache_entries_max);
      *steps_left -= std::min(*steps_left, o.steps);
      if (o.verdict == KeyVerdict::kViolation) {
        ops = std::move(trial);
        removed = true;
      } else {
        start += chunk;
      }
      if (*steps_left == 0) return ops;
    }
    if (chunk > 1) {
      chunk /= 2;
    } else if (!removed) {
      return ops;
    }
  }
}

std::string Explain(Verdict verdict, const std::string& key, const std::vector<Operation>& ops,
                    std::string_view note) {
  std::string s = fmt::format("{} on key '{}'{}", VerdictName(verdict), key, note);
  for (const Operation& op : ops) s += "\n  " + DescribeOperation(op);
  return s;
}

}  // namespace

Result<CheckResult> CheckLinearizable(const std::vector<Operation>& ops,
                                      const CheckOptions& options) {
  std::map<std::string_view, std::vector<const Operation*>> by_key;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Operation& op = ops[i];
    bool known = op.outcome == OpOutcome::kOk || op.outcome == OpOutcome::kFailed;
    if (known && op.complete_time < op.invoke_time) {
      return InvalidArgument(fmt::format("operation {} completed at {} before its invocation at {}",
                                         i, op.complete_time, op.invoke_time));
    }
    if (op.outcome == OpOutcome::kFailed) continue;
    if (op.kind == OpKind::kRead && op.outcome != OpOutcome::kOk) continue;
    by_key[op.key].push_back(&op);
  }
  CheckResult result;
  uint64_t steps_left = options.steps_max;
  bool have_unknown = false;
  for (auto& [key, key_ops] : by_key) {
    std::stable_sort(key_ops.begin(), key_ops.end(), [](const Operation* a, const Operation* b) {
      return a->invoke_time < b->invoke_time;
    });
    KeyOutcome o = SearchKey(key_ops, steps_left, options.cache_entries_max);
    steps_left -= std::min(steps_left, o.steps);
    ++result.keys_checked;
    if (o.verdict == KeyVerdict::kUnknown) {
      if (!have_unknown) {
        result.key = std::string(key);
        have_unknown = true;
      }
      if (steps_left == 0) break;
      continue;
    }
    if (o.verdict == KeyVerdict::kOk) continue;
    result.verdict = Verdict::kViolation;
    result.key = std::string(key);
    std::string note;
    std::vector<const Operation*> core;
    if (key_ops.size() <= options.minimize_ops_max) {
      core = Minimize(key_ops, &steps_left, options.cache_entries_max);
      note = fmt::format(": these {} operations admit no linearization", core.size());
    } else {
      // Too many to shrink: show the op that could not be linearized and those overlapping it.
      const Operation* blocked = o.blocked;
      for (const Operation* op : key_ops) {
        bool before_blocked_done = op->invoke_time <= blocked->complete_time;
        bool done_after_blocked_start =
            op->outcome != OpOutcome::kOk || op->complete_time >= blocked->invoke_time;
        if (before_blocked_done && done_after_blocked_start) core.push_back(op);
      }
      note = fmt::format(": no linearization reaches the completion of {} (overlapping ops shown)",
                         DescribeOperation(*blocked));
    }
    for (const Operation* op : core) result.ops.push_back(*op);
    result.explanation = Explain(Verdict::kViolation, result.key, result.ops, note);
    result.steps = options.steps_max - steps_left;
    return result;
  }
  result.steps = options.steps_max - steps_left;
  if (have_unknown) {
    result.verdict = Verdict::kUnknown;
    result.explanation = fmt::format("unknown: the search budget ran out on key '{}'", result.key);
  } else {
    result.explanation = fmt::format("ok: {} keys linearizable", result.keys_checked);
  }
  return result;
}

}  // namespace nds::sim
