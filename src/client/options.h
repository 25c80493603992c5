// How a Client finds the cluster and how long it waits: the server list (`--server` /
// NDS_SERVER, docs/api.md "Command line") and the timeouts and retry bounds of one call.
// Plain value types: copy them freely.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace nds::client {

inline constexpr std::string_view kDefaultServer = "localhost:7777";
// Starts the message of every "no server could be reached" Status, so that a caller (the CLI)
// can tell it from a 503 and add advice.
inline constexpr std::string_view kCannotReachPrefix = "cannot reach ";

// A server list longer than this is refused: every call may try each address once.
inline constexpr size_t kServersMax = 64;

struct ServerAddress {
  std::string host;  // a name, an IPv4 address, or an IPv6 address without brackets
  uint16_t port = 0;
  bool tls = false;  // given as https://: spoken to over TLS, its certificate verified

  // "host:port" (brackets around an IPv6 host), prefixed with "https://" for a TLS server, so
  // that ParseServerList reads it back as it was.
  std::string ToString() const;
  // "host:port" alone: the Host header.
  std::string HostPort() const;
  bool operator==(const ServerAddress&) const = default;
};

// Parses "HOST:PORT[,HOST:PORT...]" ("[::1]:7777" for IPv6; spaces around entries are ignored).
// An entry may be a URL: "https://HOST:PORT" (TLS) or "http://HOST:PORT" (plain, the default),
// with an optional trailing "/"; any other scheme or a path is kInvalidArgument.
// Returns kInvalidArgument naming the bad entry for an empty list, an empty host, a missing,
// non-numeric or zero port, or more than kServersMax entries.
Result<std::vector<ServerAddress>> ParseServerList(std::string_view text);

// TLS for https:// servers (`--cacert`, `--cert`, `--key`). PEM file paths; empty means none.
struct ClientTlsOptions {
  std::string ca_file;    // CAs that server certificates must chain to; empty: the system's
  std::string cert_file;  // a client certificate, for servers started with --tls-client-ca
  std::string key_file;   // its private key
  bool operator==(const ClientTlsOptions&) const = default;
};

struct ClientOptions {
  // Tried in order; the client stays with the first one that answers and moves to the next one
  // when it does not. Must not be empty.
  std::vector<ServerAddress> servers{ServerAddress{"localhost", 7777}};
  // Name resolution plus TCP connect to one server.
  std::chrono::milliseconds connect_timeout{2'000};
  // From the first byte of a request sent to the last byte of its reply, per attempt. Longer than
  // the server's own request timeout (5 s), which answers 503 when it cannot commit in time.
  std::chrono::milliseconds request_timeout{10'000};
  // Attempts of one idempotent call (failovers and 503 retries included). Connect failures do
  // not count here: each server is tried at most once per call for them.
  size_t attempts_max = 3;
  // No new attempt starts later than this after the call began.
  std::chrono::milliseconds retry_deadline{30'000};
  // A 503's Retry-After is honoured up to this wait before the next attempt.
  std::chrono::milliseconds retry_delay_max{1'000};
  // Replies with a larger body are refused (kResourceExhausted) and the connection dropped.
  // Room for the 16 MiB default value limit and any listing page of 10000 keys of 1 KiB.
  size_t reply_body_bytes_max = 64 << 20;
  size_t reply_header_bytes_max = 64 << 10;
  // Sent as "Authorization: Bearer <auth_token>" on every call that sets no Authorization of its
  // own (Join sends the join token instead). Empty: no header.
  std::string auth_token;
  // Used for the servers given as https://; TLS handshakes count against connect_timeout.
  ClientTlsOptions tls;

  // Rejects an empty or too long server list, zero ports, zero timeouts, zero attempts, and
  // zero reply limits, with kInvalidArgument.
  Status Validate() const;
};

// The bearer token of a command-line client (docs/cli.md): the first line of `token_file` when it
// is not empty, else the environment variable NDS_AUTH_TOKEN, else "" (no token).
// kInvalidArgument naming the file when it cannot be read or is empty.
Result<std::string> CommandLineAuthToken(const std::string& token_file);

}  // namespace nds::client
