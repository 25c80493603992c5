// A tiny deterministic network of RawNodes over MemoryStorage, for raft_test and raft_bench only
// (not part of nds_raft's API). It plays the driver: persists each Ready, records applied
// entries and read states, queues messages FIFO, and delivers them unless a link is cut or a
// filter drops them. Not thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raft/memory_storage.h"
#include "raft/raw_node.h"
#include "util/check.h"

namespace nds::raft::testing {

// A message of `type` from node `from` to node `to` at `term`; a test sets any other field.
inline Message MakeMessage(MessageType type, uint64_t from, uint64_t to, Term term) {
  Message m;
  m.type = type;
  m.from = NodeId(from);
  m.to = NodeId(to);
  m.term = term;
  return m;
}

struct TestNode {
  std::unique_ptr<MemoryStorage> storage;
  std::unique_ptr<RawNode> node;
  std::vector<Entry> applied;  // every committed entry applied, in order
  std::vector<ReadState> read_states;
  std::vector<Message> sent;  // every message this node sent (for assertions)
};

class Network {
 public:
  using ConfigFn = std::function<void(Config*)>;

  // Nodes 1..voters are voters (and learners voters+1..voters+learners), all starting from a
  // snapshot at index 0 carrying that configuration. `fn` may tweak each Config.
  explicit Network(size_t voters, size_t learners = 0, ConfigFn fn = nullptr) : fn_(std::move(fn)) {
    ConfState cs;
    for (size_t i = 1; i <= voters; ++i) cs.voters.push_back(NodeId(i));
    for (size_t i = voters + 1; i <= voters + learners; ++i) cs.learners.push_back(NodeId(i));
    for (size_t i = 1; i <= voters + learners; ++i) AddNode(NodeId(i), cs);
  }

  // Adds a node with an empty log and configuration `cs` (empty for a node joining later).
  void AddNode(NodeId id, const ConfState& cs) {
    TestNode& t = nodes_[id];
    t.storage = std::make_unique<MemoryStorage>();
    NDS_CHECK(t.storage->ApplySnapshot(SnapshotMetadata{LogIndex(0), Term(0), cs}).ok());
    Restart(id);
  }

  // Rebuilds node `id` from its storage, as after a crash (unpersisted state is lost: there is
  // none, as every Ready is persisted before Advance).
  void Restart(NodeId id) {
    TestNode& t = nodes_.at(id);
    Config c;
    c.id = id;
    c.storage = t.storage.get();
    c.seed = id.value * 7919;
    c.applied = t.applied.empty() ? LogIndex(0) : t.applied.back().index;
    if (c.applied < t.storage->FirstIndex().Prev()) c.applied = t.storage->FirstIndex().Prev();
    if (fn_) fn_(&c);
    auto r = RawNode::Create(c);
    NDS_CHECK(r.ok(), "{}", r.status().ToString());
    t.node = std::move(r).value();
  }

  RawNode& node(NodeId id) { return *nodes_.at(id).node; }
  RawNode& node(uint64_t id) { return node(NodeId(id)); }
  TestNode& test_node(uint64_t id) { return nodes_.at(NodeId(id)); }
  MemoryStorage& storage(uint64_t id) { return *nodes_.at(NodeId(id)).storage; }
  std::map<NodeId, TestNode>& nodes() { return nodes_; }

