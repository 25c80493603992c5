// Every runtime limit of a node, in one place (STYLE.md §6). Each field is a command-line flag of
// `nds start` with the default written here (cli/ registers them); Validate() runs at start-up
// and rejects settings that contradict each other. Plain value type: copy it freely.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace nds {

// Fixed by the contract (docs/api.md), not tunable.
inline constexpr size_t kKeyBytesMax = 1024;
inline constexpr size_t kKvKeyCodePointsMax = 64;     // /set k
inline constexpr size_t kKvValueCodePointsMax = 256;  // /set v
inline constexpr size_t kListLimitDefault = 1000;
inline constexpr size_t kListLimitMax = 10000;

// Upper bounds of the runtime limits; every limit (and every duration flag of `nds start`) takes
// 1 to its bound. Issue 11: a duration far beyond any use overflowed the clock's int64
// nanoseconds (--header-read-timeout-ms 9300000000000 cut every connection at once), and a size
// near SIZE_MAX wrapped the sums that Validate checks.
inline constexpr int64_t kTimeoutMsMax = 86'400'000;  // 1 day: HTTP, request, snapshot timeouts
inline constexpr std::string_view kTimeoutMsMaxWords = "1 day";
inline constexpr int64_t kRaftTimingMsMax = 60'000;  // 1 minute: heartbeat, election, lease
inline constexpr std::string_view kRaftTimingMsMaxWords = "1 minute";
inline constexpr uint64_t kLimitBytesMax = uint64_t{1} << 40;  // sizes and rates
inline constexpr std::string_view kLimitBytesMaxWords = "1 TiB";
inline constexpr uint64_t kLimitCountMax = 1'000'000'000;  // counts: connections, entries, ...
inline constexpr std::string_view kLimitCountMaxWords = "one billion";
static_assert(kTimeoutMsMax < INT64_MAX / 1'000'000 / 4, "a timeout plus now fits int64 ns");

// "give LO to HI (WORDS)": the accepted range of a numeric flag, in the words of every flag error.
std::string RangeInWords(uint64_t lo, uint64_t hi, std::string_view hi_words);

// "FLAG: VALUE is out of range; give LO to HI (WORDS)".
std::string OutOfRangeMessage(std::string_view flag, std::string_view value, uint64_t lo,
                              uint64_t hi, std::string_view hi_words);

// Checks the text of a numeric flag: "" when it is a whole number (decimal digits) in [lo, hi],
// else the reason in words: "0 is out of range; give 1 to 86400000 (1 day)" or "'abc' is not a
// whole number; give ...". The flag's name is not included (CLI11 prefixes it).
std::string WholeNumberError(std::string_view text, uint64_t lo, uint64_t hi,
                             std::string_view hi_words);
// The same for a decimal number (seconds): "0 is out of range; give 0.001 to 3600 (1 hour)".
std::string DecimalNumberError(std::string_view text, double lo, double hi,
                               std::string_view hi_words);

