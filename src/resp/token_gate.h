// The cluster's client tokens (docs/security.md) as the RESP front checks them. A cluster made
// with `nds start --auth` requires a token on every RESP connection too: `AUTH <token>` (or
// `AUTH <user> <token>`, `HELLO 2 AUTH <user> <token>`; the user name is ignored), then each
// command is checked against the token's role, and the token is looked up again before every
// command, so a revocation applied on this node stops the connection's next command.
//
// Tokens with a key prefix are refused over RESP: Redis commands name keys in too many places
// (MSET, SCAN MATCH, KEYS patterns) to scope them safely, so only unprefixed tokens are accepted.
//
// Free functions over the engine; thread-safe as far as the engine is.
#pragma once

#include <string>
#include <string_view>

#include "engine/engine.h"
#include "store/auth_state.h"
#include "util/status.h"

namespace nds::resp {

enum class AuthMode {
  kOff,      // a cluster made without --auth: every command is allowed
  kOn,       // tokens are required
  kUnknown,  // this node has not applied the cluster's first entries yet
};

// Reads the mode from one engine view: the mode is recorded before the first member, so members
// without a mode mean a cluster made without --auth. Errors from the engine as they are.
Result<AuthMode> ReadAuthMode(const engine::Engine& engine);

// A token that checked out: its name and its stored record (as stored, to notice a revocation).
struct TokenGrant {
  std::string name;
  std::string stored;  // the record's bytes at AUTH
  store::TokenRole role = store::TokenRole::kRead;
};

// Checks `token` ("<name>.<secret>") against the stored table. kNotFound for a malformed,
// unknown, revoked or wrong token; kFailedPrecondition (with the reason) for a token with a key
// prefix; engine errors as they are.
Result<TokenGrant> CheckToken(const engine::Engine& engine, std::string_view token);

// Whether `grant` is still the stored record of its name (false once revoked or replaced).
Result<bool> StillGranted(const engine::Engine& engine, const TokenGrant& grant);

}  // namespace nds::resp
