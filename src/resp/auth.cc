// Who may run which RESP command: the cluster's tokens (token_gate.h), or the test seam
// RespOptions::authenticate.
#include "resp/service.h"

namespace nds::resp {
namespace {

bool ExemptFromAuth(std::string_view name) {
  return name == "auth" || name == "hello" || name == "quit";
}

// The role a command needs: FLUSHDB and FLUSHALL wipe the key space (admin, like /clear), other
// writes need write, reads and the connection commands read.
store::TokenRole NeededRole(std::string_view name, CommandKind kind) {
  if (name == "flushdb" || name == "flushall") return store::TokenRole::kAdmin;
  return kind == CommandKind::kWrite ? store::TokenRole::kWrite : store::TokenRole::kRead;
}

}  // namespace

Result<AuthMode> RespService::Mode() {
  int cached = mode_cache_.load(std::memory_order_acquire);
  if (cached >= 0) return static_cast<AuthMode>(cached);
  NDS_ASSIGN_OR_RETURN(AuthMode mode, ReadAuthMode(node_->engine()));
  if (mode != AuthMode::kUnknown) {
    mode_cache_.store(static_cast<int>(mode), std::memory_order_release);
  }
  return mode;
}

std::string RespService::Refusal(Session* session, std::string_view name, CommandKind kind) {
  if (ExemptFromAuth(name)) return {};
  if (options_.authenticate) {
    return session->authenticated ? std::string() : "NOAUTH Authentication required.";
  }
  Result<AuthMode> mode = Mode();
  if (!mode.ok()) return "ERR " + mode.status().message();
  if (*mode == AuthMode::kOff) return {};
  if (*mode == AuthMode::kUnknown) {
    return "TRYAGAIN this node has not yet applied the cluster's first entries, so it cannot tell "
           "whether tokens are required; retry";
  }
  if (!session->grant) return "NOAUTH Authentication required.";
  // Looked up again before every command: a revocation this node has applied takes effect at the
  // connection's next command.
  Result<bool> still = StillGranted(node_->engine(), *session->grant);
  if (!still.ok()) return "ERR " + still.status().message();
  if (!*still) {
    session->grant.reset();
    return "NOAUTH the token was revoked; AUTH with another";
  }
  if (session->grant->role < NeededRole(name, kind)) {
    return "NOPERM this token's role does not allow the '" + std::string(name) + "' command";
  }
  return {};
}

Status RespService::Authenticate(Session* session, std::string_view user,
                                 std::string_view password) {
  if (options_.authenticate) {
    Status s = options_.authenticate(user, password);
    if (!s.ok()) return NotFound("wrong password");
    session->authenticated = true;
    return Status::Ok();
  }
  NDS_ASSIGN_OR_RETURN(AuthMode mode, Mode());
  if (mode == AuthMode::kOff) {
    // Redis's words when no password is configured; clients show them as they are.
    return FailedPrecondition(
        "AUTH <password> called without any password configured for the default user. Are you "
        "sure your configuration is correct?");
  }
  Result<TokenGrant> grant = CheckToken(node_->engine(), password);
  if (!grant.ok()) return grant.status();
  session->grant = *std::move(grant);
  return Status::Ok();
}

}  // namespace nds::resp
