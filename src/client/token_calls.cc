// The access-token calls of nds::Client (client.h "Access tokens"): /auth/tokens.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "client/client.h"
#include "client/encoding.h"

namespace nds::client {
namespace {

// A string field of a JSON object, or kIoError naming it.
Result<std::string> StringField(const nlohmann::json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) {
    return IoError(fmt::format("the reply has no string \"{}\"", field));
  }
  return it->get<std::string>();
}

}  // namespace

Result<std::string> Client::CreateToken(std::string_view name, std::string_view role,
                                        std::string_view prefix) {
  const std::string body = nlohmann::json{{"name", name}, {"role", role}, {"prefix", prefix}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  HttpCall call{"POST", "/auth/tokens", body, {{"Content-Type", "application/json"}}, false};
  NDS_ASSIGN_OR_RETURN(const HttpReply reply, Call(std::move(call)));
  auto j = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return IoError("the reply to POST /auth/tokens is not a JSON object");
  return StringField(j, "token");
}

Result<std::vector<TokenInfo>> Client::ListTokens() {
  NDS_ASSIGN_OR_RETURN(const HttpReply reply,
                       Call(HttpCall{"GET", "/auth/tokens", {}, {}, /*idempotent=*/true}));
  auto j = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("tokens") || !j["tokens"].is_array()) {
    return IoError("the reply to GET /auth/tokens is not {\"tokens\": [...]}");
  }
  std::vector<TokenInfo> out;
  for (const auto& t : j["tokens"]) {
    if (!t.is_object()) return IoError("a token in the reply is not a JSON object");
    TokenInfo info;
    NDS_ASSIGN_OR_RETURN(info.name, StringField(t, "name"));
    NDS_ASSIGN_OR_RETURN(info.role, StringField(t, "role"));
    NDS_ASSIGN_OR_RETURN(info.prefix, StringField(t, "prefix"));
    out.push_back(std::move(info));
  }
  return out;
}

Status Client::RevokeToken(std::string_view name) {
  if (name.empty()) return InvalidArgument("empty token name");
  // Not retried: a retry of a revocation that took effect would answer 404.
  return Call(HttpCall{"DELETE", "/auth/tokens/" + PercentEncodePath(name), {}, {}, false})
      .status();
}

}  // namespace nds::client
