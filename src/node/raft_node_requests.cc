// RaftNode's request table: the writes, reads and leadership transfers clients hand it from any
// thread (Submit, WaitForReadPoint, TransferLeadership), refused at once when they cannot be
// taken, and answered by the loop when they complete, fail or reach their deadline.
#include <spdlog/spdlog.h>

#include "node/raft_codec.h"
#include "node/raft_node.h"
#include "store/command.h"
#include "util/check.h"

namespace nds::node {

void RaftNode::Submit(store::Command cmd, SubmitCallback done) {
  Status refused;
  {
    MutexLock lock(mu_);
    if (stopping_) {
      refused = Unavailable("the node is shutting down");
    } else if (!disk_full_status_.ok()) {
      refused = disk_full_status_;
    } else if (disk_free_bytes_ < bytes_since_disk_check_ + options_.limits.disk_free_bytes_min) {
      refused = NoSpace("the data disk has less than --min-free-disk-bytes=" +
                        std::to_string(options_.limits.disk_free_bytes_min) + " free");
    } else if (removed_published_) {
      refused = Removed(std::string(kRemovedMessage));
    } else if (!no_quorum_status_.ok()) {
      refused = no_quorum_status_;
    } else if (writes_.size() >= options_.limits.proposals_in_flight_max) {
      refused = Unavailable("too many writes in flight (--max-proposals-in-flight=" +
                            std::to_string(options_.limits.proposals_in_flight_max) + ")");
    } else {
      // The command is encoded straight after the envelope's head: one copy of a value.
      const uint64_t request_id = next_request_id_++;
      std::string envelope =
          EnvelopeHead(options_.id, request_id,
                       cmd.key.size() + cmd.value.size() + cmd.content_type.size() + 64);
      store::EncodeCommand(cmd, &envelope);
      bytes_since_disk_check_ += 2 * envelope.size();
      writes_.emplace(request_id, PendingWrite{std::move(done),
                                               Now() + options_.limits.request_timeout, cmd.type});
      proposals_.push_back(Proposal{request_id, std::move(envelope)});
    }
  }
  if (!refused.ok()) {
    store::ApplyResult r;
    r.status = refused;
    // done was moved into writes_ only on the path that refused nothing.
    done(std::move(r));  // NOLINT(bugprone-use-after-move)
    return;
  }
  wake_.notify_one();
}

void RaftNode::WaitForReadPoint(ReadCallback done) {
  Status answer = ResourceExhausted("too many reads wait for a read point (--max-pending-reads)");
  {
    MutexLock lock(mu_);
    if (removed_published_) {
      answer = Removed(std::string(kRemovedMessage));
    } else if (!no_quorum_status_.ok()) {
      answer = no_quorum_status_;
    } else if (stopping_) {
      answer = Unavailable("the node is shutting down");
    } else if (lease_read_index_ != 0 && status_.applied_index >= lease_read_index_ &&
               Now() < lease_until_) {
      // The leader's lease holds and every entry up to its last published commit is applied:
      // no other node can have led meanwhile, and no member has learnt of a later commit (the
      // loop publishes before its messages leave), so this is a read point, with no hand-off to
      // the loop (docs/cluster.md "Reads").
      ++status_.lease_read_batches;
      answer = Status::Ok();
    } else if (new_reads_.size() < options_.limits.pending_reads_max) {
      new_reads_.push_back(PendingRead{std::move(done), Now() + options_.limits.request_timeout});
      done = nullptr;
    }
  }
  if (done) {
    done(answer);
    return;
  }
  wake_.notify_one();
}

void RaftNode::TransferLeadership(uint64_t to, ReadCallback done) {
  {
    MutexLock lock(mu_);
    if (!stopping_) {
      new_transfers_.push_back(
          PendingTransfer{std::move(done), Now() + options_.limits.request_timeout, to});
      done = nullptr;
    }
  }
  if (done) {
    done(Unavailable("the node is shutting down"));
    return;
  }
  wake_.notify_one();
}

void RaftNode::Fail(uint64_t request_id, Status s) {
  // An ok here would tell a client its write succeeded when it was never applied.
  NDS_CHECK(!s.ok(), "write {} failed with an ok status", request_id);
  if (request_id == 0) return;
  SubmitCallback done;
  {
    MutexLock lock(mu_);
    auto it = writes_.find(request_id);
    if (it == writes_.end()) return;
    done = std::move(it->second.done);
    writes_.erase(it);
  }
  store::ApplyResult r;
  r.status = std::move(s);
  done(std::move(r));
}

void RaftNode::ExpireDeadlines(Clock::time_point now) {
  std::vector<SubmitCallback> expired;
  std::vector<ReadCallback> expired_reads;
  // Without a quorum every waiting write and read is answered now, with why.
  Status no_quorum;
  {
    MutexLock lock(mu_);
    no_quorum = no_quorum_status_;
    if (!no_quorum.ok()) now = Clock::time_point::max();
    for (auto it = writes_.begin(); it != writes_.end();) {
      if (now >= it->second.deadline) {
        expired.push_back(std::move(it->second.done));
        it = writes_.erase(it);
      } else {
        ++it;
      }
    }
    // Held and handed-back writes that were answered meanwhile (a loop, not a lambda: the
    // thread-safety analysis does not follow the lock into one).
    for (std::deque<Proposal>* q : {&held_, &refused_}) {
      if (q->empty()) continue;
      std::deque<Proposal> kept;
      for (Proposal& p : *q) {
        if (p.request_id == 0 || writes_.contains(p.request_id)) kept.push_back(std::move(p));
      }
      q->swap(kept);
    }
    std::erase_if(new_reads_, [&](PendingRead& r) {
      if (now < r.deadline) return false;
      expired_reads.push_back(std::move(r.done));
      return true;
    });
  }
  for (auto it = reads_in_flight_.begin(); it != reads_in_flight_.end();) {
    auto& rs = it->second;
    std::erase_if(rs, [&](PendingRead& r) {
      if (now < r.deadline) return false;
      expired_reads.push_back(std::move(r.done));
      return true;
    });
    it = rs.empty() ? reads_in_flight_.erase(it) : std::next(it);
  }
  for (auto& d : expired) {
    store::ApplyResult r;
    r.status = no_quorum.ok() ? Unavailable("the write did not commit within --request-timeout-ms")
                              : no_quorum;
    d(std::move(r));
  }
  for (auto& d : expired_reads) {
    d(no_quorum.ok() ? Unavailable("no read point within --request-timeout-ms") : no_quorum);
  }
}

void RaftNode::FailAll(const Status& s) {
  std::map<uint64_t, PendingWrite> writes;
  std::deque<PendingRead> reads;
  std::vector<PendingTransfer> transfers;
  {
    MutexLock lock(mu_);
    writes.swap(writes_);
    reads.swap(new_reads_);
    transfers.swap(new_transfers_);
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
  for (auto& w : membership_waits_) {
    w.result.status = s;
    w.done(std::move(w.result));
  }
  membership_waits_.clear();
  for (auto& t : transfers) t.done(s);
  for (auto& t : transfers_) t.done(s);
  transfers_.clear();
}

NodeStatus RaftNode::GetStatus() const {
  MutexLock lock(mu_);
  NodeStatus s = status_;
  s.has_lease = s.has_lease && Now() < lease_until_;
  return s;
}

}  // namespace nds::node
