// Cluster and operations routes: /role, /status, /cluster/members (list, join, leave),
// /cluster/leader, /healthz, /readyz, /metrics. "goose" and "duck" live only here (STYLE.md §2).
#include <cctype>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/access.h"
#include "api/http_errors.h"
#include "api/json_text.h"
#include "api/service.h"
#include "crypto/base64url.h"
#include "crypto/join_token.h"
#include "store/keyspace.h"
#include "store/membership.h"

namespace nds::api {
namespace {

net::HttpResponse Text(std::string body) {
  net::HttpResponse r;
  r.SetHeader("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

net::HttpResponse Json(std::string body) {
  net::HttpResponse r;
  r.SetHeader("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

void AppendField(std::string* out, std::string_view name, std::string_view value) {
  AppendJsonString(out, name, StringEncoding::kLossyUtf8);
  out->push_back(':');
  AppendJsonString(out, value, StringEncoding::kLossyUtf8);
}

// Decimal digits only, fitting in 64 bits.
std::optional<uint64_t> ParseId(std::string_view text) {
  uint64_t id = 0;
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

// The body of POST /cluster/members: the new member and the peer certificate it will present.
struct JoinBody {
  store::MemberRecord record;
  std::optional<std::string> peer_certificate;  // PEM; absent when it runs no peer TLS
};

// The body of POST /cluster/members, or kInvalidArgument saying what is wrong.
Result<JoinBody> ParseJoinRequest(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument(
        "the body must be {\"name\": ..., \"peer_address\": ..., \"api_address\": ...}");
  }
  JoinBody out;
  store::MemberRecord& r = out.record;
  for (auto [field, value] :
       {std::pair{"name", &r.name}, std::pair{"peer_address", &r.peer_address},
        std::pair{"api_address", &r.api_address}}) {
    auto it = j.find(field);
    if (it == j.end() || !it->is_string()) {
      return InvalidArgument(fmt::format("\"{}\" must be a string", field));
    }
    *value = it->get<std::string>();
  }
  if (auto cert = j.find("peer_certificate"); cert != j.end()) {
    if (!cert->is_string()) return InvalidArgument("\"peer_certificate\" must be a string");
    out.peer_certificate = cert->get<std::string>();
  }
  NDS_RETURN_IF_ERROR(store::ValidateMemberRecord(r));
  for (const std::string* address : {&r.peer_address, &r.api_address}) {
    if (!store::IsMemberAddress(*address)) {
      return InvalidArgument(fmt::format("address of {} bytes is not HOST:PORT", address->size()));
    }
  }
  return out;
}

// Whether a joiner's peer TLS matches this cluster's: without this check a node the members'
// TLS refuses (no certificate, another CA's) would be added as a learner that never catches up.
Status CheckJoinerPeerTls(const net::PeerTls* ours, const std::optional<std::string>& theirs) {
  if (ours == nullptr) {
    if (!theirs) return Status::Ok();
    return InvalidArgument(
        "this cluster's peer connections do not use TLS: start the joining node without "
        "--peer-tls-cert, --peer-tls-key and --peer-tls-ca");
  }
  if (!theirs) {
    return InvalidArgument(
        "this cluster's peer connections use mutual TLS: start the joining node with "
        "--peer-tls-cert, --peer-tls-key and --peer-tls-ca (a certificate this cluster's peer CA "
        "signed)");
  }
  return ours->CheckPeerCertificate(*theirs);
}

}  // namespace

std::string ApiService::StatusJson() const {
  node::NodeStatus s = node_->GetStatus();
  std::string out = "{";
  out += fmt::format("\"id\":{},", s.id);
  AppendField(&out, "name", s.name);
  out += ',';
  AppendField(&out, "cluster_id", s.cluster_id);
  out += ',';
  AppendField(&out, "role", node::RoleName(s.role));
  out += fmt::format(
      ",\"goose\":{},\"term\":{},\"leader_id\":{},\"commit_index\":{},"
      "\"applied_index\":{},\"ready\":{},",
      s.has_lease, s.term, s.leader_id, s.commit_index, s.applied_index, s.ready);
  AppendField(&out, "engine", s.engine);
  out += ',';
  AppendField(&out, "version", options_.version);
  out += "}\n";
  return out;
}

std::string ApiService::MembersJson() const {
  std::string out = "[";
  bool first = true;
  for (const node::MemberInfo& m : node_->Members()) {
    if (!first) out += ',';
    first = false;
    out += fmt::format("{{\"id\":{},", m.id);
    AppendField(&out, "name", m.name);
    out += ',';
    AppendField(&out, "peer_address", m.peer_address);
    out += ',';
    AppendField(&out, "api_address", m.api_address);
    out += fmt::format(",\"voter\":{},\"reachable\":{},\"behind\":{}}}", m.voter, m.reachable,
                       m.behind);
  }
  out += "]\n";
  return out;
}

bool ApiService::HandleCluster(const CallPtr& call, std::string_view path) {
  const std::string& m = call->request.method;
  auto only = [&](std::string_view allow) {
    if (m == allow) return true;
    net::HttpResponse r =
        ErrorResponse(405, "method_not_allowed", "this route allows " + std::string(allow));
    r.SetHeader("Allow", std::string(allow));
    Finish(call, std::move(r));
    return false;
  };
  if (path == "/role") {
    call->route = Route::kRole;
    if (!only("GET")) return true;
    node::NodeStatus s = node_->GetStatus();
    bool goose = s.role == node::Role::kLeader && s.has_lease;
    Finish(call, Text(goose ? "goose" : "duck"));
  } else if (path == "/status") {
    call->route = Route::kStatus;
    if (only("GET")) Finish(call, Json(StatusJson()));
  } else if (path == "/healthz") {
    call->route = Route::kHealthz;
    if (only("GET")) Finish(call, Text("ok\n"));
  } else if (path == "/readyz") {
    call->route = Route::kReadyz;
    if (!only("GET")) return true;
    node::NodeStatus s = node_->GetStatus();
    if (s.ready) {
      Finish(call, Text("ready\n"));
    } else if (s.role == node::Role::kRemoved) {
      Finish(call, ErrorResponse(Removed(std::string(node::kRemovedMessage))));
    } else {
      std::string why =
          s.leader_id == 0 ? std::string("no leader known yet")
          : s.role == node::Role::kLearner
              ? fmt::format("a learner still catching up ({} applied of {} committed)",
                            s.applied_index, s.commit_index)
              : fmt::format("still applying ({} applied of {} committed)", s.applied_index,
                            s.commit_index);
      Finish(call, ErrorResponse(503, "not_ready", why));
    }
  } else if (path == "/metrics") {
    call->route = Route::kMetrics;
    if (!only("GET")) return true;
    net::HttpResponse r = Text(MetricsText());
    r.headers.clear();
    r.SetHeader("Content-Type", "text/plain; version=0.0.4");
    Finish(call, std::move(r));
  } else if (path == "/cluster/members") {
    call->route = Route::kMembers;
    if (m == "GET") {
      Finish(call, Json(MembersJson()));
    } else if (m == "POST") {
      call->route = Route::kMembersChange;
      JoinCluster(call);
    } else {
      only("GET");
    }
  } else if (path.starts_with("/cluster/members/")) {
    call->route = Route::kMembersChange;
    if (only("DELETE"))
      RemoveMember(call, path.substr(std::string_view("/cluster/members/").size()));
  } else if (path == "/cluster/leader") {
    call->route = Route::kLeader;
    if (only("POST")) TransferLeader(call);
  } else {
    return false;
  }
  return true;
}

void ApiService::JoinCluster(const CallPtr& call) {
  std::optional<std::string_view> token = BearerToken(call->request.Header("authorization"));
  if (!token) {
    net::HttpResponse r =
        ErrorResponse(401, "unauthenticated",
                      "joining needs the cluster's join token: Authorization: Bearer <token>");
    r.SetHeader("WWW-Authenticate", "Bearer");
    Finish(call, std::move(r));
    return;
  }
  // The check must see the latest token hash, as a linearizable read would.
  node_->WaitForReadPoint([this, call, token = std::string(*token)](const Status& s) {
    if (!s.ok()) return Finish(call, ErrorResponse(s));
    auto hash = node_->engine().Get(store::SystemKey(store::kJoinTokenHashKey));
    if (!hash.ok()) return Finish(call, ErrorResponse(hash.status()));
    if (!crypto::JoinTokenMatches(hash->value_or(std::string()), token)) {
      return Finish(call, ErrorResponse(403, "permission_denied", "wrong join token"));
    }
    if (options_.cluster_secret.empty()) {
      return Finish(call, ErrorResponse(503, "unavailable",
                                        "this node holds no cluster secret to hand to a joiner"));
    }
    Result<JoinBody> join = ParseJoinRequest(call->request.body);
    if (!join.ok()) return Finish(call, ErrorResponse(join.status()));
    Status tls = CheckJoinerPeerTls(options_.peer_tls.get(), join->peer_certificate);
    if (!tls.ok()) return Finish(call, ErrorResponse(tls));
    SubmitThen(call, store::AddMemberCommand(std::move(join->record)),
               [this](const store::ApplyResult& r) {
                 net::HttpResponse resp = Json(fmt::format("{{\"id\":{},", r.revision));
                 resp.status = 201;
                 AppendField(&resp.body, "cluster_id", node_->GetStatus().cluster_id);
                 // Only here, after the join token checked out: the joiner needs it to speak
                 // to its peers (docs/cluster.md "Security").
                 resp.body += ',';
                 AppendField(&resp.body, "cluster_secret",
                             crypto::Base64UrlEncode(options_.cluster_secret));
                 resp.body += ",\"members\":" + MembersJson();
                 resp.body.back() = '}';  // MembersJson ends in a newline
                 resp.body += '\n';
                 resp.SetHeader("Location", fmt::format("/cluster/members/{}", r.revision));
                 return resp;
               });
  });
}

void ApiService::RemoveMember(const CallPtr& call, std::string_view id_text) {
  std::optional<uint64_t> id = ParseId(id_text);
  if (!id) {
    return Finish(call, ErrorResponse(400, "invalid_argument",
                                      "the member id must be a decimal number (see GET "
                                      "/cluster/members)"));
  }
  SubmitThen(
      call, store::RemoveMemberCommand(*id),
      [](const store::ApplyResult&) {
        net::HttpResponse r;
        r.status = 204;
        return r;
      },
      [](const Status& s) {
        // The last member cannot leave: a conflict with the cluster's state, not a CAS failure.
        if (s.code() == StatusCode::kFailedPrecondition) {
          return ErrorResponse(409, "failed_precondition", s.message());
        }
        return ErrorResponse(s);
      });
}

void ApiService::TransferLeader(const CallPtr& call) {
  auto body = nlohmann::json::parse(call->request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object() || !body.contains("to") ||
      !body["to"].is_number_unsigned()) {
    return Finish(call,
                  ErrorResponse(400, "invalid_argument", "the body must be {\"to\": <member id>}"));
  }
  uint64_t to = body["to"].get<uint64_t>();
  node_->TransferLeadership(to, [this, call, to](const Status& s) {
    if (!s.ok()) return Finish(call, ErrorResponse(s));
    Finish(call, Json(fmt::format("{{\"leader_id\":{}}}\n", to)));
  });
}

}  // namespace nds::api
