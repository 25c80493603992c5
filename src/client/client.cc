// The typed calls of nds::Client (see client.h): each builds one HttpCall for a route of
// docs/api.md, sends it through the Transport and turns the reply into a value or a Status.
#include "client/client.h"

#include <cctype>
#include <strings.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "client/encoding.h"
#include "client/http_error.h"
#include "client/reply_parsing.h"
#include "client/transport.h"
#include "util/limits.h"

namespace nds::client {
namespace {

Status ValidateKey(std::string_view key, std::string_view what) {
  if (key.empty()) return InvalidArgument(fmt::format("empty {}", what));
  if (key.size() > kKeyBytesMax) {
    return InvalidArgument(
        fmt::format("{} of {} bytes is longer than {} bytes", what, key.size(), kKeyBytesMax));
  }
  return Status::Ok();
}

std::string StorePath(std::string_view key) { return "/store/" + PercentEncodePath(key); }

std::string KvTarget(std::string_view route, std::string_view key) {
  return fmt::format("/{}?k={}", route, FormEncode(key));
}

std::string EntityTag(uint64_t revision) { return fmt::format("\"{}\"", revision); }

uint64_t RevisionHeader(const HttpReply& reply) {
  return ParseRevision(reply.Header("x-revision")).value_or(0);
}

std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}

bool IsConditional(const HttpHeaders& headers) {
  for (const auto& [name, value] : headers) {
    if (strcasecmp(name.c_str(), "if-match") == 0 ||
        strcasecmp(name.c_str(), "if-none-match") == 0) {
      return true;
    }
  }
  return false;
}

// Builds a call; designated initializers would leave members out, which -Wextra rejects.
HttpCall MakeCall(std::string method, std::string target, bool idempotent,
                  std::string_view body = {}) {
  HttpCall call;
  call.method = std::move(method);
  call.target = std::move(target);
  call.idempotent = idempotent;
  call.body = body;
  return call;
}

}  // namespace

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  NDS_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<Client>(new Client(std::move(options)));
}

Client::Client(ClientOptions options)
    : auth_token_(options.auth_token),
      transport_(std::make_unique<Transport>(std::move(options))) {}

void Client::AddAuthorization(HttpCall* call) const {
  if (auth_token_.empty()) return;
  for (const auto& [name, value] : call->headers) {
    if (strcasecmp(name.c_str(), "authorization") == 0) return;
  }
  call->headers.emplace_back("Authorization", "Bearer " + auth_token_);
}

const ServerAddress& Client::current_server() const { return transport_->current_server(); }

Client::~Client() = default;

Result<HttpReply> Client::Call(HttpCall call) {
  AddAuthorization(&call);
  NDS_ASSIGN_OR_RETURN(HttpReply reply, transport_->Send(call));
  if (reply.status < 200 || reply.status >= 300) return StatusFromReply(reply);
  return reply;
}

Result<HttpReply> Client::Download(std::string_view target,
                                   const std::function<Status(std::string_view)>& sink) {
  HttpCall call;
  call.method = "GET";
  call.target = std::string(target);
  AddAuthorization(&call);
  NDS_ASSIGN_OR_RETURN(HttpReply reply, transport_->Stream(call, sink));
  if (reply.status < 200 || reply.status >= 300) return StatusFromReply(reply);
  return reply;
}

Result<PutResult> Client::Put(std::string_view key, std::string_view value,
                              const PutOptions& options) {
  NDS_RETURN_IF_ERROR(ValidateKey(key, "key"));
  HttpCall call = MakeCall("PUT", StorePath(key), false, value);
  if (!options.content_type.empty())
    call.headers.emplace_back("Content-Type", options.content_type);
  if (options.if_match_revision) {
    call.headers.emplace_back("If-Match", EntityTag(*options.if_match_revision));
  }
  if (options.if_none_match_star) call.headers.emplace_back("If-None-Match", "*");
  call.idempotent = !options.if_match_revision && !options.if_none_match_star;
  NDS_ASSIGN_OR_RETURN(const HttpReply reply, Call(std::move(call)));
  return PutResult{.revision = RevisionHeader(reply), .created = reply.status == 201};
}

