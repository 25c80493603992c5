// Cross-checks of the runtime limits.
#include "util/limits.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <type_traits>

#include <fmt/format.h>

#include "util/log_text.h"

namespace nds {
namespace {

// Bytes of a bad flag value echoed in its error.
constexpr size_t kShownValueBytesMax = 40;

// Framing, command header and key bytes that travel with a value inside one Raft message.
constexpr size_t kMessageOverheadBytes = 4096 + kKeyBytesMax;
// RESP framing and the command name, key and options around a SET's value.
constexpr size_t kRespCommandOverheadBytes = 256 + kKeyBytesMax;

}  // namespace

std::string RangeInWords(uint64_t lo, uint64_t hi, std::string_view hi_words) {
  std::string out = "give " + std::to_string(lo) + " to " + std::to_string(hi);
  if (!hi_words.empty()) out += " (" + std::string(hi_words) + ")";
  return out;
}

std::string OutOfRangeMessage(std::string_view flag, std::string_view value, uint64_t lo,
                              uint64_t hi, std::string_view hi_words) {
  return std::string(flag) + ": " + std::string(value) + " is out of range; " +
         RangeInWords(lo, hi, hi_words);
}

namespace {

// "" when `text` is a number of type T in [lo, hi], else why not, followed by `range`.
template <typename T>
std::string NumberError(std::string_view text, T lo, T hi, std::string_view kind,
                        const std::string& range) {
  const std::string shown = EscapeForLog(text, kShownValueBytesMax);
  // from_chars reads no sign into an unsigned type: "-1" is a whole number out of range.
  const bool negative = std::is_unsigned_v<T> && text.starts_with('-');
  const std::string_view digits = negative ? text.substr(1) : text;
  T v{};
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || p != digits.data() + digits.size() ||
      (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    return "'" + shown + "' is not " + std::string(kind) + "; " + range;
  }
  if (negative || ec == std::errc::result_out_of_range || !(v >= lo && v <= hi)) {
    return shown + " is out of range; " + range;  // NaN and infinities included
  }
  return std::string();
}

}  // namespace

std::string WholeNumberError(std::string_view text, uint64_t lo, uint64_t hi,
                             std::string_view hi_words) {
  return NumberError(text, lo, hi, "a whole number", RangeInWords(lo, hi, hi_words));
}

std::string DecimalNumberError(std::string_view text, double lo, double hi,
                               std::string_view hi_words) {
  std::string range = fmt::format("give {} to {}", lo, hi);
  if (!hi_words.empty()) range += fmt::format(" ({})", hi_words);
  return NumberError(text, lo, hi, "a number", range);
}

Status Limits::Validate() const {
  struct Bounded {
    const char* flag;
    uint64_t value;
    uint64_t max;
    std::string_view max_words;
  };
  auto ms = [](std::chrono::milliseconds d) {
    return d.count() < 0 ? uint64_t{0} : static_cast<uint64_t>(d.count());
  };
  constexpr auto kBytes = kLimitBytesMax;
  constexpr auto kCount = kLimitCountMax;
  constexpr auto kTime = static_cast<uint64_t>(kTimeoutMsMax);
  constexpr auto kRaft = static_cast<uint64_t>(kRaftTimingMsMax);
  const Bounded bounded[] = {
      {"--max-value-bytes", value_bytes_max, kBytes, kLimitBytesMaxWords},
      {"--max-header-bytes", header_bytes_max, kBytes, kLimitBytesMaxWords},
      {"--header-read-timeout-ms", ms(header_read_timeout), kTime, kTimeoutMsMaxWords},
      {"--idle-timeout-ms", ms(idle_timeout), kTime, kTimeoutMsMaxWords},
      {"--min-body-bytes-per-second", body_bytes_per_second_min, kBytes, kLimitBytesMaxWords},
      {"--max-connections", connections_max, kCount, kLimitCountMaxWords},
      {"--max-pipelined-requests", pipelined_requests_max, kCount, kLimitCountMaxWords},
      {"--request-timeout-ms", ms(request_timeout), kTime, kTimeoutMsMaxWords},
      {"--max-proposals-in-flight", proposals_in_flight_max, kCount, kLimitCountMaxWords},
      {"--max-proposal-bytes-in-flight", proposal_bytes_in_flight_max, kBytes, kLimitBytesMaxWords},
      {"--max-pending-reads", pending_reads_max, kCount, kLimitCountMaxWords},
      {"--max-txn-ops", txn_ops_max, kCount, kLimitCountMaxWords},
      {"--stream-chunk-bytes", stream_chunk_bytes, kBytes, kLimitBytesMaxWords},
      {"--heartbeat-ms", ms(heartbeat_interval), kRaft, kRaftTimingMsMaxWords},
      {"--election-timeout-ms", ms(election_timeout), kRaft, kRaftTimingMsMaxWords},
      {"--lease-ms", ms(lease_duration), kRaft, kRaftTimingMsMaxWords},
      {"--max-append-entries", append_entries_max, kCount, kLimitCountMaxWords},
      {"--max-message-bytes", message_bytes_max, kBytes, kLimitBytesMaxWords},
      {"--max-append-messages-in-flight", append_messages_in_flight_max, kCount,
       kLimitCountMaxWords},
      {"--max-append-bytes-in-flight", append_bytes_in_flight_max, kBytes, kLimitBytesMaxWords},
      {"--max-peer-inbox-frames", peer_inbox_frames_max, kCount, kLimitCountMaxWords},
      {"--snapshot-send-timeout-ms", ms(snapshot_send_timeout), kTime, kTimeoutMsMaxWords},
      {"--snapshot-chunk-bytes", snapshot_chunk_bytes, kBytes, kLimitBytesMaxWords},
      {"--snapshot-entries", snapshot_entries, kCount, kLimitCountMaxWords},
      {"--snapshot-bytes", snapshot_bytes, kBytes, kLimitBytesMaxWords},
      {"--wal-segment-bytes", wal_segment_bytes, kBytes, kLimitBytesMaxWords},
      {"--min-free-disk-bytes", disk_free_bytes_min, kBytes, kLimitBytesMaxWords},
      {"--max-token-cache-names", token_cache_names_max, kCount, kLimitCountMaxWords},
      {"--max-provisional-peers", provisional_peers_max, kCount, kLimitCountMaxWords},
      {"--history-revisions", history_revisions, kCount, kLimitCountMaxWords},
      {"--history-bytes", history_bytes, kBytes, kLimitBytesMaxWords},
      {"--watch-buffer-bytes", watch_buffer_bytes, kBytes, kLimitBytesMaxWords},
      {"--max-watchers", watchers_max, kCount, kLimitCountMaxWords},
      {"--max-leases", leases_max, kCount, kLimitCountMaxWords},
      {"--min-lease-ttl-ms", ms(lease_ttl_min), kTime, kTimeoutMsMaxWords},
      {"--max-lease-ttl-ms", ms(lease_ttl_max), kTime, kTimeoutMsMaxWords},
      {"--max-lease-keys", lease_keys_max, kCount, kLimitCountMaxWords},
      {"--max-keepalive-ids", keepalive_ids_max, kCount, kLimitCountMaxWords},
      {"--lease-keepalive-batch-ms", ms(lease_keepalive_batch), kRaft, kRaftTimingMsMaxWords},
      {"--lease-check-interval-ms", ms(lease_check_interval), kRaft, kRaftTimingMsMaxWords},
      {"--memory-trim-interval-ms", ms(memory_trim_interval), kRaft, kRaftTimingMsMaxWords},
      {"--memory-trim-min-free-bytes", memory_trim_free_bytes_min, kBytes, kLimitBytesMaxWords},
      {"--resp-max-connections", resp_connections_max, kCount, kLimitCountMaxWords},
      {"--resp-max-array-elements", resp_array_elements_max, kCount, kLimitCountMaxWords},
      {"--resp-max-inline-bytes", resp_inline_bytes_max, kBytes, kLimitBytesMaxWords},
      {"--resp-max-command-bytes", resp_command_bytes_max, kBytes, kLimitBytesMaxWords},
      {"--resp-idle-timeout-ms", ms(resp_idle_timeout), kTime, kTimeoutMsMaxWords},
      {"--resp-max-pipelined-commands", resp_pipelined_commands_max, kCount, kLimitCountMaxWords},
      {"--resp-max-scan-cursors", resp_scan_cursors_max, kCount, kLimitCountMaxWords},
      {"--resp-max-keys", resp_keys_max, kCount, kLimitCountMaxWords},
  };
  for (const auto& b : bounded) {
    if (b.value == 0 || b.value > b.max) {
      return InvalidArgument(
          OutOfRangeMessage(b.flag, std::to_string(b.value), 1, b.max, b.max_words));
    }
  }
  // The HTTP server needs room for a request line and a few headers (net/http_server.cc).
  if (header_bytes_max < 256 || header_bytes_max > (size_t{1} << 30)) {
    return InvalidArgument(OutOfRangeMessage("--max-header-bytes", std::to_string(header_bytes_max),
                                             256, size_t{1} << 30, "1 GiB"));
  }
  if (lease_ttl_min > lease_ttl_max) {
    return InvalidArgument("--min-lease-ttl-ms is above --max-lease-ttl-ms");
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
  if (lease_duration >= election_timeout) {
    return InvalidArgument("--lease-ms must be shorter than --election-timeout-ms");
  }
  if (heartbeat_interval * 3 > election_timeout) {
    return InvalidArgument("--heartbeat-ms must be at most a third of --election-timeout-ms");
  }
  return Status::Ok();
}

Status Limits::ValidateResp() const {
  if (resp_command_bytes_max < value_bytes_max + kRespCommandOverheadBytes) {
    return InvalidArgument("--resp-max-command-bytes must hold a SET of --max-value-bytes (plus " +
                           std::to_string(kRespCommandOverheadBytes) + " bytes)");
  }
  return Status::Ok();
}

}  // namespace nds
