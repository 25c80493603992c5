// Lease calls and the self-keeping Lease (lease.h).
#include "client/lease.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "client/encoding.h"
#include "client/http_error.h"
#include "client/reply_parsing.h"

namespace nds::client {
namespace {

using Json = nlohmann::json;

Result<Json> JsonReply(const HttpReply& reply, std::string_view what) {
  Json j = Json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return IoError(std::string(what) + ": the reply is not a JSON object");
  }
  return j;
}

}  // namespace

Result<uint64_t> GrantLease(Client* client, std::chrono::milliseconds ttl) {
  Json body = {{"ttl_ms", ttl.count()}};
  NDS_ASSIGN_OR_RETURN(HttpReply reply, client->Raw("POST", "/leases", body.dump()));
  if (reply.status != 201) return StatusFromReply(reply);
  NDS_ASSIGN_OR_RETURN(Json j, JsonReply(reply, "POST /leases"));
  if (!j.contains("id") || !j["id"].is_number_unsigned()) {
    return IoError("POST /leases: the reply has no lease id");
  }
  return j["id"].get<uint64_t>();
}

Result<uint64_t> KeepAliveLease(Client* client, uint64_t id) {
  NDS_ASSIGN_OR_RETURN(HttpReply reply,
                       client->Raw("POST", "/leases/" + std::to_string(id) + "/keepalive"));
  if (reply.status != 200) return StatusFromReply(reply);
  NDS_ASSIGN_OR_RETURN(Json j, JsonReply(reply, "keepalive"));
  return j.value("ttl_ms", uint64_t{0});
}

Result<std::vector<Result<uint64_t>>> KeepAliveMany(Client* client,
                                                    const std::vector<uint64_t>& ids) {
  constexpr std::string_view kWhat = "POST /leases/keepalive";
  Json body = {{"ids", ids}};
  NDS_ASSIGN_OR_RETURN(HttpReply reply, client->Raw("POST", "/leases/keepalive", body.dump()));
  if (reply.status != 200) return StatusFromReply(reply);
  NDS_ASSIGN_OR_RETURN(Json j, JsonReply(reply, kWhat));
  const Json leases = j.value("leases", Json());
  if (!leases.is_array() || leases.size() != ids.size()) {
    return IoError(std::string(kWhat) + ": the reply does not hold one entry per lease id");
  }
  std::vector<Result<uint64_t>> out;
  out.reserve(ids.size());
  // A string field of an entry, or "" (never throws on a reply of another shape).
  auto text_of = [](const Json& e, const char* field) {
    auto it = e.find(field);
    return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    const Json& e = leases[i];
    auto id = e.is_object() ? e.find("id") : e.end();
    if (!e.is_object() || id == e.end() || !id->is_number_unsigned() ||
        id->get<uint64_t>() != ids[i]) {
      return IoError(std::string(kWhat) + ": entry " + std::to_string(i) + " is not lease " +
                     std::to_string(ids[i]) + "'s");
    }
    if (auto ttl = e.find("ttl_ms"); ttl != e.end() && ttl->is_number_unsigned()) {
      out.emplace_back(ttl->get<uint64_t>());
      continue;
    }
    std::string error = text_of(e, "error");
    if (error.empty()) error = "no ttl_ms and no error";
    const std::string message = text_of(e, "message");
    std::string text = error;
    if (!message.empty()) text.append(": ").append(message);
    if (error == "not_found") {
      out.emplace_back(NotFound(text));
    } else if (error == "permission_denied") {
      out.emplace_back(InvalidArgument(text));
    } else if (error == "unavailable") {
      out.emplace_back(Unavailable(text));
    } else {
      out.emplace_back(IoError(text));
    }
  }
  return out;
}

std::chrono::milliseconds KeepAlivePeriod(std::chrono::milliseconds ttl) {
  return std::max(ttl / 3, std::chrono::milliseconds(1));
}

Status RevokeLease(Client* client, uint64_t id) {
  NDS_ASSIGN_OR_RETURN(HttpReply reply, client->Raw("DELETE", "/leases/" + std::to_string(id)));
  if (reply.status != 204) return StatusFromReply(reply);
  return Status::Ok();
}

Result<LeaseInfo> ShowLease(Client* client, uint64_t id) {
  NDS_ASSIGN_OR_RETURN(HttpReply reply,
                       client->Raw("GET", "/leases/" + std::to_string(id) + "?encoding=base64"));
  if (reply.status != 200) return StatusFromReply(reply);
  NDS_ASSIGN_OR_RETURN(Json j, JsonReply(reply, "GET /leases"));
  LeaseInfo info;
  info.id = j.value("id", uint64_t{0});
  info.ttl_ms = j.value("ttl_ms", uint64_t{0});
  info.remaining_ms = j.value("remaining_ms", uint64_t{0});
  for (const Json& k : j.value("keys", Json::array())) {
    if (!k.is_string()) return IoError("GET /leases: a key is not a string");
    auto key = Base64Decode(k.get<std::string>());
    if (!key.ok()) return IoError("GET /leases: a key is not base64");
    info.keys.push_back(std::move(key).value());
  }
  return info;
}

Result<uint64_t> PutWithLease(Client* client, std::string_view key, std::string_view value,
                              uint64_t id) {
  NDS_ASSIGN_OR_RETURN(
      HttpReply reply,
      client->Raw("PUT", "/store/" + PercentEncodePath(key) + "?lease=" + std::to_string(id),
                  value));
  if (reply.status / 100 != 2) return StatusFromReply(reply);
  auto revision = ParseRevision(reply.Header("etag"));
  if (!revision) return IoError("PUT with a lease: the reply has no revision");
  return *revision;
}

Result<std::unique_ptr<Lease>> Lease::Grant(Client* client, const ClientOptions& options,
                                            std::chrono::milliseconds ttl) {
  NDS_ASSIGN_OR_RETURN(std::unique_ptr<Client> keeper, Client::Create(options));
  NDS_ASSIGN_OR_RETURN(uint64_t id, GrantLease(client, ttl));
  return std::unique_ptr<Lease>(new Lease(id, ttl, std::move(keeper)));
}

Lease::Lease(uint64_t id, std::chrono::milliseconds ttl, std::unique_ptr<Client> keepalive_client)
    : id_(id), ttl_(ttl), keepalive_client_(std::move(keepalive_client)) {
  thread_ = std::thread([this] { Run(); });
}

Lease::~Lease() { Stop(); }

void Lease::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Lease::Run() {
  // A failed keepalive is retried sooner.
  const auto period = KeepAlivePeriod(ttl_);
  auto wait = period;
  while (true) {
    {
      MutexLock lock(mu_);
      const auto deadline = std::chrono::steady_clock::now() + wait;
      while (!stopping_ && lock.WaitUntil(cv_, deadline)) {
      }
      if (stopping_) return;
    }
    Result<uint64_t> ttl = KeepAliveLease(keepalive_client_.get(), id_);
    if (ttl.ok()) {
      wait = period;
    } else if (ttl.status().code() == StatusCode::kNotFound) {
      lost_ = true;
      return;
    } else {
      wait = std::max(period / 4, std::chrono::milliseconds(1));
    }
  }
}

Status Lease::Revoke(Client* client) {
  Stop();
  Status s = RevokeLease(client, id_);
  if (s.code() == StatusCode::kNotFound) lost_ = true;
  return s;
}

}  // namespace nds::client