struct Limits {
  // Largest value (blob) accepted; larger bodies get 413 before they are read.
  size_t value_bytes_max = 16 << 20;
  // Request body bytes the HTTP port holds at once (read or being read, not yet answered); a
  // request whose Content-Length does not fit gets 503 with Retry-After before its body is read.
  // One body is always admitted when no other is held.
  size_t upload_bytes_in_flight_max = 64 << 20;
  // Compares, and ops of both branches together, one POST /txn may hold.
  size_t txn_ops_max = 128;
  // Request line plus headers.
  size_t header_bytes_max = 64 << 10;
  // A client must send its whole header within this time, and finish its body at no less than
  // body_bytes_per_second_min after that, or the connection is closed.
  std::chrono::milliseconds header_read_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  size_t body_bytes_per_second_min = 64 << 10;
  // Open client connections per node; further connections are accepted and closed at once.
  size_t connections_max = 4096;
  // Pipelined requests parsed ahead of the one being answered, per connection.
  size_t pipelined_requests_max = 64;
  // A write or linearizable read that cannot complete in time gets 503 with Retry-After.
  std::chrono::milliseconds request_timeout{5'000};
  // Client commands submitted to the node and not yet answered; more get 503 at once.
  size_t proposals_in_flight_max = 8192;
  // Bytes of client commands submitted and not yet applied; more get 503 at once.
  size_t proposal_bytes_in_flight_max = 256 << 20;
  // Linearizable reads waiting for their read point.
  size_t pending_reads_max = 16384;
  // Bytes a streamed listing (/getAll, ...) buffers before it writes a chunk.
  size_t stream_chunk_bytes = 64 << 10;
  // Raft timing.
  std::chrono::milliseconds heartbeat_interval{50};
  std::chrono::milliseconds election_timeout{500};
  std::chrono::milliseconds lease_duration{350};
  // Replication.
  size_t append_entries_max = 1024;
  size_t message_bytes_max = 64 << 20;
  size_t append_messages_in_flight_max = 64;
  // Entry bytes sent to one follower and not yet acknowledged.
  size_t append_bytes_in_flight_max = 32 << 20;
  // Peer frames received and waiting for the Raft loop; further frames are dropped (Raft
  // tolerates loss: the sender retries).
  size_t peer_inbox_frames_max = 1 << 16;
  size_t snapshot_chunk_bytes = 1 << 20;
  // A snapshot stream to a follower that has not finished in this time is abandoned; the
  // follower gets a new stream once it is probed again.
  std::chrono::milliseconds snapshot_send_timeout{600'000};
  // A node snapshots its engine and drops its Raft log up to the applied index once this many
  // entries were applied since its last snapshot; a follower further behind gets the snapshot.
  size_t snapshot_entries = 10'000;
  // ... or once this many bytes of entries were applied since its last snapshot (or its start),
  // whichever comes first: a few large values must not grow the log without bound.
  size_t snapshot_bytes = 256 << 20;
  size_t wal_segment_bytes = 64 << 20;
  // New writes get 507 while the data directory's file system has less free space than this
  // (minus what writes accepted since the last check will use): room for what is in flight, the
  // engine's compactions and the Raft log's next segment, so a full disk never stops the node.
  size_t disk_free_bytes_min = 64 << 20;
  // Token records a node keeps decoded in memory (store/token_cache.h); a lookup of one name more
  // empties the cache first, so the lookups after it read the engine again.
  size_t token_cache_names_max = 4096;
  // Possible later members (nodes whose join this node has not applied yet) answered at the peer
  // address their hello claimed; the hellos of more are not answered until their joins apply.
  // More than a handful means something claims ids at random.
  size_t provisional_peers_max = 16;

  // The RESP front (`nds start --resp`, docs/resp.md). A bulk string is at most value_bytes_max.
  // Open RESP connections; further connections get an error reply and are closed.
  size_t resp_connections_max = 1024;
  // Arguments of one command (an array's elements, or the words of an inline command).
  size_t resp_array_elements_max = 1 << 20;
  // An inline command (a line typed by hand) without its newline.
  size_t resp_inline_bytes_max = 64 << 10;
  // Every byte of one command: what a connection buffers at most before it is complete. Must
  // hold a SET of value_bytes_max.
  size_t resp_command_bytes_max = 32 << 20;
  // A connection with nothing to read or write for this long is closed.
  std::chrono::milliseconds resp_idle_timeout{300'000};
  // Commands parsed ahead of the one being answered, per connection (pipelining).
  size_t resp_pipelined_commands_max = 1024;
  // SCAN cursors a node remembers (the least recently used is forgotten first).
  size_t resp_scan_cursors_max = 10'000;
  // Keys one KEYS reply holds at most; more is an error that points to SCAN.
  size_t resp_keys_max = 100'000;

  // Change history and watches (docs/api.md "Watch"). Revisions of history kept: a watch or a
  // read at an older revision gets 410.
  size_t history_revisions = 100'000;
  // Bytes of change history kept at most (events and undo entries, keys and values): the oldest
  // revisions are compacted while it holds more.
  size_t history_bytes = size_t{1} << 30;
  // Bytes of events waiting for one watcher; a watcher that falls further behind is cut off.
  size_t watch_buffer_bytes = 4 << 20;
  // Open watches per node; more get 503.
  size_t watchers_max = 10'000;
  // Leases (docs/api.md "Leases"): leases the cluster holds at most (the granting node's value
  // applies), the TTLs a grant may ask for, keys one lease may hold, lease ids one
  // POST /leases/keepalive may name, how long a node gathers keepalives before it submits them as
  // one log entry, and how often the lease keeper looks.
  size_t leases_max = 100'000;
  std::chrono::milliseconds lease_ttl_min{1'000};
  std::chrono::milliseconds lease_ttl_max{86'400'000};
  size_t lease_keys_max = 10'000;
  size_t keepalive_ids_max = 1'000;
  std::chrono::milliseconds lease_keepalive_batch{50};
  std::chrono::milliseconds lease_check_interval{100};
  // How often the memory trimmer looks, and the freed heap bytes it leaves alone
  // (util/memory_trimmer.h): after a burst of big values it gives them back to the kernel.
  std::chrono::milliseconds memory_trim_interval{1'000};
  size_t memory_trim_free_bytes_min = size_t{64} << 20;

  // Rejects limits outside 1 to their bound above (naming the flag, the value and the range) and
  // contradictions: a value limit the message limit cannot carry, a
  // lease not shorter than the election timeout, a heartbeat not well under the election timeout.
  Status Validate() const;
  // With `nds start --resp`: whether one RESP command can carry a SET of value_bytes_max.
  Status ValidateResp() const;
};

}  // namespace nds
