// HTTP register operations and the classification of their answers (see register_client.h).
#include "check/register_client.h"

#include <charconv>
#include <utility>

#include "client/encoding.h"
#include "client/options.h"

namespace nds::check {
namespace {

// Statuses that prove the request was refused before it could take effect.
bool IsDefiniteRefusal(int status) {
  switch (status) {
    case 400:  // bad input
    case 404:  // no such route
    case 405:  // wrong method
    case 409:  // exists (POST only)
    case 413:  // value too large: nothing stored
    case 414:  // target too long
    case 431:  // headers too large
      return true;
    default:
      return false;
  }
}

bool IsCannotReach(const Status& status) {
  // The transport says so only when nothing was sent (client/transport.h).
  return status.code() == StatusCode::kUnavailable &&
         std::string_view(status.message()).starts_with(client::kCannotReachPrefix);
}

}  // namespace

WriteVerdict ClassifyWrite(const Result<client::HttpReply>& reply, bool conditional) {
  if (!reply.ok()) {
    return {
        IsCannotReach(reply.status()) ? sim::OpOutcome::kFailed : sim::OpOutcome::kIndeterminate,
        false};
  }
  int status = reply->status;
  if (status >= 200 && status < 300) return {sim::OpOutcome::kOk, true};
  if (status == 412 && conditional) return {sim::OpOutcome::kOk, false};
  if (IsDefiniteRefusal(status)) return {sim::OpOutcome::kFailed, false};
  return {sim::OpOutcome::kIndeterminate, false};
}

ReadVerdict ClassifyRead(const Result<client::HttpReply>& reply) {
  ReadVerdict v;
  if (!reply.ok()) {
    if (IsCannotReach(reply.status())) v.outcome = sim::OpOutcome::kFailed;
    return v;
  }
  if (reply->status == 200) {
    v.outcome = sim::OpOutcome::kOk;
    v.value = reply->body;
    v.revision = ParseEtagRevision(reply->Header("etag"));
  } else if (reply->status == 404) {
    v.outcome = sim::OpOutcome::kOk;
  }
  return v;
}

std::optional<uint64_t> ParseEtagRevision(std::string_view etag) {
  if (etag.size() < 3 || etag.front() != '"' || etag.back() != '"') return std::nullopt;
  std::string_view digits = etag.substr(1, etag.size() - 2);
  uint64_t revision = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), revision);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return revision;
}

Result<client::HttpReply> RegisterClient::Get(const std::string& address, std::string_view key) {
  return Send(address, "GET", "/store/" + client::PercentEncodePath(key), {}, {});
}

Result<client::HttpReply> RegisterClient::Post(const std::string& address, std::string_view target,
                                               std::string_view body) {
  return Send(address, "POST", target, body, {{"Content-Type", "application/json"}});
}

Result<client::HttpReply> RegisterClient::Put(const std::string& address, std::string_view key,
                                              std::string_view value,
                                              std::optional<uint64_t> if_match,
                                              bool if_none_match_star) {
  client::HttpHeaders headers;
  if (if_match) headers.emplace_back("If-Match", "\"" + std::to_string(*if_match) + "\"");
  if (if_none_match_star) headers.emplace_back("If-None-Match", "*");
  return Send(address, "PUT", "/store/" + client::PercentEncodePath(key), value, headers);
}

Result<client::HttpReply> RegisterClient::Send(const std::string& address, std::string_view method,
                                               std::string_view target, std::string_view body,
                                               const client::HttpHeaders& headers) {
  auto it = clients_.find(address);
  if (it == clients_.end()) {
    client::ClientOptions options;
    NDS_ASSIGN_OR_RETURN(options.servers, client::ParseServerList(address));
    options.request_timeout = request_timeout_;
    options.connect_timeout = std::min(request_timeout_, std::chrono::milliseconds(1'000));
    options.attempts_max = 1;  // never retried: see the class comment
    options.retry_deadline = request_timeout_;
    options.auth_token = auth_token_;
    options.tls = tls_;
    NDS_ASSIGN_OR_RETURN(std::unique_ptr<Client> c, Client::Create(std::move(options)));
    it = clients_.emplace(address, std::move(c)).first;
  }
  Result<client::HttpReply> reply = it->second->Raw(method, target, body, headers);
  // After a transport failure the connection's state is unknown: the next call starts afresh.
  if (!reply.ok()) clients_.erase(it);
  return reply;
}

}  // namespace nds::check