Result<uint64_t> Client::Create(std::string_view key, std::string_view value,
                                std::string_view content_type) {
  NDS_RETURN_IF_ERROR(ValidateKey(key, "key"));
  HttpCall call = MakeCall("POST", StorePath(key), false, value);
  if (!content_type.empty()) call.headers.emplace_back("Content-Type", std::string(content_type));
  NDS_ASSIGN_OR_RETURN(const HttpReply reply, Call(std::move(call)));
  return RevisionHeader(reply);
}

Result<Blob> Client::Get(std::string_view key) {
  NDS_RETURN_IF_ERROR(ValidateKey(key, "key"));
  NDS_ASSIGN_OR_RETURN(HttpReply reply, Call(MakeCall("GET", StorePath(key), true)));
  Blob blob;
  blob.revision = ParseRevision(reply.Header("etag")).value_or(0);
  blob.content_type = std::string(reply.Header("content-type"));
  blob.value = std::move(reply.body);
  return blob;
}

Result<BlobInfo> Client::Head(std::string_view key) {
  NDS_RETURN_IF_ERROR(ValidateKey(key, "key"));
  NDS_ASSIGN_OR_RETURN(const HttpReply reply, Call(MakeCall("HEAD", StorePath(key), true)));
  BlobInfo info;
  info.size_bytes = ParseDecimal(reply.Header("content-length")).value_or(0);
  info.revision = ParseRevision(reply.Header("etag")).value_or(0);
  info.content_type = std::string(reply.Header("content-type"));
  return info;
}

Result<uint64_t> Client::Delete(std::string_view key, std::optional<uint64_t> if_match_revision) {
  NDS_RETURN_IF_ERROR(ValidateKey(key, "key"));
  HttpCall call = MakeCall("DELETE", StorePath(key), false);
  if (if_match_revision) call.headers.emplace_back("If-Match", EntityTag(*if_match_revision));
  call.idempotent = !if_match_revision;
  NDS_ASSIGN_OR_RETURN(const HttpReply reply, Call(std::move(call)));
  return RevisionHeader(reply);
}

Result<ListPage> Client::List(std::string_view prefix, std::string_view after, size_t limit) {
  if (limit > kListLimitMax) {
    return InvalidArgument(fmt::format("limit {} is over {}", limit, kListLimitMax));
  }
  std::string target = "/keys?encoding=base64";
  if (!prefix.empty()) target += "&prefix=" + FormEncode(prefix);
  if (!after.empty()) target += "&after=" + FormEncode(after);
  if (limit != 0) target += fmt::format("&limit={}", limit);
  NDS_ASSIGN_OR_RETURN(const HttpReply reply, Call(MakeCall("GET", std::move(target), true)));
  return ParseKeysPage(reply.body);
}

Status Client::ForEachKey(std::string_view prefix,
                          const std::function<Status(std::string_view)>& fn, size_t page_keys) {
  std::string after;
  // Each page must move `after` strictly forward, so the loop ends even against a faulty server.
  while (true) {
    NDS_ASSIGN_OR_RETURN(ListPage page, List(prefix, after, page_keys));
    for (const std::string& key : page.keys) NDS_RETURN_IF_ERROR(fn(key));
    if (!page.next) return Status::Ok();
    if (*page.next <= after) {
      return IoError("/keys reply's \"next\" does not move past the previous page");
    }
    after = std::move(*page.next);
  }
}

Status Client::Set(std::string_view key, std::string_view value) {
  NDS_RETURN_IF_ERROR(ValidateKey(key, "key"));
  std::string target = KvTarget("set", key) + "&v=" + FormEncode(value);
  return Call(MakeCall("GET", std::move(target), true)).status();
}

Result<std::string> Client::KvGet(std::string_view key) {
  NDS_RETURN_IF_ERROR(ValidateKey(key, "key"));
  NDS_ASSIGN_OR_RETURN(HttpReply reply, Call(MakeCall("GET", KvTarget("get", key), true)));
  return std::move(reply.body);
}

Status Client::Rm(std::string_view key) {
  NDS_RETURN_IF_ERROR(ValidateKey(key, "key"));
  return Call(MakeCall("GET", KvTarget("rm", key), true)).status();
}

