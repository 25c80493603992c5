// /leases (docs/api.md "Leases"): grant, keep alive (batched, lease_keepalive_batcher.h; one lease
// or many in one request), revoke and show leases; and the ?lease=ID parameter that attaches a
// written key to one.
#include <atomic>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_errors.h"
#include "api/json_text.h"
#include "api/lease_keeper.h"
#include "api/service.h"
#include "store/auth_state.h"
#include "store/lease_state.h"

namespace nds::api {
namespace {

using Json = nlohmann::json;

net::HttpResponse JsonResponse(int status, std::string body) {
  net::HttpResponse r;
  r.status = status;
  r.SetHeader("Content-Type", "application/json");
  r.body = std::move(body);
  r.body += '\n';
  return r;
}

net::HttpResponse NotAllowed(std::string_view allow) {
  net::HttpResponse r =
      ErrorResponse(405, "method_not_allowed", "this route allows " + std::string(allow));
  r.SetHeader("Allow", std::string(allow));
  return r;
}

net::HttpResponse NoSuchLease(uint64_t id) {
  return ErrorResponse(
      404, "not_found",
      "no lease " + std::to_string(id) + " (it expired, was revoked, or was never granted)");
}

// Whether lease `id` exists and was granted for keys outside `prefix` (a token's, not empty): such
// a lease is not the token's to touch. A lease that does not exist is not refused here: its
// keepalive, show or revocation answers not found, as it would to any token.
Result<bool> OutsidePrefix(const engine::View& view, const std::string& prefix, uint64_t id) {
  auto lease = store::ReadLease(view, id);
  if (!lease.ok()) return lease.status();
  return *lease && !(*lease)->prefix.starts_with(prefix);
}

// The ids of a POST /leases/keepalive body, {"ids": [ID, ...]} with 1 to `ids_max` ids, each a
// whole number above 0 (duplicates allowed); kInvalidArgument saying what is wrong otherwise.
Result<std::vector<uint64_t>> ParseKeepAliveIds(std::string_view body, size_t ids_max) {
  const Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || j.size() != 1 || !j.contains("ids") ||
      !j["ids"].is_array()) {
    return InvalidArgument("the body must be {\"ids\": [ID, ...]}, each ID a lease id");
  }
  const Json& ids = j["ids"];
  if (ids.empty() || ids.size() > ids_max) {
    return InvalidArgument("\"ids\" must hold 1 to " + std::to_string(ids_max) +
                           " lease ids (--max-keepalive-ids), not " + std::to_string(ids.size()));
  }
  std::vector<uint64_t> out;
  out.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!ids[i].is_number_unsigned() || ids[i].get<uint64_t>() == 0) {
      return InvalidArgument("ids[" + std::to_string(i) +
                             "] is not a lease id (a whole number above 0)");
    }
    out.push_back(ids[i].get<uint64_t>());
  }
  return out;
}

// The answer to one POST /leases/keepalive: one JSON entry per id, in the order given, filled by
// the keepalives' completions on any thread. Each entry is written once, by one completion; the
// counter's acquire-release decrements make every entry visible to the completion that writes the
// last one, which alone reads them all.
class KeepAliveAnswers {
 public:
  explicit KeepAliveAnswers(std::vector<uint64_t> ids)
      : ids_(std::move(ids)), entries_(ids_.size()), outstanding_(ids_.size()) {}

  const std::vector<uint64_t>& ids() const { return ids_; }

  // Records entry `i` (its fields after the id, or an error code); true for the last entry, whose
  // caller then answers with Body().
  bool SetTtl(size_t i, uint64_t ttl_ms) { return Set(i, ",\"ttl_ms\":" + std::to_string(ttl_ms)); }
  bool SetError(size_t i, std::string_view error, std::string_view message = {}) {
    std::string fields = ",\"error\":\"" + std::string(error) + "\"";
    if (!message.empty()) {
      fields += ",\"message\":";
      AppendJsonString(&fields, message, StringEncoding::kLossyUtf8);
    }
    return Set(i, std::move(fields));
  }
  // A keepalive's outcome as its entry: the TTL, or not_found, unavailable (the node has too
  // many keepalives waiting) or internal with the message.
  bool SetOutcome(size_t i, const Result<uint64_t>& ttl_ms) {
    if (ttl_ms.ok()) return SetTtl(i, *ttl_ms);
    switch (ttl_ms.status().code()) {
      case StatusCode::kNotFound:
        return SetError(i, "not_found");
      case StatusCode::kResourceExhausted:
        return SetError(i, "unavailable");
      default:
        return SetError(i, "internal", ttl_ms.status().message());
    }
  }

