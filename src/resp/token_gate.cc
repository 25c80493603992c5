// RESP's token checks: see token_gate.h.
#include "resp/token_gate.h"

#include "crypto/access_token.h"
#include "store/keyspace.h"
#include "store/membership.h"

namespace nds::resp {

Result<AuthMode> ReadAuthMode(const engine::Engine& engine) {
  std::unique_ptr<engine::View> view = engine.NewView();
  NDS_ASSIGN_OR_RETURN(auto mode, view->Get(store::SystemKey(store::kAuthModeKey)));
  // Any recorded value is taken as "on": a value this version does not know fails closed.
  if (mode.has_value()) return AuthMode::kOn;
  NDS_ASSIGN_OR_RETURN(std::vector<store::MemberRecord> members, store::ReadMembers(*view));
  return members.empty() ? AuthMode::kUnknown : AuthMode::kOff;
}

Result<TokenGrant> CheckToken(const engine::Engine& engine, std::string_view token) {
  std::optional<std::string_view> name = crypto::AccessTokenName(token);
  if (!name || !store::ValidateTokenName(*name).ok()) return NotFound("malformed token");
  NDS_ASSIGN_OR_RETURN(auto stored, engine.Get(store::SystemKey(store::TokenKeyName(*name))));
  if (!stored.has_value()) return NotFound("unknown or revoked token");
  NDS_ASSIGN_OR_RETURN(store::TokenRecord record, store::DecodeTokenRecord(*stored));
  if (!crypto::AccessTokenMatches(record.hash, token)) return NotFound("wrong secret");
  if (!record.prefix.empty()) {
    return FailedPrecondition(
        "tokens with a key prefix are not accepted over RESP; use a token without a prefix");
  }
  return TokenGrant{std::string(*name), *std::move(stored), record.role};
}

Result<bool> StillGranted(const engine::Engine& engine, const TokenGrant& grant) {
  NDS_ASSIGN_OR_RETURN(auto stored, engine.Get(store::SystemKey(store::TokenKeyName(grant.name))));
  return stored.has_value() && *stored == grant.stored;
}

}  // namespace nds::resp
