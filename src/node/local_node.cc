// The single-node implementation of Node: group commit on one apply thread.
#include "node/local_node.h"

#include <cstdlib>

#include <spdlog/spdlog.h>

namespace nds::node {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kLeader:
      return "leader";
    case Role::kFollower:
      return "follower";
    case Role::kCandidate:
      return "candidate";
    case Role::kLearner:
      return "learner";
  }
  return "unknown";
}

LocalNode::LocalNode(std::unique_ptr<engine::Engine> engine, LocalNodeOptions options)
    : engine_(std::move(engine)), options_(std::move(options)) {
  apply_thread_ = std::thread([this] { ApplyLoop(); });
}

LocalNode::~LocalNode() { Stop(); }

void LocalNode::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !apply_thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (apply_thread_.joinable()) apply_thread_.join();
}

void LocalNode::Submit(store::Command cmd, SubmitCallback done) {
  size_t bytes = cmd.key.size() + cmd.value.size() + cmd.content_type.size();
  {
    std::lock_guard lock(mu_);
    Status refused;
    if (stopping_) {
      refused = Unavailable("the node is shutting down");
    } else if (queue_.size() >= options_.limits.proposals_in_flight_max) {
      refused = Unavailable("too many writes in flight (--max-proposals-in-flight=" +
                            std::to_string(options_.limits.proposals_in_flight_max) + ")");
    } else if (queued_bytes_ + bytes > options_.limits.proposal_bytes_in_flight_max) {
      refused = Unavailable("too many bytes of writes in flight");
    }
    if (refused.ok()) {
      queue_.push_back(Pending{std::move(cmd), std::move(done),
                               std::chrono::steady_clock::now() + options_.limits.request_timeout});
      queued_bytes_ += bytes;
    } else {
      store::ApplyResult r;
      r.status = refused;
      done(std::move(r));
      return;
    }
  }
  wake_.notify_one();
}

void LocalNode::WaitForReadPoint(ReadCallback done) {
  // Every acknowledged write was applied to the engine before its acknowledgement, and a lone
  // node is always the leader: the engine as it is now is a linearizable read point.
  done(Status::Ok());
}

void LocalNode::ApplyLoop() {
  std::deque<Pending> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued was applied
      size_t bytes = 0;
      while (!queue_.empty() && batch.size() < options_.apply_batch_commands_max &&
             (batch.empty() || bytes < options_.apply_batch_bytes_max)) {
        const auto& c = queue_.front().cmd;
        bytes += c.key.size() + c.value.size() + c.content_type.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_bytes_ -= bytes;
    }
    ApplyBatch(batch);
    batch.clear();
  }
}

void LocalNode::ApplyBatch(std::deque<Pending>& batch) {
  // Writes that waited past their deadline are answered and dropped: their client has been told
  // (or will be) that the outcome is unknown, and a write answered 503 may be retried.
  auto now = std::chrono::steady_clock::now();
  std::erase_if(batch, [&](Pending& p) {
    if (now < p.deadline) return false;
    store::ApplyResult r;
    r.status = Unavailable("the write was not applied within --request-timeout-ms");
    p.done(std::move(r));
    return true;
  });
  store::BatchApplier applier(engine_.get());
  std::vector<store::ApplyResult> results;
  results.reserve(batch.size());
  LogIndex index = engine_->AppliedIndex();
  for (auto& p : batch) {
    index = index.Next();
    results.push_back(applier.Apply(p.cmd, index));
  }
  Status s = applier.Commit(engine_.get(), /*sync=*/true);
  if (s.code() == StatusCode::kIoError || s.code() == StatusCode::kCorruption) {
    // A failed fsync cannot be retried safely (STYLE.md §3): stop the node.
    spdlog::critical("storage failure while applying writes: {}; stopping", s.ToString());
    std::_Exit(70);
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!s.ok()) results[i].status = s;  // nothing of the batch is stored
    batch[i].done(std::move(results[i]));
  }
}

NodeStatus LocalNode::GetStatus() const {
  NodeStatus st;
  st.id = options_.id;
  st.name = options_.name;
  st.cluster_id = options_.cluster_id;
  st.role = Role::kLeader;
  st.has_lease = true;
  st.term = 1;
  st.leader_id = options_.id;
  st.applied_index = engine_->AppliedIndex().value;
  st.commit_index = st.applied_index;
  st.ready = true;
  st.engine = std::string(engine_->Name());
  return st;
}

std::vector<MemberInfo> LocalNode::Members() const {
  MemberInfo m;
  m.id = options_.id;
  m.name = options_.name;
  m.peer_address = options_.peer_address;
  m.api_address = options_.api_address;
  return {m};
}

void LocalNode::TransferLeadership(uint64_t to, ReadCallback done) {
  // One node: it already leads, and there is no one else to hand leadership to.
  done(to == options_.id ? Status::Ok() : NotFound("no voter with id " + std::to_string(to)));
}

}  // namespace nds::node
