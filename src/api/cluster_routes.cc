// Cluster and operations routes: /role, /status, /cluster/members, /cluster/leader, /healthz,
// /readyz, /metrics. "goose" and "duck" live only here (STYLE.md §2).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/http_errors.h"
#include "api/json_text.h"
#include "api/service.h"

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
    if (node_->GetStatus().ready) {
      Finish(call, Text("ready\n"));
    } else {
      Finish(call, ErrorResponse(503, "not_ready", "no leader known yet, or still applying"));
    }
  } else if (path == "/metrics") {
    call->route = Route::kMetrics;
    if (!only("GET")) return true;
    engine::EngineStats es = node_->engine().Stats();
    node::NodeStatus s = node_->GetStatus();
    std::string extra = fmt::format(
        "# TYPE nds_keys gauge\nnds_keys {}\n# TYPE nds_stored_bytes gauge\nnds_stored_bytes {}\n"
        "# TYPE nds_applied_index gauge\nnds_applied_index {}\n"
        "# TYPE nds_term gauge\nnds_term {}\n# TYPE nds_is_leader gauge\nnds_is_leader {}\n",
        es.keys_estimate, es.bytes_estimate, s.applied_index, s.term,
        s.role == node::Role::kLeader ? 1 : 0);
    net::HttpResponse r = Text(metrics_.Render(extra));
    r.headers.clear();
    r.SetHeader("Content-Type", "text/plain; version=0.0.4");
    Finish(call, std::move(r));
  } else if (path == "/cluster/members") {
    call->route = Route::kMembers;
    if (m == "GET") {
      Finish(call, Json(MembersJson()));
    } else if (m == "POST") {
      call->route = Route::kMembersChange;
      Finish(call, ErrorResponse(501, "not_implemented",
                                 "this build runs a single node; joining a cluster comes with "
                                 "the replicated node"));
    } else {
      only("GET");
    }
  } else if (path.starts_with("/cluster/members/")) {
    call->route = Route::kMembersChange;
    if (!only("DELETE")) return true;
    std::string_view id = path.substr(std::string_view("/cluster/members/").size());
    for (const node::MemberInfo& mi : node_->Members()) {
      if (std::to_string(mi.id) == id) {
        Finish(call, ErrorResponse(409, "failed_precondition",
                                   "the last member of a cluster cannot leave it"));
        return true;
      }
    }
    Finish(call, ErrorResponse(404, "not_found", "no member with id " + std::string(id)));
  } else if (path == "/cluster/leader") {
    call->route = Route::kLeader;
    if (!only("POST")) return true;
    auto body = nlohmann::json::parse(call->request.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object() || !body.contains("to") ||
        !body["to"].is_number_unsigned()) {
      Finish(call,
             ErrorResponse(400, "invalid_argument", "the body must be {\"to\": <member id>}"));
      return true;
    }
    uint64_t to = body["to"].get<uint64_t>();
    if (to != node_->GetStatus().id) {
      Finish(call, ErrorResponse(404, "not_found", fmt::format("no member with id {}", to)));
      return true;
    }
    Finish(call, Json(fmt::format("{{\"leader_id\":{}}}\n", to)));
  } else {
    return false;
  }
  return true;
}

}  // namespace nds::api
