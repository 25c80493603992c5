// The one-node RaftNode: client writes become log entries (Envelope), the raft loop makes them
// durable in the Wal and applies committed entries to the engine with a BatchApplier.
#include "node/raft_node.h"

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "node/raft_codec.h"
#include "store/command.h"

namespace nds::node {
namespace {

Role ToNodeRole(raft::Role r) {
  switch (r) {
    case raft::Role::kLeader:
      return Role::kLeader;
    case raft::Role::kCandidate:
    case raft::Role::kPreCandidate:
      return Role::kCandidate;
    case raft::Role::kFollower:
      return Role::kFollower;
  }
  return Role::kFollower;
}

// Storage failures other than a full disk cannot be retried safely (STYLE.md §3): stop.
[[noreturn]] void DieOnStorage(std::string_view what, const Status& s) {
  spdlog::critical("{}: {}; stopping", what, s.ToString());
  std::_Exit(70);
}

}  // namespace

Result<std::unique_ptr<RaftNode>> RaftNode::Open(std::unique_ptr<engine::Engine> engine,
                                                 RaftNodeOptions options) {
  NDS_ASSIGN_OR_RETURN(auto wal, wal::Wal::Open(DefaultFileSystem(), options.data_dir,
                                                wal::WalOptions::FromLimits(options.limits)));
  auto node = std::unique_ptr<RaftNode>(
      new RaftNode(std::move(engine), std::move(wal), std::move(options)));
  const Limits& l = node->options_.limits;
  raft::Config cfg;
  cfg.id = NodeId{node->options_.id};
  int64_t tick_ms = std::max<int64_t>(1, l.heartbeat_interval.count());
  cfg.election_ticks = static_cast<int>(std::max<int64_t>(2, l.election_timeout.count() / tick_ms));
  cfg.heartbeat_ticks = 1;
  cfg.lease_ticks = static_cast<int>(l.lease_duration.count() / tick_ms);
  cfg.applied = node->engine_->AppliedIndex();
  cfg.storage = node->wal_.get();
  cfg.seed = node->options_.id;
  NDS_ASSIGN_OR_RETURN(node->raw_, raft::RawNode::Create(cfg));
  if (node->wal_->LastIndex().value == 0) {
    NDS_RETURN_IF_ERROR(node->raw_->Bootstrap({NodeId{node->options_.id}}));
  }
  {
    std::lock_guard lock(node->mu_);
    node->status_.id = node->options_.id;
    node->status_.name = node->options_.name;
    node->status_.cluster_id = node->options_.cluster_id;
    node->status_.engine = std::string(node->engine_->Name());
    node->status_.applied_index = node->engine_->AppliedIndex().value;
  }
  // Apply the bootstrap configuration first (Campaign ignores a node with unapplied conf
  // changes), then campaign: a lone voter wins at once rather than after an election timeout.
  node->HandleReady();
  node->raw_->Campaign();
  node->HandleReady();
  node->last_tick_ = std::chrono::steady_clock::now();
  node->loop_thread_ = std::thread([n = node.get()] { n->Loop(); });
  return node;
}

RaftNode::RaftNode(std::unique_ptr<engine::Engine> engine, std::unique_ptr<wal::Wal> wal,
                   RaftNodeOptions options)
    : engine_(std::move(engine)), wal_(std::move(wal)), options_(std::move(options)) {}

RaftNode::~RaftNode() { Stop(); }

void RaftNode::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (loop_thread_.joinable()) loop_thread_.join();
}

void RaftNode::Submit(store::Command cmd, SubmitCallback done) {
  Status refused;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      refused = Unavailable("the node is shutting down");
    } else if (writes_.size() >= options_.limits.proposals_in_flight_max) {
      refused = Unavailable("too many writes in flight (--max-proposals-in-flight=" +
                            std::to_string(options_.limits.proposals_in_flight_max) + ")");
    } else {
      Envelope e;
      e.origin = options_.id;
      e.request_id = next_request_id_++;
      store::EncodeCommand(cmd, &e.command);
      writes_.emplace(e.request_id,
                      PendingWrite{std::move(done), std::chrono::steady_clock::now() +
                                                        options_.limits.request_timeout});
      proposals_.push_back(Proposal{e.request_id, EncodeEnvelope(e)});
    }
  }
  if (!refused.ok()) {
    store::ApplyResult r;
    r.status = refused;
    done(std::move(r));
    return;
  }
  wake_.notify_one();
}

