// The analysis of the watch workload (docs/check.md "Workloads"): did every watcher see every
// acknowledged write exactly once, in revision order, without gaps?
//
// The truth is the acknowledged writes (their revision, key and value from the write's answer)
// together with every event any watcher saw (a write whose answer was lost may still have been
// applied, and then every watcher must see it too). Each watcher is checked against that truth
// over the revisions it covered, (from, reached]. A watcher stopped by a compaction is reported,
// not hidden; one that did not reach the run's last write is a problem.
//
// Pure functions: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "check/workload.h"

namespace nds::check {

struct WatchedChange {
  uint64_t revision = 0;
  std::string key;
  std::string value;
  bool deleted = false;
};

struct WatcherLog {
  size_t id = 0;
  uint64_t from = 0;     // the watch asked for the changes after this revision
  uint64_t reached = 0;  // it saw every change up to this revision (its events or a progress line)
  std::vector<WatchedChange> events;  // as delivered
  std::optional<uint64_t> compacted;  // it stopped: the history it needed was compacted to this
  size_t resumes = 0;                 // reconnections (the client's and the workload's)
};

struct WatchHistory {
  std::vector<WatchedChange> acknowledged;    // writes whose answer gave their revision
  std::vector<std::string> attempted_values;  // every value any writer sent (answered or not)
  std::vector<WatcherLog> watchers;
  uint64_t final_revision = 0;  // every watcher must reach it (0: unknown, not checked)
};

// Counts (acknowledged writes, events, watchers, resumes, compactions) and one problem per
// finding, at most `problems_max` (then a line saying how many more).
WorkloadFindings CheckWatchHistory(const WatchHistory& history, size_t problems_max = 50);

}  // namespace nds::check