  std::string Body() const {
    std::string out = "{\"leases\":[";
    for (size_t i = 0; i < ids_.size(); ++i) {
      if (i > 0) out += ',';
      out += "{\"id\":" + std::to_string(ids_[i]) + entries_[i] + "}";
    }
    out += "]}";
    return out;
  }

 private:
  bool Set(size_t i, std::string fields) {
    entries_[i] = std::move(fields);
    return outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1;
  }

  const std::vector<uint64_t> ids_;
  std::vector<std::string> entries_;
  std::atomic<size_t> outstanding_;
};

}  // namespace

Result<uint64_t> LeaseParam(const Target& target) {
  auto text = target.Param("lease");
  if (!text) return uint64_t{0};
  auto id = store::ParseLeaseId(*text);
  if (!id) return InvalidArgument("lease must be a lease id (a whole number above 0)");
  return *id;
}

std::string ApiService::TokenPrefix(const CallPtr& call) const {
  if (call->auth_name.empty()) return {};
  auto record = store::DecodeTokenRecord(call->auth_record);
  // Authorize() decoded it already; an undecodable record allows nothing.
  return record.ok() ? record->prefix : std::string(1, '\0');
}

void ApiService::HandleLeases(const CallPtr& call, std::string_view path) {
  const std::string& m = call->request.method;
  if (path == "/leases") {
    if (m != "POST") return Finish(call, NotAllowed("POST"));
    return GrantLease(call);
  }
  if (path == "/leases/keepalive") {  // before /leases/{id}: "keepalive" is no id
    if (m != "POST") return Finish(call, NotAllowed("POST"));
    return KeepAliveLeases(call);
  }
  std::string_view rest = path.substr(std::string_view("/leases/").size());
  bool keepalive = false;
  if (rest.ends_with("/keepalive")) {
    keepalive = true;
    rest.remove_suffix(std::string_view("/keepalive").size());
  }
  auto id = store::ParseLeaseId(rest);
  if (!id) {
    return Finish(call, ErrorResponse(400, "invalid_argument",
                                      "a lease id is a whole number above 0, not '" +
                                          std::string(rest) + "'"));
  }
  if (keepalive) {
    if (m != "POST") return Finish(call, NotAllowed("POST"));
  } else if (m != "GET" && m != "DELETE") {
    return Finish(call, NotAllowed("GET, DELETE"));
  }
  // A prefixed token may only touch leases granted for keys under its prefix.
  const std::string prefix = TokenPrefix(call);
  if (!prefix.empty()) {
    auto outside = OutsidePrefix(*node_->engine().NewView(), prefix, *id);
    if (!outside.ok()) return Finish(call, ErrorResponse(outside.status()));
    if (*outside) {
      return Finish(call, ErrorResponse(403, "permission_denied",
                                        "this lease was granted for keys outside this token's "
                                        "prefix"));
    }
  }
  if (keepalive) return KeepAliveLease(call, *id);
  if (m == "GET") return ShowLease(call, *id);
  SubmitThen(
      call, store::LeaseRevokeCommand(*id),
      [](const store::ApplyResult&) {
        net::HttpResponse r;
        r.status = 204;
        return r;
      },
      [id = *id](const Status& s) {
        return s.code() == StatusCode::kNotFound ? NoSuchLease(id) : ErrorResponse(s);
      });
}

void ApiService::GrantLease(const CallPtr& call) {
  Json j = Json::parse(call->request.body, nullptr, /*allow_exceptions=*/false);
  const Limits& l = options_.limits;
  if (j.is_discarded() || !j.is_object() || j.size() != 1 || !j.contains("ttl_ms") ||
      !j["ttl_ms"].is_number_unsigned()) {
    return Finish(call, ErrorResponse(400, "invalid_argument",
                                      "the body must be {\"ttl_ms\": N}, N a whole number"));
  }
  const uint64_t ttl_ms = j["ttl_ms"].get<uint64_t>();
  const auto lo = static_cast<uint64_t>(l.lease_ttl_min.count());
  const auto hi = static_cast<uint64_t>(l.lease_ttl_max.count());
  if (ttl_ms < lo || ttl_ms > hi) {
    return Finish(
        call, ErrorResponse(400, "invalid_argument",
                            "ttl_ms must be " + std::to_string(lo) + " to " + std::to_string(hi) +
                                " (--min-lease-ttl-ms, --max-lease-ttl-ms)"));
  }
  SubmitThen(
      call, store::LeaseGrantCommand(ttl_ms, l.lease_keys_max, l.leases_max, TokenPrefix(call)),
      [ttl_ms](const store::ApplyResult& r) {
        return JsonResponse(201, "{\"id\":" + std::to_string(r.revision) +
                                     ",\"ttl_ms\":" + std::to_string(ttl_ms) + "}");
      },
      [](const Status& s) {
        if (s.code() == StatusCode::kResourceExhausted) {
          return ErrorResponse(429, "too_many_leases", s.message());
        }
        return ErrorResponse(s);
      });
}

