// The watch workload's analysis (see watch_check.h).
#include "check/watch_check.h"

#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace nds::check {
namespace {

using ChangeId = std::pair<uint64_t, std::string>;  // revision, key

std::string Describe(const WatchedChange& c) {
  return fmt::format("revision {} {} '{}'", c.revision, c.deleted ? "delete" : "put", c.key);
}

// Checks the order and uniqueness of one watcher's events; returns them by (revision, key).
std::map<ChangeId, const WatchedChange*> CheckOrder(const WatcherLog& w, ProblemList& problems) {
  std::map<ChangeId, const WatchedChange*> seen;
  uint64_t last = w.from;
  for (const WatchedChange& c : w.events) {
    if (c.revision <= w.from) {
      problems.Add(fmt::format("watcher {} got {}, not after its start revision {}", w.id,
                               Describe(c), w.from));
    }
    if (c.revision < last) {
      problems.Add(fmt::format("watcher {} got {} after revision {}: out of order", w.id,
                               Describe(c), last));
    }
    last = std::max(last, c.revision);
    if (!seen.emplace(ChangeId{c.revision, c.key}, &c).second) {
      problems.Add(fmt::format("watcher {} got {} twice", w.id, Describe(c)));
    }
  }
  return seen;
}

}  // namespace

WorkloadFindings CheckWatchHistory(const WatchHistory& h, size_t problems_max) {
  WorkloadFindings f;
  f.name = "watch";
  ProblemList problems(&f.problems, problems_max);
  std::set<std::string> attempted(h.attempted_values.begin(), h.attempted_values.end());

  // The truth: every change some watcher saw or a writer had acknowledged, by (revision, key).
  std::map<ChangeId, WatchedChange> truth;
  auto add_truth = [&](const WatchedChange& c, std::string_view source) {
    auto [it, fresh] = truth.emplace(ChangeId{c.revision, c.key}, c);
    if (!fresh && (it->second.value != c.value || it->second.deleted != c.deleted)) {
      problems.Add(fmt::format("{} says {} holds '{}', another source '{}'", source, Describe(c),
                               c.value, it->second.value));
    }
  };
  for (const WatchedChange& c : h.acknowledged) add_truth(c, "an acknowledged write");
  uint64_t events = 0, resumes = 0, compactions = 0;
  std::vector<std::map<ChangeId, const WatchedChange*>> seen_by;
  for (const WatcherLog& w : h.watchers) {
    seen_by.push_back(CheckOrder(w, problems));
    for (const WatchedChange& c : w.events) {
      add_truth(c, fmt::format("watcher {}", w.id));
      if (!c.deleted && !attempted.count(c.value)) {
        problems.Add(fmt::format("watcher {} got {} with value '{}', which no writer sent", w.id,
                                 Describe(c), c.value));
      }
    }
    events += w.events.size();
    resumes += w.resumes;
  }

  for (size_t i = 0; i < h.watchers.size(); ++i) {
    const WatcherLog& w = h.watchers[i];
    if (w.compacted) {
      ++compactions;
      f.notes.push_back(fmt::format(
          "watcher {} stopped at revision {}: the history was compacted to revision {} (reported "
          "by the watch, not skipped)",
          w.id, w.reached, *w.compacted));
    } else if (h.final_revision > 0 && w.reached < h.final_revision) {
      problems.Add(fmt::format("watcher {} reached revision {} only, not the last write's {}", w.id,
                               w.reached, h.final_revision));
    }
    uint64_t missed = 0;
    for (const auto& [id, change] : truth) {
      if (id.first <= w.from || id.first > w.reached) continue;
      ++f.checked;
      if (seen_by[i].count(id)) continue;
      if (++missed <= 5) problems.Add(fmt::format("watcher {} missed {}", w.id, Describe(change)));
    }
    if (missed > 5) problems.Add(fmt::format("watcher {} missed {} changes in all", w.id, missed));
  }
  f.counts = {{"acknowledged_writes", h.acknowledged.size()},
              {"changes", truth.size()},
              {"watchers", h.watchers.size()},
              {"events", events},
              {"resumes", resumes},
              {"compactions", compactions},
              {"final_revision", h.final_revision}};
  problems.Finish();
  return f;
}

}  // namespace nds::check
