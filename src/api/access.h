// Who may do what (docs/security.md): which role a request needs and which key it touches, and
// whether a token record allows it. Pure functions of the request line; the service looks the
// token up and answers 401/403 (auth_routes.cc). Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/uri.h"
#include "store/auth_state.h"
#include "util/status.h"

namespace nds::api {

struct AccessNeed {
  // No bearer token is asked for: GET /healthz, /readyz, /role, /metrics (any method: the others
  // are 405 and change nothing), and POST /cluster/members, which checks the join token itself.
  bool open = false;
  store::TokenRole role = store::TokenRole::kRead;
  // The request names one key (a /store/ location, the k of /set /get /rm /is, a /secrets/ id).
  bool keyed = false;
  // The decoded key; std::nullopt when `keyed` but it does not decode (the route answers 400).
  std::optional<std::string> key;
  // A listing or bulk route (/keys, /getKeys, /getValues, /getAll): its prefix is scoped.
  bool listing = false;
};

// The rules, in order: open routes; /auth/* and /clear and /snapshot* and every non-GET
// /cluster/* route need admin; /secrets/* needs write; other GET and HEAD requests need read;
// any other method needs write, except on unknown routes, which need admin (fail closed).
AccessNeed NeedFor(std::string_view method, const Target& target);

// Whether `token` may make a request needing `need`: an empty string when it may, else the
// reason for a 403. `listing_prefix` is the listing's prefix parameter (std::nullopt when absent:
// the service then lists the token's own prefix). A prefixed token may touch only keys (and
// secret ids) that start with its prefix, and list only prefixes that start with it.
std::string Forbidden(const store::TokenRecord& token, const AccessNeed& need,
                      const std::optional<std::string_view>& listing_prefix);

// The token of an "Authorization: Bearer <token>" header (scheme case-insensitive, spaces around
// the token ignored), or std::nullopt when absent, of another scheme, or empty.
std::optional<std::string_view> BearerToken(std::string_view authorization);

}  // namespace nds::api