void RaftNode::WaitForReadPoint(ReadCallback done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && new_reads_.size() < options_.limits.proposals_in_flight_max) {
      new_reads_.push_back(PendingRead{
          std::move(done), std::chrono::steady_clock::now() + options_.limits.request_timeout});
      done = nullptr;
    }
  }
  if (done) {
    done(ResourceExhausted("too many reads wait for a read point"));
    return;
  }
  wake_.notify_one();
}

void RaftNode::Loop() {
  const auto tick = std::max(std::chrono::milliseconds(1), options_.limits.heartbeat_interval);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait_until(lock, last_tick_ + tick,
                       [&] { return stopping_ || !proposals_.empty() || !new_reads_.empty(); });
      if (stopping_) break;
    }
    Step(std::chrono::steady_clock::now());
  }
  FailAll(Unavailable("the node is shutting down"));
}

void RaftNode::Step(std::chrono::steady_clock::time_point now) {
  const auto tick = std::max(std::chrono::milliseconds(1), options_.limits.heartbeat_interval);
  // Catch up every tick missed (a paused process must not believe it still holds a lease).
  int ticks = 0;
  while (now - last_tick_ >= tick && ticks < 1'000'000) {
    raw_->Tick();
    last_tick_ += tick;
    ++ticks;
  }
  if (now - last_tick_ >= tick) last_tick_ = now;

  std::deque<Proposal> proposals;
  std::deque<PendingRead> reads;
  {
    std::lock_guard lock(mu_);
    proposals.swap(proposals_);
    reads.swap(new_reads_);
  }
  // Proposals held while no leader was known are retried first, in their order.
  for (auto& p : proposals) held_.push_back(std::move(p));
  proposals.swap(held_);
  held_.clear();
  for (auto& p : proposals) {
    std::string envelope = p.envelope;
    Status s = raw_->Propose(std::move(envelope));
    if (s.code() == StatusCode::kNotLeader && s.message() == "leader=0") {
      // An election is under way: hold the write until a leader exists or its deadline passes.
      held_.push_back(std::move(p));
      continue;
    }
    if (!s.ok()) {
      SubmitCallback done;
      {
        std::lock_guard lock(mu_);
        auto it = writes_.find(p.request_id);
        if (it == writes_.end()) continue;
        done = std::move(it->second.done);
        writes_.erase(it);
      }
      store::ApplyResult r;
      r.status = Unavailable("no leader could take the write: " + s.ToString());
      done(std::move(r));
    }
  }
  if (!reads.empty()) {
    uint64_t seq = ++read_seq_;
    Status s = raw_->ReadIndex(std::to_string(seq));
    if (s.ok()) {
      reads_in_flight_[seq] = std::move(reads);
    } else {
      // No read point now (no leader yet, or no entry of its term committed): retry next pass.
      std::lock_guard lock(mu_);
      for (auto& r : reads) new_reads_.push_back(std::move(r));
    }
  }
  HandleReady();
  ExpireDeadlines(now);
}

void RaftNode::HandleReady() {
  for (int rounds = 0; raw_->HasReady() && rounds < 64; ++rounds) {
    raft::Ready rd = raw_->GetReady();
    if (!rd.entries.empty() || rd.hard_state) {
      Status s = wal_->Save(rd.hard_state.value_or(raft::HardState{}), rd.entries);
      if (!s.ok()) DieOnStorage("cannot save the Raft log", s);
    }
    // One node: no peers to send messages to.
    ApplyCommitted(rd.committed_entries);
    for (const auto& rs : rd.read_states) {
      uint64_t seq = std::strtoull(rs.context.c_str(), nullptr, 10);
      auto it = reads_in_flight_.find(seq);
      if (it == reads_in_flight_.end()) continue;
      reads_ready_.emplace_back(rs.index.value, std::move(it->second));
      reads_in_flight_.erase(it);
    }
    raw_->Advance(rd);
  }
  uint64_t applied = engine_->AppliedIndex().value;
  while (!reads_ready_.empty() && reads_ready_.front().first <= applied) {
    for (auto& r : reads_ready_.front().second) r.done(Status::Ok());
    reads_ready_.pop_front();
  }
  raft::BasicStatus bs = raw_->GetStatus();
  std::lock_guard lock(mu_);
  status_.role = ToNodeRole(bs.role);
  status_.term = bs.term.value;
  status_.leader_id = bs.leader.value;
  status_.commit_index = bs.commit.value;
  status_.applied_index = applied;
  status_.has_lease = bs.role == raft::Role::kLeader && raw_->HasLeaderLease();
  status_.ready = bs.leader.value != 0 && applied >= bs.commit.value;
}

