// The access policy: route → needed role and key, and the role/prefix check.
#include "api/access.h"

#include <cctype>

#include <fmt/format.h>

namespace nds::api {
namespace {

bool IsRead(std::string_view method) { return method == "GET" || method == "HEAD"; }

// The decoded key of a keyed route, or std::nullopt when it does not decode or is absent.
std::optional<std::string> DecodedPathKey(std::string_view encoded) {
  auto key = PercentDecode(encoded, /*plus_is_space=*/false);
  if (!key.ok()) return std::nullopt;
  return std::move(key).value();
}

std::optional<std::string> ParamKey(const Target& target) {
  auto k = target.Param("k");
  if (!k) return std::nullopt;
  return std::string(*k);
}

}  // namespace

AccessNeed NeedFor(std::string_view method, const Target& target) {
  using store::TokenRole;
  std::string_view path = target.path;
  AccessNeed need;
  // The dashboard's static files are the same for everyone and hold no data (its figures come
  // from /ui/data, which needs a read token like any other read).
  const bool ui_file = (path == "/ui" || path.starts_with("/ui/")) && path != "/ui/data";
  if (path == "/" || path == "/healthz" || path == "/readyz" || path == "/role" ||
      path == "/metrics" || (path == "/cluster/members" && method == "POST") ||
      (ui_file && IsRead(method))) {
    need.open = true;
    return need;
  }
  need.role = IsRead(method) ? TokenRole::kRead : TokenRole::kWrite;
  constexpr std::string_view kStore = "/store/";
  constexpr std::string_view kSecrets = "/secrets/";
  if (path.starts_with(kStore)) {
    need.keyed = true;
    need.key = DecodedPathKey(path.substr(kStore.size()));
  } else if (path.starts_with(kSecrets)) {
    need.role = TokenRole::kWrite;
    need.keyed = true;
    need.key = DecodedPathKey(path.substr(kSecrets.size()));
  } else if (path == "/set" || path == "/rm") {
    need.role = TokenRole::kWrite;
    need.keyed = true;
    need.key = ParamKey(target);
  } else if (path == "/get" || path == "/is") {
    need.keyed = true;
    need.key = ParamKey(target);
  } else if (path == "/txn") {
    need.role = TokenRole::kWrite;  // every key it names is checked against the prefix later
  } else if (path == "/keys" || path == "/getKeys" || path == "/getValues" || path == "/getAll") {
    need.listing = true;
  } else if (path == "/watch") {
    // One key (key=K), scoped like a keyed read; else a prefix, scoped like a listing.
    if (auto k = target.Param("key")) {
      need.keyed = true;
      need.key = std::string(*k);
    } else {
      need.listing = true;
    }
  } else if (path == "/leases" || path.starts_with("/leases/") || path == "/status" ||
             path == "/cluster/members") {
    // Leases: GET reads; granting, keepalive and revocation write. A prefixed token grants leases
    // for its prefix only and touches no other lease (lease_routes.cc). /status and
    // /cluster/members: GET answers for everyone with a token; other methods are 405.
  } else if (path == "/clear" || path.starts_with("/auth/") || path == "/auth" ||
             path.starts_with("/snapshot") || !IsRead(method)) {
    // The admin routes, a change under /cluster/, and a change to an unknown route (fail closed).
    need.role = TokenRole::kAdmin;
  }
  return need;
}

std::string Forbidden(const store::TokenRecord& token, const AccessNeed& need,
                      const std::optional<std::string_view>& listing_prefix) {
  if (token.role < need.role) {
    return fmt::format("a {} token may not do this; it needs the {} role",
                       store::TokenRoleName(token.role), store::TokenRoleName(need.role));
  }
  if (token.prefix.empty()) return {};
  if (need.keyed) {
    if (!need.key || !need.key->starts_with(token.prefix)) {
      return "this token may only touch keys that start with its prefix";
    }
  }
  if (need.listing && listing_prefix && !listing_prefix->starts_with(token.prefix)) {
    return "this token may only list keys that start with its prefix; give prefix=<its prefix>"
           "... or leave prefix out";
  }
  return {};
}

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace nds::api
