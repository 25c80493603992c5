// GET /metrics: the request metrics (api/metrics.h), the node's figures (status, indexes, leader
// changes, snapshots, fsync and apply times, members) and the process_* families, in the
// Prometheus text format with # HELP and # TYPE for every family (docs/operations.md "Metrics").
#include <fmt/format.h>

#include "api/process_metrics.h"
#include "api/service.h"

namespace nds::api {
namespace {

void Family(std::string* out, std::string_view name, std::string_view type, std::string_view help) {
  *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void Sample(std::string* out, std::string_view name, std::string_view type, std::string_view help,
            uint64_t value) {
  Family(out, name, type, help);
  *out += fmt::format("{} {}\n", name, value);
}

}  // namespace

std::string ApiService::MetricsText() const {
  const engine::EngineStats es = node_->engine().Stats();
  const node::NodeStatus s = node_->GetStatus();
  const node::NodeMetrics& nm = node_->metrics();
  std::string out;
  out.reserve(16 << 10);
  Sample(&out, "nds_keys_estimate", "gauge",
         "Keys in the engine, as the engine estimates them (RocksDB counts overwritten and "
         "deleted keys until compaction; the cluster's own system keys are included).",
         es.keys_estimate);
  Sample(&out, "nds_stored_bytes_estimate", "gauge",
         "Bytes the engine holds, as the engine estimates them.", es.bytes_estimate);
  Sample(&out, "nds_engine_blob_bytes", "gauge",
         "Bytes of values of 64 KiB or more, kept in RocksDB's blob files, garbage included.",
         es.blob_bytes);
  Sample(&out, "nds_engine_blob_garbage_bytes", "gauge",
         "Bytes of blob files that hold overwritten or deleted values, not yet given back.",
         es.blob_garbage_bytes);
  Sample(&out, "nds_engine_blob_garbage_collection", "gauge",
         "1 while compactions rewrite the oldest blob files to give their garbage back.",
         es.blob_garbage_collection ? 1 : 0);
  if (options_.upload_budget) {
    const net::UploadBudget& b = *options_.upload_budget;
    Sample(&out, "nds_http_upload_bytes_in_flight", "gauge",
           "Request body bytes the HTTP port holds now (read or being read, not yet answered).",
           b.in_flight());
    Sample(&out, "nds_http_upload_budget_bytes", "gauge",
           "--max-upload-bytes-in-flight: the most request body bytes held at once.",
           b.max_bytes());
    Sample(&out, "nds_http_uploads_refused_total", "counter",
           "Requests answered 503 before their body because it did not fit the upload budget.",
           b.refused());
  }
  Sample(&out, "nds_term", "gauge", "The Raft term this node is in.", s.term);
  Sample(&out, "nds_commit_index", "gauge", "The highest log index this node knows committed.",
         s.commit_index);
  Sample(&out, "nds_applied_index", "gauge", "The highest log index applied to the engine.",
         s.applied_index);
  Sample(&out, "nds_has_leader", "gauge", "1 when this node knows a leader, else 0.",
         s.leader_id != 0 ? 1 : 0);
  Sample(&out, "nds_is_leader", "gauge", "1 when this node is the leader, else 0.",
         s.role == node::Role::kLeader ? 1 : 0);
  Sample(&out, "nds_leader_id", "gauge", "The member id of the leader this node knows (0: none).",
         s.leader_id);
  Sample(&out, "nds_leader_changes_total", "counter",
         "Times this node saw a new leader (itself included), since it started.",
         nm.leader_changes.load(std::memory_order_relaxed));
  Sample(&out, "nds_elections_total", "counter",
         "Elections this node started as a candidate, since it started.",
         nm.elections_started.load(std::memory_order_relaxed));
  Family(&out, "nds_snapshots_total", "counter",
         "Raft snapshots since this node started: made of its own engine, sent to a follower, "
         "installed from the leader, resumed at a follower's offset after a lost chunk.");
  out += fmt::format("nds_snapshots_total{{kind=\"made\"}} {}\n",
                     nm.snapshots_made.load(std::memory_order_relaxed));
  out += fmt::format("nds_snapshots_total{{kind=\"sent\"}} {}\n",
                     nm.snapshots_sent.load(std::memory_order_relaxed));
  out += fmt::format("nds_snapshots_total{{kind=\"installed\"}} {}\n",
                     nm.snapshots_installed.load(std::memory_order_relaxed));
  out += fmt::format("nds_snapshots_total{{kind=\"resumed\"}} {}\n",
                     nm.snapshots_resumed.load(std::memory_order_relaxed));
  Sample(&out, "nds_wal_entry_bytes_total", "counter",
         "Bytes of entry data this node wrote to its Raft log.",
         nm.wal_entry_bytes.load(std::memory_order_relaxed));
  Sample(&out, "nds_applied_entry_bytes_total", "counter",
         "Bytes of entry data this node applied to its engine.",
         nm.applied_entry_bytes.load(std::memory_order_relaxed));
  Family(&out, "nds_wal_fsync_seconds", "histogram",
         "Time to write a batch of Raft log entries and its hard state and fsync them.");
  nm.wal_fsync.AppendSamples(&out, "nds_wal_fsync_seconds", "", /*skip_empty=*/false);
  Family(&out, "nds_apply_seconds", "histogram",
         "Time to apply a batch of committed entries to the engine.");
  nm.apply.AppendSamples(&out, "nds_apply_seconds", "", /*skip_empty=*/false);
  Family(&out, "nds_raft_loop_pass_seconds", "histogram",
         "Time of one pass of the Raft loop (ticks, peer frames, log writes, sends, apply).");
  nm.loop_pass.AppendSamples(&out, "nds_raft_loop_pass_seconds", "", /*skip_empty=*/false);
  Sample(&out, "nds_lease_read_batches_total", "counter",
         "Linearizable reads served from the leader lease (a batch the loop served counts once).",
         s.lease_read_batches);
  Sample(&out, "nds_peer_messages_rejected_total", "counter",
         "Peer frames dropped: their sender is not a member, or a Raft message claims another "
         "sender or receiver than its connection.",
         s.peer_messages_rejected);
  const std::vector<node::MemberInfo> members = node_->Members();
  Sample(&out, "nds_members", "gauge", "Members in the cluster's member table.", members.size());
  if (s.role == node::Role::kLeader) {
    Family(&out, "nds_member_reachable", "gauge",
           "1 when the leader reaches the member, else 0 (the leader only).");
    for (const node::MemberInfo& m : members) {
      out += fmt::format("nds_member_reachable{{member=\"{}\"}} {}\n", m.id, m.reachable ? 1 : 0);
    }
    Family(&out, "nds_member_behind_entries", "gauge",
           "Log entries a member is behind the leader's last index (the leader only).");
    for (const node::MemberInfo& m : members) {
      out += fmt::format("nds_member_behind_entries{{member=\"{}\"}} {}\n", m.id, m.behind);
    }
  }
  Family(&out, "nds_peer_sent_bytes_total", "counter",
         "Bytes of peer frames (Raft messages, forwarded writes, snapshot chunks) this node handed "
         "to the transport for the member, since it started.");
  for (const node::MemberInfo& m : members) {
    if (m.id == s.id) continue;
    out += fmt::format("nds_peer_sent_bytes_total{{peer=\"{}\"}} {}\n", m.id, m.sent_bytes);
  }
  Family(
      &out, "nds_peer_round_trip_seconds", "gauge",
      "How long this node's last answered heartbeat to the member took, send to answer (heartbeats "
      "come from the leader: other nodes show the figure of their last time leading, if any).");
  for (const node::MemberInfo& m : members) {
    if (m.id == s.id || m.round_trip_seconds < 0) continue;
    out += fmt::format("nds_peer_round_trip_seconds{{peer=\"{}\"}} {:.6f}\n", m.id,
                       m.round_trip_seconds);
  }
  AppendProcessMetrics(&out);
  return metrics_.Render(out);
}

}  // namespace nds::api
