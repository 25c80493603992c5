// Limit flags, NDS_<FLAG> variables and --config FILE of `nds start` (see start_flags.h).
#include "cli/start_flags.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "cli/flag_range.h"

namespace nds::cli {
namespace {

// A TOML config file whose items go to `nds start`'s flags, minus those whose NDS_<FLAG> variable
// is set: CLI11 applies a config file before the environment and fills only flags still empty, so
// dropping them here is what makes the environment win over the file.
class EnvFirstToml final : public CLI::ConfigBase {
 public:
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::vector<CLI::ConfigItem> kept;
    for (CLI::ConfigItem& item : CLI::ConfigBase::from_config(input)) {
      std::replace(item.name.begin(), item.name.end(), '_', '-');
      const char* env = std::getenv(FlagEnvName("--" + item.name).c_str());
      if (env != nullptr && env[0] != '\0') continue;
      // Only `nds start` reads the file; a section ([start]) names the same place.
      if (item.parents.empty() || item.parents != std::vector<std::string>{"start"}) {
        item.parents.insert(item.parents.begin(), "start");
      }
      kept.push_back(std::move(item));
    }
    return kept;
  }
};

// A value as TOML writes it: numbers and booleans bare, anything else a quoted string.
std::string TomlValue(const std::string& v) {
  if (v == "true" || v == "false") return v;
  if (!v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return v;
  }
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void AddRaftTimingFlag(CLI::App* app, const std::string& name, std::chrono::milliseconds* d,
                       const std::string& help) {
  AddMillisFlag(app, name, d, help, kRaftTimingMsMax, kRaftTimingMsMaxWords);
}
}  // namespace

void AddMillisFlag(CLI::App* app, const std::string& name, std::chrono::milliseconds* d,
                   const std::string& help, int64_t max_ms, std::string_view max_words) {
  app->add_option_function<int64_t>(
         name, [d](int64_t v) { *d = std::chrono::milliseconds(v); }, help)
      ->default_str(std::to_string(d->count()))
      ->check(WholeInRange(1, static_cast<uint64_t>(max_ms), max_words));
}

void AddLimitFlags(CLI::App* app, Limits* l) {
  auto bytes = [&](const std::string& name, size_t* v, const std::string& help) {
    app->add_option(name, *v, help)
        ->capture_default_str()
        ->check(WholeInRange(1, kLimitBytesMax, kLimitBytesMaxWords));
  };
  auto count = [&](const std::string& name, size_t* v, const std::string& help) {
    app->add_option(name, *v, help)
        ->capture_default_str()
        ->check(WholeInRange(1, kLimitCountMax, kLimitCountMaxWords));
  };
  bytes("--max-value-bytes", &l->value_bytes_max, "Largest value or blob accepted (413 above)");
  bytes("--max-upload-bytes-in-flight", &l->upload_bytes_in_flight_max,
        "Request body bytes held at once on the HTTP port; more get 503 before their body");
  bytes("--max-header-bytes", &l->header_bytes_max, "Request line plus headers, at most");
  AddMillisFlag(app, "--header-read-timeout-ms", &l->header_read_timeout,
                "A client must send its whole header within this time");
  AddMillisFlag(app, "--idle-timeout-ms", &l->idle_timeout, "Close idle keep-alive connections");
  bytes("--min-body-bytes-per-second", &l->body_bytes_per_second_min,
        "A request body must arrive at least this fast");
  count("--max-connections", &l->connections_max, "Open client connections at most");
  count("--max-pipelined-requests", &l->pipelined_requests_max,
        "Requests parsed ahead per connection");
  AddMillisFlag(app, "--request-timeout-ms", &l->request_timeout,
                "A write or read not done in this time gets 503");
  count("--max-proposals-in-flight", &l->proposals_in_flight_max,
        "Writes waiting to be applied; more get 503");
  bytes("--max-proposal-bytes-in-flight", &l->proposal_bytes_in_flight_max,
        "Bytes of writes waiting to be applied; more get 503");
  count("--max-pending-reads", &l->pending_reads_max, "Linearizable reads waiting at most");
  count("--max-txn-ops", &l->txn_ops_max, "Compares, and ops of both branches, in one /txn");
  bytes("--stream-chunk-bytes", &l->stream_chunk_bytes, "Chunk size of streamed listings");
  AddRaftTimingFlag(app, "--heartbeat-ms", &l->heartbeat_interval, "Raft heartbeat interval");
  AddRaftTimingFlag(app, "--election-timeout-ms", &l->election_timeout, "Raft election timeout");
  AddRaftTimingFlag(app, "--lease-ms", &l->lease_duration, "Leader lease (< election timeout)");
  count("--max-append-entries", &l->append_entries_max, "Entries per append message");
  bytes("--max-message-bytes", &l->message_bytes_max, "Bytes per peer message");
  count("--max-append-messages-in-flight", &l->append_messages_in_flight_max,
        "Append messages in flight per follower");
  bytes("--max-append-bytes-in-flight", &l->append_bytes_in_flight_max,
        "Entry bytes in flight per follower");
  count("--max-peer-inbox-frames", &l->peer_inbox_frames_max,
        "Peer frames waiting for the Raft loop; more are dropped");
  bytes("--snapshot-chunk-bytes", &l->snapshot_chunk_bytes, "Snapshot transfer chunk size");
  AddMillisFlag(app, "--snapshot-send-timeout-ms", &l->snapshot_send_timeout,
                "Abandon a snapshot stream to a follower after this");
  count("--snapshot-entries", &l->snapshot_entries,
        "Snapshot the engine and compact the Raft log every this many applied entries");
  bytes("--snapshot-bytes", &l->snapshot_bytes,
        "... or once this many bytes of entries were applied since the last snapshot");
  bytes("--wal-segment-bytes", &l->wal_segment_bytes, "Size of each WAL segment file");
  bytes("--min-free-disk-bytes", &l->disk_free_bytes_min,
        "Writes get 507 while the data disk has less free space than this");
  count("--max-token-cache-names", &l->token_cache_names_max,
        "Access token records kept decoded in memory; one more empties the cache first");
  count("--max-provisional-peers", &l->provisional_peers_max,
        "Nodes not yet known to be members (their join not applied here) answered at once");
  count("--history-revisions", &l->history_revisions,
        "Revisions of change history kept for watches and reads at a revision");
  bytes("--history-bytes", &l->history_bytes,
        "Bytes of change history kept at most; the oldest revisions are compacted beyond it");
  bytes("--watch-buffer-bytes", &l->watch_buffer_bytes,
        "Events waiting for one watcher at most; a slower watcher is cut off");
  count("--max-watchers", &l->watchers_max, "Open watches per node; more get 503");
  count("--max-leases", &l->leases_max, "Leases the cluster holds at most (POST /leases)");
  AddMillisFlag(app, "--min-lease-ttl-ms", &l->lease_ttl_min, "Shortest lease TTL granted",
                kTimeoutMsMax, kTimeoutMsMaxWords);
  AddMillisFlag(app, "--max-lease-ttl-ms", &l->lease_ttl_max, "Longest lease TTL granted",
                kTimeoutMsMax, kTimeoutMsMaxWords);
  count("--max-lease-keys", &l->lease_keys_max, "Keys one lease may hold");
  count("--max-keepalive-ids", &l->keepalive_ids_max,
        "Lease ids one POST /leases/keepalive may name");
  AddRaftTimingFlag(app, "--lease-keepalive-batch-ms", &l->lease_keepalive_batch,
                    "Gather lease keepalives this long into one log entry");
  AddRaftTimingFlag(app, "--lease-check-interval-ms", &l->lease_check_interval,
                    "How often the leader's lease keeper looks for expired leases");
  AddRaftTimingFlag(app, "--memory-trim-interval-ms", &l->memory_trim_interval,
                    "How often the node looks for freed heap memory to give back");
  bytes("--memory-trim-min-free-bytes", &l->memory_trim_free_bytes_min,
        "Freed heap bytes kept for reuse; more go back to the kernel once big writes pause");
}

void AddRespLimitFlags(CLI::App* app, Limits* l) {
  auto count = [&](const std::string& name, size_t* v, const std::string& help) {
    app->add_option(name, *v, help)->capture_default_str()->check(CLI::PositiveNumber);
  };
  count("--resp-max-connections", &l->resp_connections_max, "Open RESP connections at most");
  count("--resp-max-array-elements", &l->resp_array_elements_max,
        "Arguments of one RESP command at most");
  count("--resp-max-inline-bytes", &l->resp_inline_bytes_max,
        "Bytes of one inline (typed) RESP command at most");
  count("--resp-max-command-bytes", &l->resp_command_bytes_max,
        "Bytes of one RESP command at most (must hold a SET of --max-value-bytes)");
  AddMillisFlag(app, "--resp-idle-timeout-ms", &l->resp_idle_timeout,
                "Close RESP connections idle this long");
  count("--resp-max-pipelined-commands", &l->resp_pipelined_commands_max,
        "RESP commands parsed ahead of their replies per connection");
  count("--resp-max-scan-cursors", &l->resp_scan_cursors_max,
        "SCAN cursors remembered (least recently used forgotten first)");
  count("--resp-max-keys", &l->resp_keys_max, "Keys one KEYS reply holds at most");
}

std::string FlagEnvName(std::string_view long_flag) {
  while (long_flag.starts_with('-')) long_flag.remove_prefix(1);
  std::string name = "NDS_";
  for (char c : long_flag) {
    name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

void AddConfigSources(CLI::App* start, bool* print_config) {
  for (CLI::Option* opt : start->get_options()) {
    if (opt->get_lnames().empty() || opt->get_lnames().front() == "help") continue;
    if (opt->get_envname().empty()) opt->envname(FlagEnvName(opt->get_lnames().front()));
  }
  start->add_flag("--print-config", *print_config,
                  "Print the flags' values (command line > NDS_<FLAG> > --config file) as TOML "
                  "and exit");
  // CLI11 reads a config file on the main app only; EnvFirstToml sends its items to `start`.
  CLI::App* app = start->get_parent();
  app->config_formatter(std::make_shared<EnvFirstToml>());
  app->allow_config_extras(CLI::config_extras_mode::error);  // a misspelt flag is an error
  app->set_config("--config", "",
                  "nds start: read flags from this TOML file (flag-name = value); the command "
                  "line and NDS_<FLAG> variables win over it");
}

std::string EffectiveConfig(const CLI::App* start) {
  std::string out = "# nds start: the flags' values (command line > environment > --config)\n";
  for (const CLI::Option* opt : start->get_options()) {
    if (opt->get_lnames().empty()) continue;
    const std::string& name = opt->get_lnames().front();
    if (name == "help" || name == "print-config") continue;
    if (name == "token" && opt->count() > 0) {
      out += "# token is set; not shown\n";
      continue;
    }
    std::string value;
    if (opt->count() > 0) {
      value = opt->as<std::string>();
    } else {
      value = opt->get_default_str();
      if (value.empty() && opt->get_type_size() == 0) value = "false";
      if (value.empty()) continue;
    }
    if (opt->get_type_size() == 0 && value != "false") value = "true";
    out += fmt::format("{} = {}\n", name, TomlValue(value));
  }
  return out;
}

}  // namespace nds::cli
