// Authentication: the bearer-token check every request passes first (Authorize), and the token
// routes POST /auth/tokens, GET /auth/tokens and DELETE /auth/tokens/{name} (docs/api.md,
// docs/security.md). Tokens are looked up by the name they carry in this node's applied state.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/access.h"
#include "api/http_errors.h"
#include "api/json_text.h"
#include "api/service.h"
#include "crypto/access_token.h"
#include "crypto/secure.h"
#include "store/auth_state.h"
#include "store/keyspace.h"
#include "store/membership.h"

namespace nds::api {
namespace {

net::HttpResponse Unauthenticated(std::string_view message) {
  net::HttpResponse r = ErrorResponse(401, "unauthenticated", message);
  r.SetHeader("WWW-Authenticate", "Bearer");
  return r;
}

net::HttpResponse JsonAnswer(int status, std::string body) {
  net::HttpResponse r;
  r.status = status;
  r.SetHeader("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

struct NewToken {
  std::string name;
  store::TokenRole role = store::TokenRole::kRead;
  std::string prefix;
};

// The body of POST /auth/tokens, or kInvalidArgument saying what is wrong.
Result<NewToken> ParseNewToken(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument(
        "the body must be {\"name\": ..., \"role\": \"read|write|admin\", \"prefix\": ...}");
  }
  NewToken t;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string()) return InvalidArgument("\"name\" must be a string");
  t.name = name->get<std::string>();
  NDS_RETURN_IF_ERROR(store::ValidateTokenName(t.name));
  auto role = j.find("role");
  if (role == j.end() || !role->is_string()) return InvalidArgument("\"role\" must be a string");
  auto parsed = store::ParseTokenRole(role->get<std::string>());
  if (!parsed) return InvalidArgument("\"role\" must be \"read\", \"write\" or \"admin\"");
  t.role = *parsed;
  if (auto prefix = j.find("prefix"); prefix != j.end()) {
    if (!prefix->is_string()) return InvalidArgument("\"prefix\" must be a string");
    t.prefix = prefix->get<std::string>();
  }
  NDS_RETURN_IF_ERROR(store::ValidateTokenScope(t.role, t.prefix));
  for (const auto& [field, value] : j.items()) {
    if (field != "name" && field != "role" && field != "prefix") {
      return InvalidArgument("unknown field in the body (allowed: name, role, prefix)");
    }
  }
  return t;
}

}  // namespace

Result<ApiService::AuthMode> ApiService::CurrentAuthMode() {
  if (auth_on_.load(std::memory_order_acquire)) return AuthMode::kOn;
  // Once seen, a cluster made without --auth stays so (no command records the mode after the
  // first member, store/auth_state.h), as the RESP front also takes it: no engine read per
  // request then (it was about 6 % of a leader's CPU under 10,000 lease keepalives a second).
  if (seeded_without_auth_.load(std::memory_order_acquire)) return AuthMode::kOff;
  // The mode and the member table are read from one view: the mode is recorded before the first
  // member, so members without a mode in the same view mean a cluster made without --auth.
  std::unique_ptr<engine::View> view = node_->engine().NewView();
  NDS_ASSIGN_OR_RETURN(auto mode, view->Get(store::SystemKey(store::kAuthModeKey)));
  if (mode.has_value()) {
    // Any recorded value but "on" is unknown to this version: fail closed.
    auth_on_.store(true, std::memory_order_release);
    return AuthMode::kOn;
  }
  NDS_ASSIGN_OR_RETURN(std::vector<store::MemberRecord> members, store::ReadMembers(*view));
  if (members.empty()) return AuthMode::kUnknown;
  seeded_without_auth_.store(true, std::memory_order_release);
  return AuthMode::kOff;
}

bool ApiService::Authorize(const CallPtr& call) {
  AccessNeed need = NeedFor(call->request.method, call->target);
  if (need.open) return true;
  Result<AuthMode> mode = CurrentAuthMode();
  if (!mode.ok()) {
    Finish(call, ErrorResponse(mode.status()));
    return false;
  }
  if (*mode == AuthMode::kOff) return true;
  if (*mode == AuthMode::kUnknown) {
    Finish(call, ErrorResponse(503, "not_ready",
                               "this node has not yet applied the cluster's first entries, so it "
                               "cannot tell whether tokens are required; retry"));
    return false;
  }
  std::optional<std::string_view> token = BearerToken(call->request.Header("authorization"));
  if (!token) {
    Finish(call, Unauthenticated("this cluster requires a token: Authorization: Bearer <token>"));
    return false;
  }
  std::optional<std::string_view> name = crypto::AccessTokenName(*token);
  if (!name || !store::ValidateTokenName(*name).ok()) {
    Finish(call, Unauthenticated("the bearer token is malformed"));
    return false;
  }
  auto cached = node_->token_cache().Lookup(node_->engine(), *name);
  if (!cached.ok()) {
    Finish(call, ErrorResponse(cached.status()));
    return false;
  }
  std::shared_ptr<const store::TokenCache::Entry> entry = std::move(cached).value();
  if (!entry || !crypto::AccessTokenMatches(entry->record.hash, *token)) {
    if (!call->auth_waited) {
      // Created (or replaced) on another node a moment ago, this token may not have reached this
      // node's applied state yet: look again once it has caught up with the leader's commit. An
      // unknown token therefore costs one batched ReadIndex round, and never gets in.
      call->auth_waited = true;
      node_->WaitForReadPoint([this, call](const Status& s) {
        if (!s.ok()) return Finish(call, Unauthenticated("unknown or revoked token"));
        if (Authorize(call)) Dispatch(call);
      });
    } else {
      Finish(call, Unauthenticated("unknown or revoked token"));
    }
    return false;
  }
  std::optional<std::string_view> listing_prefix = call->target.Param("prefix");
  std::string reason = Forbidden(entry->record, need, listing_prefix);
  if (!reason.empty()) {
    Finish(call, ErrorResponse(403, "permission_denied", reason));
    return false;
  }
  if (need.listing && !listing_prefix && !entry->record.prefix.empty()) {
    call->target.query.emplace_back("prefix", entry->record.prefix);  // list the token's own keys
  }
  call->auth_name.assign(*name);
  call->auth_record = entry->stored;
  call->auth_digest = entry->digest;
  return true;
}

bool ApiService::StillAuthorized(const CallPtr& call) {
  if (call->auth_name.empty()) return true;
  auto entry = node_->token_cache().Lookup(node_->engine(), call->auth_name);
  if (!entry.ok()) {
    Finish(call, ErrorResponse(entry.status()));
    return false;
  }
  if (*entry == nullptr || (*entry)->stored != call->auth_record) {
    Finish(call, Unauthenticated("unknown or revoked token"));
    return false;
  }
  return true;
}

void ApiService::HandleAuth(const CallPtr& call, std::string_view path) {
  call->route = Route::kOther;
  const std::string& m = call->request.method;
  constexpr std::string_view kOne = "/auth/tokens/";
  if (path.starts_with(kOne)) {
    if (m == "DELETE") return RevokeToken(call, path.substr(kOne.size()));
    net::HttpResponse r = ErrorResponse(405, "method_not_allowed", "this route allows DELETE");
    r.SetHeader("Allow", "DELETE");
    return Finish(call, std::move(r));
  }
  if (m == "POST") return CreateToken(call);
  if (m == "GET") return ListTokens(call);
  net::HttpResponse r = ErrorResponse(405, "method_not_allowed", "this route allows GET, POST");
  r.SetHeader("Allow", "GET, POST");
  Finish(call, std::move(r));
}

void ApiService::CreateToken(const CallPtr& call) {
  Result<NewToken> wanted = ParseNewToken(call->request.body);
  if (!wanted.ok()) return Finish(call, ErrorResponse(wanted.status()));
  // The name and count checks read the state at a linearizable read point; the command also
  // requires that the name not exist when it is applied, so of two creates of one name racing
  // past the read point only the first in the log takes effect (the other gets 409).
  AfterReadPoint(call, [this, call, wanted = std::move(wanted).value()] {
    auto tokens = store::ReadTokens(*node_->engine().NewView());
    if (!tokens.ok()) return Finish(call, ErrorResponse(tokens.status()));
    for (const auto& [name, record] : *tokens) {
      if (name == wanted.name) {
        return Finish(call, ErrorResponse(409, "already_exists",
                                          "a token of that name exists; revoke it first"));
      }
    }
    if (tokens->size() >= options_.auth_tokens_max) {
      return Finish(call, ErrorResponse(409, "too_many_tokens",
                                        fmt::format("the cluster holds {} tokens, the most "
                                                    "--max-auth-tokens allows; revoke some first",
                                                    tokens->size())));
    }
    auto token = std::make_shared<std::string>(crypto::GenerateAccessToken(wanted.name));
    store::TokenRecord record{wanted.role, wanted.prefix, crypto::HashAccessToken(*token)};
    SubmitThen(
        call,
        store::PutSystemCommand(store::TokenKeyName(wanted.name), store::EncodeTokenRecord(record),
                                store::Precondition::kMustNotExist),
        [token, name = wanted.name](const store::ApplyResult&) {
          std::string body = "{\"name\":";
          AppendJsonString(&body, name, StringEncoding::kLossyUtf8);
          body += ",\"token\":";
          AppendJsonString(&body, *token, StringEncoding::kLossyUtf8);
          body += "}\n";
          crypto::SecureWipe(*token);
          net::HttpResponse r = JsonAnswer(201, std::move(body));
          r.SetHeader("Cache-Control", "no-store");
          return r;
        },
        [token](const Status& s) {
          crypto::SecureWipe(*token);
          return s.code() == StatusCode::kAlreadyExists
                     ? ErrorResponse(409, "already_exists",
                                     "a token of that name exists; revoke it first")
                     : ErrorResponse(s);
        });
  });
}

void ApiService::ListTokens(const CallPtr& call) {
  AfterReadPoint(call, [this, call] {
    auto tokens = store::ReadTokens(*node_->engine().NewView());
    if (!tokens.ok()) return Finish(call, ErrorResponse(tokens.status()));
    std::string body = "{\"tokens\":[";
    bool first = true;
    for (const auto& [name, record] : *tokens) {
      if (!first) body.push_back(',');
      first = false;
      body += "{\"name\":";
      AppendJsonString(&body, name, StringEncoding::kLossyUtf8);
      body += ",\"role\":";
      AppendJsonString(&body, store::TokenRoleName(record.role), StringEncoding::kLossyUtf8);
      body += ",\"prefix\":";
      AppendJsonString(&body, record.prefix, StringEncoding::kLossyUtf8);
      body.push_back('}');
    }
    body += "]}\n";
    Finish(call, JsonAnswer(200, std::move(body)));
  });
}

void ApiService::RevokeToken(const CallPtr& call, std::string_view encoded_name) {
  auto name = PercentDecode(encoded_name, /*plus_is_space=*/false);
  if (!name.ok()) return Finish(call, ErrorResponse(name.status()));
  if (Status s = store::ValidateTokenName(*name); !s.ok()) return Finish(call, ErrorResponse(s));
  AfterReadPoint(call, [this, call, name = std::move(name).value()] {
    auto stored = node_->engine().Get(store::SystemKey(store::TokenKeyName(name)));
    if (!stored.ok()) return Finish(call, ErrorResponse(stored.status()));
    if (!stored->has_value()) {
      return Finish(call, ErrorResponse(404, "not_found", "no token of that name"));
    }
    SubmitThen(call, store::DeleteSystemCommand(store::TokenKeyName(name)),
               [](const store::ApplyResult&) {
                 net::HttpResponse r;
                 r.status = 204;
                 return r;
               });
  });
}

}  // namespace nds::api
