// Goal: the linearizability checker accepts exactly the linearizable register histories, treats
// indeterminate operations as "any time after invocation, or never", reports a small core of
// operations for a violation, and says "unknown" instead of running forever.
// Method: hand-written histories for each classic anomaly (stale read, lost write, cas double
// success, read of a value never written); random histories generated from a sequential register
// (must pass) and the same histories mutated so that they must fail; and a property test comparing
// the checker with a deliberately naive brute-force search over all orders on small random
// histories. The History recorder and its text form are tested at the end.
#include "sim/linearizability.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/history.h"

namespace nds::sim {
namespace {

using Opt = std::optional<std::string>;

Operation W(uint64_t c, std::string key, Opt v, uint64_t t0, uint64_t t1,
            OpOutcome outcome = OpOutcome::kOk) {
  Operation op;
  op.client_id = c;
  op.kind = OpKind::kWrite;
  op.key = std::move(key);
  op.value = std::move(v);
  op.invoke_time = t0;
  op.complete_time = t1;
  op.outcome = outcome;
  return op;
}

Operation R(uint64_t c, std::string key, Opt observed, uint64_t t0, uint64_t t1,
            OpOutcome outcome = OpOutcome::kOk) {
  Operation op = W(c, std::move(key), std::move(observed), t0, t1, outcome);
  op.kind = OpKind::kRead;
  return op;
}

Operation Cas(uint64_t c, std::string key, Opt expected, Opt v, bool swapped, uint64_t t0,
              uint64_t t1, OpOutcome outcome = OpOutcome::kOk) {
  Operation op = W(c, std::move(key), std::move(v), t0, t1, outcome);
  op.kind = OpKind::kCas;
  op.expected = std::move(expected);
  op.cas_swapped = swapped;
  return op;
}

Verdict Check(const std::vector<Operation>& ops, CheckOptions options = {}) {
  Result<CheckResult> r = CheckLinearizable(ops, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return Verdict::kUnknown;
  return r->verdict;
}

TEST(Linearizability, EmptyHistoryIsLinearizable) { EXPECT_EQ(Check({}), Verdict::kOk); }

TEST(Linearizability, SequentialWriteThenReadIsLinearizable) {
  EXPECT_EQ(Check({W(1, "k", "a", 0, 1), R(2, "k", "a", 2, 3)}), Verdict::kOk);
}

TEST(Linearizability, ReadOfAbsentKeyBeforeAnyWriteIsLinearizable) {
  EXPECT_EQ(Check({R(1, "k", std::nullopt, 0, 1), W(1, "k", "a", 2, 3)}), Verdict::kOk);
}

TEST(Linearizability, StaleReadIsAViolation) {
  std::vector<Operation> h = {W(1, "k", "a", 0, 1), W(1, "k", "b", 2, 3), R(2, "k", "a", 4, 5)};
  Result<CheckResult> r = CheckLinearizable(h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kViolation);
  EXPECT_EQ(r->key, "k");
  EXPECT_EQ(r->ops.size(), 3u);
  EXPECT_NE(r->explanation.find("read(k)='a'"), std::string::npos) << r->explanation;
}

TEST(Linearizability, LostWriteIsAViolation) {
  EXPECT_EQ(Check({W(1, "k", "a", 0, 1), R(2, "k", std::nullopt, 2, 3)}), Verdict::kViolation);
}

TEST(Linearizability, ReadOfAValueNeverWrittenIsAViolation) {
  EXPECT_EQ(Check({W(1, "k", "a", 0, 10), R(2, "k", "z", 2, 3)}), Verdict::kViolation);
}

TEST(Linearizability, CasDoubleSuccessIsAViolation) {
  std::vector<Operation> h = {W(1, "k", "0", 0, 1), Cas(2, "k", "0", "1", true, 2, 10),
                              Cas(3, "k", "0", "2", true, 3, 11)};
  EXPECT_EQ(Check(h), Verdict::kViolation);
  // With a write of "0" in between that overlaps both, it becomes possible.
  h.push_back(W(4, "k", "0", 4, 9));
  EXPECT_EQ(Check(h), Verdict::kOk);
}

TEST(Linearizability, CasMismatchMustObserveADifferentValue) {
  EXPECT_EQ(Check({W(1, "k", "0", 0, 1), Cas(2, "k", "0", "1", false, 2, 3)}), Verdict::kViolation);
  EXPECT_EQ(Check({W(1, "k", "5", 0, 1), Cas(2, "k", "0", "1", false, 2, 3)}), Verdict::kOk);
  EXPECT_EQ(Check({Cas(2, "k", std::nullopt, "1", true, 0, 1), R(1, "k", "1", 2, 3)}),
            Verdict::kOk);
}

TEST(Linearizability, ConcurrentReadMaySeeOldOrNewValue) {
  std::vector<Operation> base = {W(1, "k", "a", 0, 1), W(1, "k", "b", 2, 10)};
  for (const char* seen : {"a", "b"}) {
    std::vector<Operation> h = base;
    h.push_back(R(2, "k", seen, 3, 4));
    EXPECT_EQ(Check(h), Verdict::kOk) << seen;
  }
  // But two sequential reads inside the write may not go back from new to old.
  std::vector<Operation> h = base;
  h.push_back(R(2, "k", "b", 3, 4));
  h.push_back(R(2, "k", "a", 5, 6));
  EXPECT_EQ(Check(h), Verdict::kViolation);
}

TEST(Linearizability, InvocationAndCompletionAtTheSameTimeOverlap) {
  // Strict real time would forbid this (write done at 5, read begun at 5 sees old value); the
  // checker does not invent that order.
  EXPECT_EQ(Check({W(1, "k", "a", 0, 1), W(1, "k", "b", 2, 5), R(2, "k", "a", 5, 6)}),
            Verdict::kOk);
  EXPECT_EQ(Check({W(1, "k", "a", 0, 1), W(1, "k", "b", 2, 5), R(2, "k", "a", 6, 7)}),
            Verdict::kViolation);
}

TEST(Linearizability, IndeterminateWriteMayTakeEffectLongAfterItsTimeout) {
  std::vector<Operation> h = {W(1, "k", "a", 0, 2, OpOutcome::kIndeterminate),
                              R(2, "k", std::nullopt, 10, 11), R(2, "k", "a", 20, 21)};
  EXPECT_EQ(Check(h), Verdict::kOk);
}

TEST(Linearizability, IndeterminateWriteMayNeverTakeEffect) {
  EXPECT_EQ(
      Check({W(1, "k", "a", 0, 2, OpOutcome::kIndeterminate), R(2, "k", std::nullopt, 10, 11)}),
      Verdict::kOk);
  EXPECT_EQ(Check({W(1, "k", "a", 0, 0, OpOutcome::kPending), R(2, "k", std::nullopt, 10, 11)}),
            Verdict::kOk);
}

TEST(Linearizability, IndeterminateWriteCannotTakeEffectBeforeItsInvocation) {
  EXPECT_EQ(Check({R(2, "k", "a", 0, 1), W(1, "k", "a", 5, 6, OpOutcome::kIndeterminate)}),
            Verdict::kViolation);
}

TEST(Linearizability, IndeterminateWriteTakesEffectAtMostOnce) {
  std::vector<Operation> h = {W(1, "k", "a", 0, 1, OpOutcome::kIndeterminate),
                              R(2, "k", "a", 10, 11), W(3, "k", "b", 12, 13),
                              R(2, "k", "a", 14, 15)};
  EXPECT_EQ(Check(h), Verdict::kViolation);
}

TEST(Linearizability, IndeterminateCasSwapsOnlyFromItsExpectedValue) {
  std::vector<Operation> h = {W(1, "k", "x", 0, 1),
                              Cas(2, "k", "0", "1", false, 2, 3, OpOutcome::kIndeterminate),
                              R(3, "k", "1", 10, 11)};
  EXPECT_EQ(Check(h), Verdict::kViolation);
  h[0].value = "0";
  EXPECT_EQ(Check(h), Verdict::kOk);
}

TEST(Linearizability, FailedOperationsAndUnansweredReadsAreIgnored) {
  EXPECT_EQ(Check({W(1, "k", "a", 0, 1, OpOutcome::kFailed), R(2, "k", std::nullopt, 2, 3),
                   R(2, "k", "zz", 4, 5, OpOutcome::kIndeterminate)}),
            Verdict::kOk);
}

TEST(Linearizability, KeysAreIndependent) {
  // Each key alone is fine; "a" on key x says nothing about key y.
  EXPECT_EQ(Check({W(1, "x", "a", 0, 1), R(2, "y", std::nullopt, 2, 3), R(2, "x", "a", 4, 5)}),
            Verdict::kOk);
  Result<CheckResult> r = CheckLinearizable(
      {W(1, "x", "a", 0, 1), W(1, "y", "b", 0, 1), R(2, "y", std::nullopt, 2, 3)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kViolation);
  EXPECT_EQ(r->key, "y");
}

TEST(Linearizability, CompletionBeforeInvocationIsInvalidInput) {
  Result<CheckResult> r = CheckLinearizable({W(1, "k", "a", 5, 4)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(Linearizability, ViolationIsShrunkToTheOperationsThatMatter) {
  std::vector<Operation> h;
  uint64_t t = 0;
  for (int i = 0; i < 30; ++i) {
    h.push_back(W(1, "k", std::to_string(i), t, t + 1));
    h.push_back(R(2, "k", std::to_string(i), t + 2, t + 3));
    t += 4;
  }
  h.push_back(R(3, "k", "3", t, t + 1));  // stale: "29" was written since
  Result<CheckResult> r = CheckLinearizable(h);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->verdict, Verdict::kViolation);
  // The core is the stale read, the write it saw, and one later write that hides it.
  EXPECT_EQ(r->ops.size(), 3u) << r->explanation;
  EXPECT_EQ(r->ops.back(), h.back());
}

TEST(Linearizability, ExhaustedBudgetGivesUnknownNotAVerdict) {
  // Many fully concurrent writes and reads: a large search space.
  std::vector<Operation> h;
  for (int i = 0; i < 40; ++i) {
    h.push_back(W(i, "k", std::to_string(i), 0, 100));
    h.push_back(R(100 + i, "k", std::to_string((i * 7) % 40), 0, 100));
  }
  h.push_back(R(999, "k", "never", 0, 100));
  CheckOptions options;
  options.steps_max = 1000;
  Result<CheckResult> r = CheckLinearizable(h, options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUnknown);
  EXPECT_EQ(r->key, "k");
}

TEST(Linearizability, ManyUnobservedIndeterminateWritesStayCheap) {
  // Sixty timed-out writes of values nobody read: without pruning, 2^60 subsets to explore.
  std::vector<Operation> h;
  for (int i = 0; i < 60; ++i) {
    h.push_back(W(i, "k", "lost" + std::to_string(i), 2 * i, 2 * i + 1, OpOutcome::kIndeterminate));
    h.push_back(W(100, "k", std::to_string(i), 2 * i, 2 * i + 1));
    h.push_back(R(101, "k", std::to_string(i), 2 * i + 1, 2 * i + 1));
  }
  CheckOptions options;
  options.steps_max = 100'000;
  EXPECT_EQ(Check(h, options), Verdict::kOk);
  // One of them observed is still taken into account.
  h.push_back(R(102, "k", "lost7", 500, 501));
  EXPECT_EQ(Check(h, options), Verdict::kOk);
  h.push_back(W(103, "k", "x", 502, 503));
  h.push_back(R(102, "k", "lost7", 504, 505));  // lost7 cannot take effect twice
  EXPECT_EQ(Check(h, options), Verdict::kViolation);
}

// ---------------------------------------------------------------------------------------------
// Random histories.

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    s_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = s_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t s_;
};

// A history produced by a real sequential register: each op takes effect at a random instant
// inside its interval; results are what the register returned at that instant. Some ops are then
// marked indeterminate (their effect kept, or dropped as if never executed).
std::vector<Operation> LinearizableHistory(Rng& rng, size_t ops_count, size_t clients,
                                           size_t values, bool with_indeterminate = true) {
  struct Planned {
    Operation op;
    uint64_t point;  // linearization instant
    bool effect;
  };
  std::vector<Planned> planned;
  std::vector<uint64_t> client_free(clients, 0);
  for (size_t i = 0; i < ops_count; ++i) {
    size_t c = rng.Below(clients);
    uint64_t t0 = client_free[c] + rng.Below(5);
    uint64_t t1 = t0 + rng.Below(12);
    client_free[c] = t1 + 1;
    Operation op;
    op.client_id = c;
    op.key = "k";
    op.invoke_time = t0;
    op.complete_time = t1;
    op.outcome = OpOutcome::kOk;
    uint64_t kind = rng.Below(3);
    op.kind = kind == 0 ? OpKind::kRead : kind == 1 ? OpKind::kWrite : OpKind::kCas;
    if (op.kind != OpKind::kRead) {
      uint64_t v = rng.Below(values + 1);
      op.value = v == values ? Opt() : Opt(std::to_string(v));
    }
    if (op.kind == OpKind::kCas) {
      uint64_t v = rng.Below(values + 1);
      op.expected = v == values ? Opt() : Opt(std::to_string(v));
    }
    bool indeterminate = with_indeterminate && op.kind != OpKind::kRead && rng.Below(8) == 0;
    if (indeterminate) op.outcome = OpOutcome::kIndeterminate;
    // Distinct instants: 4 * time + a tie-breaker inside the interval.
    uint64_t point = 16 * (t0 + rng.Below(t1 - t0 + 1)) + 1 + rng.Below(14);
    if (indeterminate) point = 16 * (t0 + rng.Below(40)) + 1 + rng.Below(14);
    planned.push_back({op, point, !indeterminate || rng.Below(2) == 0});
  }
  std::stable_sort(planned.begin(), planned.end(),
                   [](const Planned& a, const Planned& b) { return a.point < b.point; });
  Opt state;
  std::vector<Operation> out;
  for (Planned& p : planned) {
    Operation& op = p.op;
    if (p.effect) {
      switch (op.kind) {
        case OpKind::kRead:
          op.value = state;
          break;
        case OpKind::kWrite:
          state = op.value;
          break;
        case OpKind::kCas:
          op.cas_swapped = state == op.expected;
          if (op.cas_swapped) state = op.value;
          break;
      }
    }
    out.push_back(op);
  }
  return out;
}

TEST(Linearizability, RandomHistoriesFromASequentialRegisterPass) {
  Rng rng(42);
  for (int round = 0; round < 300; ++round) {
    std::vector<Operation> h = LinearizableHistory(rng, 10 + rng.Below(60), 2 + rng.Below(5), 4);
    Result<CheckResult> r = CheckLinearizable(h);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->verdict, Verdict::kOk) << "round " << round << "\n" << r->explanation;
  }
}

TEST(Linearizability, RandomHistoriesWithAStaleReadAppendedFail) {
  Rng rng(7);
  for (int round = 0; round < 200; ++round) {
    // No indeterminate ops here: one of those could legitimately take effect after the end.
    std::vector<Operation> h =
        LinearizableHistory(rng, 10 + rng.Below(60), 2 + rng.Below(5), 4, false);
    uint64_t end = 0;
    for (const Operation& op : h) end = std::max(end, op.complete_time + 40);
    // After everything: write a fresh value, then read back an older one (or the fresh one with
    // a lost-write flavour: nothing).
    h.push_back(W(50, "k", "fresh", end + 1, end + 2));
    switch (rng.Below(3)) {
      case 0:
        h.push_back(R(51, "k", std::to_string(rng.Below(4)), end + 3, end + 4));
        break;
      case 1:
        h.push_back(R(51, "k", std::nullopt, end + 3, end + 4));
        break;
      default:
        h.push_back(Cas(51, "k", "fresh", "x", true, end + 3, end + 4));
        h.push_back(Cas(52, "k", "fresh", "y", true, end + 5, end + 6));
        break;
    }
    Result<CheckResult> r = CheckLinearizable(h);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->verdict, Verdict::kViolation) << "round " << round;
  }
}

// The naive reference: try every order of the operations that respects real time, with each
// indeterminate operation either placed or left out.
bool BruteForceLinearizable(const std::vector<Operation>& all) {
  std::vector<Operation> ops;
  for (const Operation& op : all) {
    if (op.outcome == OpOutcome::kFailed) continue;
    if (op.kind == OpKind::kRead && op.outcome != OpOutcome::kOk) continue;
    ops.push_back(op);
  }
  std::vector<bool> used(ops.size(), false);
  auto determinate = [](const Operation& op) { return op.outcome == OpOutcome::kOk; };
  auto search = [&](auto&& self, const Opt& state) -> bool {
    bool all_done = true;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (!used[i] && determinate(ops[i])) all_done = false;
    }
    if (all_done) return true;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (used[i]) continue;
      bool minimal = true;
      for (size_t j = 0; j < ops.size(); ++j) {
        if (!used[j] && j != i && determinate(ops[j]) &&
            ops[j].complete_time < ops[i].invoke_time) {
          minimal = false;
        }
      }
      if (!minimal) continue;
      const Operation& op = ops[i];
      Opt next = state;
      bool possible = true;
      if (op.kind == OpKind::kRead) {
        possible = op.value == state;
      } else if (op.kind == OpKind::kWrite) {
        next = op.value;
      } else if (!determinate(op) || op.cas_swapped) {
        possible = state == op.expected;
        next = op.value;
      } else {
        possible = state != op.expected;
      }
      if (!possible) continue;
      used[i] = true;
      bool ok = self(self, next);
      used[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return search(search, Opt());
}

TEST(Linearizability, AgreesWithBruteForceOnSmallRandomHistories) {
  Rng rng(2024);
  int violations = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<Operation> h;
    size_t n = 1 + rng.Below(7);
    for (size_t i = 0; i < n; ++i) {
      uint64_t t0 = rng.Below(10);
      uint64_t t1 = t0 + rng.Below(6);
      Opt v = rng.Below(4) == 0 ? Opt() : Opt(std::to_string(rng.Below(2)));
      Opt e = rng.Below(4) == 0 ? Opt() : Opt(std::to_string(rng.Below(2)));
      OpOutcome outcome = rng.Below(5) == 0 ? OpOutcome::kIndeterminate : OpOutcome::kOk;
      switch (rng.Below(3)) {
        case 0:
          h.push_back(R(i, "k", v, t0, t1, outcome));
          break;
        case 1:
          h.push_back(W(i, "k", v, t0, t1, outcome));
          break;
        default:
          h.push_back(Cas(i, "k", e, v, rng.Below(2) == 0, t0, t1, outcome));
          break;
      }
    }
    bool expected = BruteForceLinearizable(h);
    violations += expected ? 0 : 1;
    Result<CheckResult> r = CheckLinearizable(h);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->verdict, expected ? Verdict::kOk : Verdict::kViolation) << "round " << round;
    if (!expected) {
      // The reported core is itself a violation, and removing any one op either fixes it or
      // removes the only writer of a value that a remaining op observes.
      ASSERT_FALSE(BruteForceLinearizable(r->ops)) << "round " << round;
      for (size_t skip = 0; skip < r->ops.size(); ++skip) {
        std::vector<Operation> fewer = r->ops;
        fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(skip));
        const Operation& gone = r->ops[skip];
        bool sole_writer = false;
        if (gone.kind != OpKind::kRead && gone.value) {
          bool observed = false;
          bool other_writer = false;
          for (const Operation& op : fewer) {
            if (op.kind != OpKind::kRead && op.value == gone.value) other_writer = true;
            if (op.kind == OpKind::kRead && op.value == gone.value) observed = true;
            if (op.kind == OpKind::kCas && op.cas_swapped && op.expected == gone.value) {
              observed = true;
            }
          }
          sole_writer = observed && !other_writer;
        }
        if (sole_writer) continue;
        ASSERT_TRUE(BruteForceLinearizable(fewer)) << "round " << round << " skip " << skip;
      }
    }
  }
  // Both answers must be well represented for the comparison to mean something.
  EXPECT_GT(violations, 300);
  EXPECT_LT(violations, 2700);
}

// ---------------------------------------------------------------------------------------------
// History recorder.

TEST(History, RecordsInvocationAndCompletion) {
  History h;
  Operation op;
  op.client_id = 3;
  op.kind = OpKind::kRead;
  op.key = "k";
  Result<size_t> a = h.Invoke(op, 10);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(h.ops()[*a].outcome, OpOutcome::kPending);
  ASSERT_TRUE(h.CompleteOk(*a, 12, "v").ok());
  EXPECT_EQ(h.ops()[*a].value, Opt("v"));
  EXPECT_EQ(h.ops()[*a].complete_time, 12u);
  EXPECT_EQ(h.CompleteOk(*a, 13).code(), StatusCode::kInvalidArgument);  // already done
  EXPECT_EQ(h.CompleteFailed(99, 13).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(h.Invoke(op, 5).status().code(), StatusCode::kInvalidArgument);  // time went back
}

TEST(History, RefusesOperationsBeyondItsLimit) {
  History h(2);
  Operation op;
  ASSERT_TRUE(h.Invoke(op, 1).ok());
  ASSERT_TRUE(h.Invoke(op, 1).ok());
  EXPECT_EQ(h.Invoke(op, 1).status().code(), StatusCode::kResourceExhausted);
}

TEST(History, TextFormRoundTripsAnyBytes) {
  History h;
  Operation op;
  op.client_id = 7;
  op.kind = OpKind::kCas;
  op.key = std::string("k\0 \n", 4);
  op.value = "";
  op.expected = std::nullopt;
  size_t a = h.Invoke(op, 1).value();
  ASSERT_TRUE(h.CompleteOk(a, 2, std::nullopt, true).ok());
  op.kind = OpKind::kWrite;
  op.value = std::string("\xff\x00", 2);
  size_t b = h.Invoke(op, 3).value();
  ASSERT_TRUE(h.CompleteIndeterminate(b, 9).ok());
  Result<std::vector<Operation>> parsed = ParseHistory(h.ToText());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, h.ops());
}

TEST(History, MalformedTextIsRejectedWithItsLineNumber) {
  for (const char* bad :
       {"1 read x6b - - 0 1 2", "1 read x6b - - 0 1 2 ok extra", "1 jump x6b - - 0 1 2 ok",
        "1 read x6 - - 0 1 2 ok", "1 read x6b - - 2 1 2 ok", "1 read x6b - - 0 a 2 ok",
        "1 read x6b - - 0 1 2 maybe", "-1 read x6b - - 0 1 2 ok"}) {
    Result<std::vector<Operation>> r = ParseHistory(std::string("1 read x6b - - 0 1 2 ok\n") + bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(ParseHistory("1 read x6b - - 0 1 2 ok\n1 read x6b - - 0 1 2 ok\n", 1).status().code(),
            StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace nds::sim
