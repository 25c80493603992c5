// Cross-checks of the runtime limits.
#include "util/limits.h"

#include <algorithm>
#include <string>

namespace nds {
namespace {

// Framing, command header and key bytes that travel with a value inside one Raft message.
constexpr size_t kMessageOverheadBytes = 4096 + kKeyBytesMax;
// RESP framing and the command name, key and options around a SET's value.
constexpr size_t kRespCommandOverheadBytes = 256 + kKeyBytesMax;

}  // namespace

Status Limits::Validate() const {
  struct NonZero {
    const char* flag;
    uint64_t value;
  };
  const NonZero nonzero[] = {
      {"--max-value-bytes", value_bytes_max},
      {"--max-header-bytes", header_bytes_max},
      {"--header-read-timeout-ms", static_cast<uint64_t>(header_read_timeout.count())},
      {"--idle-timeout-ms", static_cast<uint64_t>(idle_timeout.count())},
      {"--max-connections", connections_max},
      {"--max-pipelined-requests", pipelined_requests_max},
      {"--request-timeout-ms", static_cast<uint64_t>(request_timeout.count())},
      {"--max-proposals-in-flight", proposals_in_flight_max},
      {"--max-proposal-bytes-in-flight", proposal_bytes_in_flight_max},
      {"--max-pending-reads", pending_reads_max},
      {"--stream-chunk-bytes", stream_chunk_bytes},
      {"--heartbeat-ms", static_cast<uint64_t>(heartbeat_interval.count())},
      {"--election-timeout-ms", static_cast<uint64_t>(election_timeout.count())},
      {"--lease-ms", static_cast<uint64_t>(lease_duration.count())},
      {"--max-append-entries", append_entries_max},
      {"--max-message-bytes", message_bytes_max},
      {"--max-append-messages-in-flight", append_messages_in_flight_max},
      {"--max-append-bytes-in-flight", append_bytes_in_flight_max},
      {"--max-peer-inbox-frames", peer_inbox_frames_max},
      {"--snapshot-send-timeout-ms", static_cast<uint64_t>(snapshot_send_timeout.count())},
      {"--snapshot-chunk-bytes", snapshot_chunk_bytes},
      {"--snapshot-entries", snapshot_entries},
      {"--snapshot-bytes", snapshot_bytes},
      {"--wal-segment-bytes", wal_segment_bytes},
      {"--min-free-disk-bytes", disk_free_bytes_min},
      {"--resp-max-connections", resp_connections_max},
      {"--resp-max-array-elements", resp_array_elements_max},
      {"--resp-max-inline-bytes", resp_inline_bytes_max},
      {"--resp-max-command-bytes", resp_command_bytes_max},
      {"--resp-idle-timeout-ms", static_cast<uint64_t>(resp_idle_timeout.count())},
      {"--resp-max-pipelined-commands", resp_pipelined_commands_max},
      {"--resp-max-scan-cursors", resp_scan_cursors_max},
      {"--resp-max-keys", resp_keys_max},
  };
  for (const auto& n : nonzero) {
    if (n.value == 0) return InvalidArgument(std::string(n.flag) + " must be greater than 0");
  }
  if (value_bytes_max + kMessageOverheadBytes > message_bytes_max) {
    return InvalidArgument("--max-value-bytes plus " + std::to_string(kMessageOverheadBytes) +
                           " bytes of overhead exceeds --max-message-bytes");
  }
  if (value_bytes_max + kMessageOverheadBytes > wal_segment_bytes) {
    return InvalidArgument("--max-value-bytes plus overhead exceeds --wal-segment-bytes");
  }
  if (proposal_bytes_in_flight_max < value_bytes_max) {
    return InvalidArgument("--max-proposal-bytes-in-flight is below --max-value-bytes");
  }
  if (append_bytes_in_flight_max < std::min<size_t>(1 << 20, message_bytes_max)) {
    return InvalidArgument("--max-append-bytes-in-flight must be at least 1 MiB (one append)");
  }
  if (resp_command_bytes_max < value_bytes_max + kRespCommandOverheadBytes) {
    return InvalidArgument("--resp-max-command-bytes must hold a SET of --max-value-bytes (plus " +
                           std::to_string(kRespCommandOverheadBytes) + " bytes)");
  }
  if (lease_duration >= election_timeout) {
    return InvalidArgument("--lease-ms must be shorter than --election-timeout-ms");
  }
  if (heartbeat_interval * 3 > election_timeout) {
    return InvalidArgument("--heartbeat-ms must be at most a third of --election-timeout-ms");
  }
  return Status::Ok();
}

}  // namespace nds
