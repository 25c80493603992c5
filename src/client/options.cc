// Server list parsing and option checks (see options.h).
#include "client/options.h"

#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include "util/file_system.h"

namespace nds::client {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Result<ServerAddress> ParseServer(std::string_view entry) {
  const std::string_view whole = entry;
  bool tls = false;
  if (const size_t scheme_end = entry.find("://"); scheme_end != std::string_view::npos) {
    const std::string_view scheme = entry.substr(0, scheme_end);
    if (scheme == "https") {
      tls = true;
    } else if (scheme != "http") {
      return InvalidArgument(
          fmt::format("server '{}': the scheme must be http:// or https://", whole));
    }
    entry.remove_prefix(scheme_end + 3);
    if (!entry.empty() && entry.back() == '/') entry.remove_suffix(1);
    if (entry.find('/') != std::string_view::npos) {
      return InvalidArgument(
          fmt::format("server '{}': give no path, only the host and port", whole));
    }
  }
  std::string_view host;
  std::string_view port_text;
  if (!entry.empty() && entry.front() == '[') {
    const size_t close = entry.find(']');
    if (close == std::string_view::npos || close + 1 >= entry.size() || entry[close + 1] != ':') {
      return InvalidArgument(fmt::format("server '{}' is not [IPV6]:PORT", entry));
    }
    host = entry.substr(1, close - 1);
    port_text = entry.substr(close + 2);
  } else {
    const size_t colon = entry.rfind(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument(fmt::format("server '{}' has no port: write HOST:PORT", entry));
    }
    host = entry.substr(0, colon);
    port_text = entry.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return InvalidArgument(fmt::format("server '{}': write an IPv6 host as [ADDR]:PORT", entry));
    }
  }
  if (host.empty()) return InvalidArgument(fmt::format("server '{}' has an empty host", entry));
  uint32_t port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return InvalidArgument(fmt::format("server '{}' has a bad port (1 to 65535)", entry));
  }
  return ServerAddress{std::string(host), static_cast<uint16_t>(port), tls};
}

}  // namespace

std::string ServerAddress::HostPort() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string ServerAddress::ToString() const { return tls ? "https://" + HostPort() : HostPort(); }

Result<std::vector<ServerAddress>> ParseServerList(std::string_view text) {
  std::vector<ServerAddress> servers;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view entry = Trim(text.substr(0, comma));
    if (entry.empty()) return InvalidArgument("empty entry in the server list");
    if (servers.size() == kServersMax) {
      return InvalidArgument(fmt::format("more than {} servers in the list", kServersMax));
    }
    NDS_ASSIGN_OR_RETURN(ServerAddress server, ParseServer(entry));
    servers.push_back(std::move(server));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return servers;
}

Status ClientOptions::Validate() const {
  if (servers.empty()) return InvalidArgument("the server list is empty");
  if (servers.size() > kServersMax) {
    return InvalidArgument(fmt::format("more than {} servers in the list", kServersMax));
  }
  for (const ServerAddress& s : servers) {
    if (s.host.empty() || s.port == 0) {
      return InvalidArgument(fmt::format("bad server address '{}'", s.ToString()));
    }
  }
  if (connect_timeout.count() <= 0 || request_timeout.count() <= 0) {
    return InvalidArgument("timeouts must be positive");
  }
  if (retry_deadline.count() < 0 || retry_delay_max.count() < 0) {
    return InvalidArgument("retry bounds must not be negative");
  }
  if (attempts_max == 0) return InvalidArgument("attempts_max must be at least 1");
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return InvalidArgument("a client certificate needs both --cert and --key");
  }
  if (reply_body_bytes_max == 0 || reply_header_bytes_max == 0) {
    return InvalidArgument("reply limits must be positive");
  }
  for (char c : auth_token) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return InvalidArgument("the auth token holds a space or control character");
    }
  }
  return Status::Ok();
}

Result<std::string> CommandLineAuthToken(const std::string& token_file) {
  if (!token_file.empty()) {
    auto token = ReadSecretFile(token_file);
    if (!token.ok()) return InvalidArgument("--token-file " + token.status().message());
    return token;
  }
  const char* env = std::getenv("NDS_AUTH_TOKEN");
  return std::string(env == nullptr ? "" : env);
}

}  // namespace nds::client