Result<bool> Client::Is(std::string_view key) {
  NDS_RETURN_IF_ERROR(ValidateKey(key, "key"));
  Result<HttpReply> reply = Call(MakeCall("GET", KvTarget("is", key), true));
  if (reply.ok()) return true;
  if (reply.status().code() == StatusCode::kNotFound) return false;
  return reply.status();
}

Status Client::Clear() { return Call(MakeCall("GET", "/clear", true)).status(); }

Result<NodeStatus> Client::GetStatus() {
  NDS_ASSIGN_OR_RETURN(const HttpReply reply, Call(MakeCall("GET", "/status", true)));
  return ParseNodeStatus(reply.body);
}

Result<std::string> Client::Role() {
  NDS_ASSIGN_OR_RETURN(const HttpReply reply, Call(MakeCall("GET", "/role", true)));
  return std::string(TrimWhitespace(reply.body));
}

Result<std::vector<MemberInfo>> Client::Members() {
  NDS_ASSIGN_OR_RETURN(const HttpReply reply, Call(MakeCall("GET", "/cluster/members", true)));
  return ParseMembers(reply.body);
}

Result<JoinReply> Client::Join(const JoinRequest& request, std::string_view token) {
  if (token.empty()) return InvalidArgument("empty join token");
  // dump() throws on invalid UTF-8 unless told to replace it; the server then checks the text.
  nlohmann::json j{{"name", request.name},
                   {"peer_address", request.peer_address},
                   {"api_address", request.api_address}};
  if (!request.peer_certificate.empty()) j["peer_certificate"] = request.peer_certificate;
  const std::string body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  HttpCall call = MakeCall("POST", "/cluster/members", false, body);
  call.headers.emplace_back("Content-Type", "application/json");
  call.headers.emplace_back("Authorization", fmt::format("Bearer {}", token));
  NDS_ASSIGN_OR_RETURN(const HttpReply reply, Call(std::move(call)));
  return ParseJoinReply(reply.body);
}

Status Client::RemoveMember(NodeId id) {
  if (id == kNoNode) return InvalidArgument("member id 0 names no node");
  Status s = Call(MakeCall("DELETE", fmt::format("/cluster/members/{}", id.value), true)).status();
  // 409 here is the last member refusing to leave: a state the caller must change first.
  if (s.code() == StatusCode::kAlreadyExists) return FailedPrecondition(s.message());
  return s;
}

Status Client::TransferLeader(NodeId to) {
  if (to == kNoNode) return InvalidArgument("member id 0 names no node");
  const std::string body = nlohmann::json{{"to", to.value}}.dump();
  HttpCall call = MakeCall("POST", "/cluster/leader", false, body);
  call.headers.emplace_back("Content-Type", "application/json");
  return Call(std::move(call)).status();
}

Result<std::string> Client::StoreSecret(std::string_view id, std::string_view plaintext) {
  NDS_RETURN_IF_ERROR(ValidateKey(id, "secret id"));
  NDS_ASSIGN_OR_RETURN(
      const HttpReply reply,
      Call(MakeCall("POST", "/secrets/" + PercentEncodePath(id), false, plaintext)));
  return ParseSecretKey(reply.body);
}

Result<std::string> Client::RetrieveSecret(std::string_view id, std::string_view key) {
  NDS_RETURN_IF_ERROR(ValidateKey(id, "secret id"));
  if (key.empty()) return InvalidArgument("empty secret key");
  HttpCall call = MakeCall("GET", "/secrets/" + PercentEncodePath(id), true);
  call.headers.emplace_back("X-Secret-Key", std::string(key));
  NDS_ASSIGN_OR_RETURN(HttpReply reply, Call(std::move(call)));
  return std::move(reply.body);
}

Result<HttpReply> Client::Raw(std::string_view method, std::string_view target,
                              std::string_view body, const HttpHeaders& headers) {
  HttpCall call = MakeCall(std::string(method), std::string(target), false, body);
  call.headers = headers;
  AddAuthorization(&call);
  call.idempotent = method == "GET" || method == "HEAD" ||
                    ((method == "PUT" || method == "DELETE") && !IsConditional(headers));
  return transport_->Send(call);
}

}  // namespace nds::client