void RaftNode::ApplyCommitted(const std::vector<raft::Entry>& entries) {
  if (entries.empty()) return;
  store::BatchApplier applier(engine_.get());
  std::vector<std::pair<uint64_t, store::ApplyResult>> mine;
  LogIndex applied = engine_->AppliedIndex();
  for (const auto& e : entries) {
    if (e.index <= applied) continue;
    if (e.type != raft::EntryType::kNormal || e.data.empty()) {
      applier.Skip(e.index);
      continue;
    }
    auto env = DecodeEnvelope(e.data);
    Result<store::Command> cmd =
        env.ok() ? store::DecodeCommand(env->command) : Result<store::Command>(env.status());
    if (!cmd.ok()) {
      // A committed entry every replica sees alike: skip it the same way everywhere.
      spdlog::error("skipping undecodable log entry {}: {}", e.index.value,
                    cmd.status().ToString());
      applier.Skip(e.index);
      continue;
    }
    store::ApplyResult r = applier.Apply(*cmd, e.index);
    if (env->origin == options_.id) mine.emplace_back(env->request_id, std::move(r));
  }
  Status s = applier.Commit(engine_.get(), /*sync=*/true);
  if (!s.ok()) DieOnStorage("cannot apply committed entries", s);
  for (auto& [id, r] : mine) {
    SubmitCallback done;
    {
      std::lock_guard lock(mu_);
      auto it = writes_.find(id);
      if (it == writes_.end()) continue;  // already answered (timed out)
      done = std::move(it->second.done);
      writes_.erase(it);
    }
    done(std::move(r));
  }
}

void RaftNode::ExpireDeadlines(std::chrono::steady_clock::time_point now) {
  std::vector<SubmitCallback> expired;
  std::vector<ReadCallback> expired_reads;
  {
    std::lock_guard lock(mu_);
    for (auto it = writes_.begin(); it != writes_.end();) {
      if (now >= it->second.deadline) {
        expired.push_back(std::move(it->second.done));
        it = writes_.erase(it);
      } else {
        ++it;
      }
    }
    std::erase_if(held_, [&](const Proposal& p) { return !writes_.contains(p.request_id); });
    std::erase_if(new_reads_, [&](PendingRead& r) {
      if (now < r.deadline) return false;
      expired_reads.push_back(std::move(r.done));
      return true;
    });
  }
  for (auto& d : expired) {
    store::ApplyResult r;
    r.status = Unavailable("the write did not commit within --request-timeout-ms");
    d(std::move(r));
  }
  for (auto& d : expired_reads) d(Unavailable("no read point within --request-timeout-ms"));
}

void RaftNode::FailAll(const Status& s) {
  std::map<uint64_t, PendingWrite> writes;
  std::deque<PendingRead> reads;
  {
    std::lock_guard lock(mu_);
    writes.swap(writes_);
    reads.swap(new_reads_);
    proposals_.clear();
  }
  for (auto& [id, w] : writes) {
    store::ApplyResult r;
    r.status = s;
    w.done(std::move(r));
  }
  for (auto& r : reads) r.done(s);
  for (auto& [seq, rs] : reads_in_flight_)
    for (auto& r : rs) r.done(s);
  reads_in_flight_.clear();
  for (auto& [idx, rs] : reads_ready_)
    for (auto& r : rs) r.done(s);
  reads_ready_.clear();
}

NodeStatus RaftNode::GetStatus() const {
  std::lock_guard lock(mu_);
  return status_;
}

std::vector<MemberInfo> RaftNode::Members() const {
  MemberInfo m;
  m.id = options_.id;
  m.name = options_.name;
  m.peer_address = options_.peer_address;
  m.api_address = options_.api_address;
  return {m};
}

}  // namespace nds::node