  // Drains every Ready of node `id` like a driver: persist, queue messages, apply, Advance.
  void Process(NodeId id) {
    TestNode& t = nodes_.at(id);
    for (int guard = 0; guard < 1000 && t.node->HasReady(); ++guard) {
      Ready rd = t.node->GetReady();
      if (rd.snapshot) NDS_CHECK(t.storage->ApplySnapshot(*rd.snapshot).ok());
      NDS_CHECK(t.storage->Append(rd.entries).ok());
      if (rd.hard_state) t.storage->SetHardState(*rd.hard_state);
      for (Message& m : rd.messages) {
        t.sent.push_back(m);
        if (Cut(m.from, m.to) || (drop_ && drop_(m))) continue;
        queue_.push_back(std::move(m));
      }
      if (rd.snapshot) t.applied.clear();  // the state machine was replaced
      for (Entry& e : rd.committed_entries) t.applied.push_back(e);
      for (ReadState& s : rd.read_states) t.read_states.push_back(s);
      t.node->Advance(rd);
      Status inv = CheckInvariants(*t.node);
      NDS_CHECK(inv.ok(), "node {}: {}", id, inv.ToString());
    }
  }

  void ProcessAll() {
    for (auto& [id, t] : nodes_) Process(id);
  }

  // Delivers queued messages (those queued so far), returning them; a message to a node that
  // does not exist is dropped.
  std::vector<Message> DeliverAll() {
    std::deque<Message> batch;
    batch.swap(queue_);
    std::vector<Message> delivered;
    for (Message& m : batch) {
      auto it = nodes_.find(m.to);
      if (it == nodes_.end() || Cut(m.from, m.to)) continue;
      IgnoreError(it->second.node->Step(m), "test network: a bad message is dropped");
      delivered.push_back(std::move(m));
    }
    return delivered;
  }

  // Processes and delivers until quiet. Returns every message delivered.
  std::vector<Message> Stabilize() {
    std::vector<Message> all;
    for (int round = 0; round < 1000; ++round) {
      ProcessAll();
      if (queue_.empty()) return all;
      for (Message& m : DeliverAll()) all.push_back(std::move(m));
    }
    NDS_CHECK(false, "network did not stabilize");
    return all;
  }

  void Tick(uint64_t id, int n = 1) {
    for (int i = 0; i < n; ++i) node(id).Tick();
  }
  void TickAll(int n = 1) {
    for (int i = 0; i < n; ++i) {
      for (auto& [id, t] : nodes_) t.node->Tick();
    }
  }
  // Ticks every node and stabilizes after each tick.
  void TickAllAndStabilize(int n) {
    for (int i = 0; i < n; ++i) {
      TickAll();
      Stabilize();
    }
  }

  // Campaigns node `id` and stabilizes: with no faults it becomes leader.
  void Elect(uint64_t id) {
    node(id).Campaign();
    Stabilize();
  }

  void Isolate(uint64_t id) {
    for (auto& [other, t] : nodes_) {
      if (other.value != id) CutLink(id, other.value);
    }
  }
  void CutLink(uint64_t a, uint64_t b) {
    cut_.insert({a, b});
    cut_.insert({b, a});
  }
  // Splits the nodes into two sides that cannot talk.
  void Partition(const std::vector<uint64_t>& side) {
    std::set<uint64_t> s(side.begin(), side.end());
    for (auto& [a, ta] : nodes_) {
      for (auto& [b, tb] : nodes_) {
        if (s.contains(a.value) != s.contains(b.value)) cut_.insert({a.value, b.value});
      }
    }
  }
  void Heal() { cut_.clear(); }
  void SetDrop(std::function<bool(const Message&)> drop) { drop_ = std::move(drop); }
  void ClearQueue() { queue_.clear(); }
  std::deque<Message>& queue() { return queue_; }

  // The leader all nodes agree on, or 0.
  uint64_t Leader() {
    for (auto& [id, t] : nodes_) {
      if (t.node->GetStatus().role == Role::kLeader) return id.value;
    }
    return 0;
  }

 private:
  bool Cut(NodeId a, NodeId b) const { return cut_.contains({a.value, b.value}); }

  ConfigFn fn_;
  std::map<NodeId, TestNode> nodes_;
  std::deque<Message> queue_;
  std::set<std::pair<uint64_t, uint64_t>> cut_;
  std::function<bool(const Message&)> drop_;
};

}  // namespace nds::raft::testing
