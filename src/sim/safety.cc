// The simulator's Raft safety checkers (see safety.h).
#include "sim/safety.h"

#include <fmt/format.h>

#include "raft/messages.h"

namespace nds::sim {

namespace {

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

}  // namespace

uint64_t SafetyChecker::HashEntry(const raft::Entry& e) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the data, then mixed with term and type
  for (unsigned char c : e.data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return Mix(h ^ Mix(e.term.value * 4 + static_cast<uint64_t>(e.type)));
}

LogIndex SafetyChecker::LastIndex(NodeId node) const {
  auto it = logs_.find(node);
  return it == logs_.end() ? LogIndex(0) : LogIndex(it->second.slots.size());
}

Status SafetyChecker::AppendSlot(NodeId node, NodeLog* log, const raft::Entry& e) {
  if (e.index.value != log->slots.size() + 1) {
    return Corruption(fmt::format("node {} appended index {} after last index {}", node, e.index,
                                  log->slots.size()));
  }
  Slot slot;
  slot.term = e.term;
  slot.hash = HashEntry(e);
  uint64_t prev = log->slots.empty() ? 0 : log->slots.back().prefix;
  if (!log->slots.empty() && log->slots.back().term > e.term) {
    return Corruption(fmt::format("node {}: entry {} has term {} below its predecessor's {}", node,
                                  e.index, e.term, log->slots.back().term));
  }
  slot.prefix = Mix(prev * 31 + slot.hash);
  auto [it, inserted] = prefixes_.emplace(std::make_pair(e.index.value, e.term.value), slot.prefix);
  if (!inserted && it->second != slot.prefix) {
    return Corruption(fmt::format(
        "log matching violated: node {} holds entry {} of term {} whose log prefix differs from "
        "another node's entry of the same index and term",
        node, e.index, e.term));
  }
  // No check against committed_ here: a node cut off with an old leader may legally append an
  // entry of an old term at an index committed elsewhere. What must hold is that nobody commits
  // it (OnCommit) and that a node never truncates below its own commit index (OnAppend).
  log->slots.push_back(slot);
  return Status::Ok();
}

Status SafetyChecker::OnAppend(NodeId node, const std::vector<raft::Entry>& entries) {
  if (entries.empty()) return Status::Ok();
  NodeLog& log = logs_[node];
  uint64_t first = entries.front().index.value;
  if (first == 0 || first > log.slots.size() + 1) {
    return Corruption(fmt::format("node {} appended at {} leaving a gap after {}", node, first,
                                  log.slots.size()));
  }
  if (first <= log.commit_checked.value) {
    return Corruption(fmt::format("node {} truncated its log at {} below its commit index {}", node,
                                  first, log.commit_checked));
  }
  log.slots.resize(first - 1);
  for (const raft::Entry& e : entries) NDS_RETURN_IF_ERROR(AppendSlot(node, &log, e));
  return Status::Ok();
}

Status SafetyChecker::OnRestart(NodeId node, const std::vector<raft::Entry>& entries) {
  NodeLog& log = logs_[node];
  log = NodeLog{};
  for (const raft::Entry& e : entries) NDS_RETURN_IF_ERROR(AppendSlot(node, &log, e));
  return Status::Ok();
}

Status SafetyChecker::OnCommit(NodeId node, Term term, LogIndex commit) {
  NodeLog& log = logs_[node];
  if (commit.value > log.slots.size()) {
    return Corruption(fmt::format("node {} commit index {} beyond its last index {}", node, commit,
                                  log.slots.size()));
  }
  for (uint64_t i = log.commit_checked.value + 1; i <= commit.value; ++i) {
    const Slot& slot = log.slots[i - 1];
    if (i <= committed_.size()) {
      Committed& c = committed_[i - 1];
      if (c.hash != slot.hash) {
        return Corruption(fmt::format(
            "node {} committed a different entry at index {} than another node did", node, i));
      }
      if (term < c.observed_term) c.observed_term = term;
    } else {
      committed_.push_back(Committed{slot.hash, term});
    }
  }
  if (commit > log.commit_checked) log.commit_checked = commit;
  return Status::Ok();
}

Status SafetyChecker::OnApply(NodeId node, const raft::Entry& entry) {
  NodeLog& log = logs_[node];
  if (entry.index != log.applied.Next()) {
    return Corruption(
        fmt::format("node {} applied index {} after {}", node, entry.index, log.applied));
  }
  uint64_t h = HashEntry(entry);
  if (entry.index.value <= applied_.size()) {
    if (applied_[entry.index.value - 1] != h) {
      return Corruption(fmt::format(
          "state machine safety violated: node {} applied {} where another node applied a "
          "different entry",
          node, raft::ToString(entry)));
    }
  } else {
    applied_.push_back(h);
  }
  if (entry.index.value > committed_.size() || committed_[entry.index.value - 1].hash != h) {
    return Corruption(fmt::format("node {} applied {} which no node reported committed", node,
                                  raft::ToString(entry)));
  }
  log.applied = entry.index;
  return Status::Ok();
}

Status SafetyChecker::OnLeader(NodeId node, Term term) {
  auto [it, inserted] = leaders_.emplace(term, node);
  if (!inserted && it->second != node) {
    return Corruption(
        fmt::format("election safety violated: nodes {} and {} both leader in term {}", it->second,
                    node, term));
  }
  if (!completeness_checked_.insert({node, term}).second) return Status::Ok();
  const NodeLog& log = logs_[node];
  for (size_t k = 0; k < committed_.size(); ++k) {
    if (committed_[k].observed_term >= term) continue;
    if (k >= log.slots.size() || log.slots[k].hash != committed_[k].hash) {
      return Corruption(fmt::format(
          "leader completeness violated: leader {} of term {} lacks entry {} committed in term {}",
          node, term, k + 1, committed_[k].observed_term));
    }
  }
  return Status::Ok();
}

Status SafetyChecker::CheckLeases(const std::vector<NodeId>& holders) const {
  if (holders.size() <= 1) return Status::Ok();
  std::string ids;
  for (NodeId id : holders) ids += fmt::format(" {}", id);
  return Corruption(fmt::format("{} nodes hold a leader lease at once:{}", holders.size(), ids));
}

}  // namespace nds::sim