void ApiService::KeepAliveLease(const CallPtr& call, uint64_t id) {
  keepalives_->KeepAlive(id, [this, call, id](Result<uint64_t> ttl_ms) {
    if (ttl_ms.ok()) {
      return Finish(call, JsonResponse(200, "{\"ttl_ms\":" + std::to_string(*ttl_ms) + "}"));
    }
    if (ttl_ms.status().code() == StatusCode::kNotFound) return Finish(call, NoSuchLease(id));
    if (ttl_ms.status().code() == StatusCode::kResourceExhausted) {
      return Finish(call, ErrorResponse(503, "unavailable", ttl_ms.status().message()));
    }
    Finish(call, ErrorResponse(ttl_ms.status()));
  });
}

void ApiService::KeepAliveLeases(const CallPtr& call) {
  auto ids = ParseKeepAliveIds(call->request.body, options_.limits.keepalive_ids_max);
  if (!ids.ok()) return Finish(call, ErrorResponse(ids.status()));
  // A prefixed token keeps alive only the leases of its prefix (as the single keepalive): the
  // others are answered permission_denied, all decided before any keepalive is sent.
  std::vector<bool> denied(ids->size(), false);
  const std::string prefix = TokenPrefix(call);
  if (!prefix.empty()) {
    auto view = node_->engine().NewView();
    for (size_t i = 0; i < ids->size(); ++i) {
      auto outside = OutsidePrefix(*view, prefix, (*ids)[i]);
      if (!outside.ok()) return Finish(call, ErrorResponse(outside.status()));
      denied[i] = *outside;
    }
  }
  auto answers = std::make_shared<KeepAliveAnswers>(std::move(ids).value());
  auto answer = [this, call, answers] { Finish(call, JsonResponse(200, answers->Body())); };
  for (size_t i = 0; i < answers->ids().size(); ++i) {
    if (denied[i]) {
      if (answers->SetError(i, "permission_denied")) answer();
      continue;
    }
    keepalives_->KeepAlive(answers->ids()[i], [answers, answer, i](const Result<uint64_t>& ttl_ms) {
      if (answers->SetOutcome(i, ttl_ms)) answer();
    });
  }
}

void ApiService::ShowLease(const CallPtr& call, uint64_t id) {
  AfterReadPoint(call, [this, call, id] {
    auto view = node_->engine().NewView();
    auto lease = store::ReadLease(*view, id);
    if (!lease.ok()) return Finish(call, ErrorResponse(lease.status()));
    if (!*lease) return Finish(call, NoSuchLease(id));
    auto keys = store::ReadAttachedKeys(*view, id);
    if (!keys.ok()) return Finish(call, ErrorResponse(keys.status()));
    StringEncoding encoding = StringEncoding::kLossyUtf8;
    if (auto e = call->target.Param("encoding"); e && *e == "base64") {
      encoding = StringEncoding::kBase64;
    }
    // The time left by this node's keeper clock; a node that has not seen the lease yet (just
    // granted) counts the whole TTL.
    uint64_t remaining_ms = (*lease)->ttl_ms;
    if (options_.lease_keeper) {
      if (auto left = options_.lease_keeper->Remaining(id)) {
        remaining_ms = static_cast<uint64_t>(left->count());
      }
    }
    std::string out = "{\"id\":" + std::to_string(id) +
                      ",\"ttl_ms\":" + std::to_string((*lease)->ttl_ms) +
                      ",\"remaining_ms\":" + std::to_string(remaining_ms) + ",\"keys\":[";
    for (size_t i = 0; i < keys->size(); ++i) {
      if (i > 0) out += ',';
      AppendJsonString(&out, (*keys)[i], encoding);
    }
    out += "]}";
    Finish(call, JsonResponse(200, std::move(out)));
  });
}

}  // namespace nds::api
