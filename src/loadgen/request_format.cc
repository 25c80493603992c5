// Request formatting for nds and etcd, and the etcd reply fields a CAS needs (request_format.h).
#include "loadgen/request_format.h"

#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nds::loadgen {
namespace {

bool IsUnreservedOrSlash(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '/';
}

void FormatEtcdPost(std::string_view host, std::string_view path, Request* request) {
  request->body = request->body_storage;
  request->head = fmt::format(
      "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: "
      "{}\r\n\r\n",
      path, host, request->body.size());
}

// etcd's gateway writes int64 fields as JSON strings; accept numbers too.
std::optional<uint64_t> JsonUint(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

}  // namespace

std::string_view TargetName(Target target) { return target == Target::kNds ? "nds" : "etcd"; }

std::string PercentEncodePath(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size());
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreservedOrSlash(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

void FormatTxnPuts(std::string_view host, const std::vector<std::string>& keys,
                   std::string_view value, Request* request) {
  std::string& body = request->body_storage;
  body.assign(R"({"success":[)");
  const std::string value_json = nlohmann::json(value).dump();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) body += ',';
    body += R"({"put":{"key":)";
    body += nlohmann::json(keys[i]).dump();
    body += R"(,"value":)";
    body += value_json;
    body += "}}";
  }
  body += "]}";
  request->body = body;
  request->head = fmt::format(
      "POST /txn HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: "
      "{}\r\n\r\n",
      host, body.size());
}

void FormatPut(Target target, std::string_view host, std::string_view key, std::string_view value,
               const std::optional<CasCondition>& cas, Request* request) {
  if (target == Target::kNds) {
    std::string condition;
    if (cas) {
      condition = cas->revision ? fmt::format("If-Match: \"{}\"\r\n", *cas->revision)
                                : std::string("If-None-Match: *\r\n");
    }
    request->body_storage.clear();
    request->body = value;
    request->head = fmt::format(
        "PUT /store/{} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/octet-stream\r\n"
        "{}Content-Length: {}\r\n\r\n",
        PercentEncodePath(key), host, condition, value.size());
    return;
  }
  const std::string key64 = Base64Encode(key);
  const std::string put = fmt::format(R"({{"key":"{}","value":"{}"}})", key64, Base64Encode(value));
  if (!cas) {
    request->body_storage = put;
    FormatEtcdPost(host, "/v3/kv/put", request);
    return;
  }
  // A missing key has create_revision 0; an existing one must still be at the revision read.
  const std::string compare =
      cas->revision
          ? fmt::format(R"({{"key":"{}","target":"MOD","mod_revision":"{}"}})", key64,
                        *cas->revision)
          : fmt::format(R"({{"key":"{}","target":"CREATE","create_revision":"0"}})", key64);
  request->body_storage =
      fmt::format(R"({{"compare":[{}],"success":[{{"request_put":{}}}]}})", compare, put);
  FormatEtcdPost(host, "/v3/kv/txn", request);
}

void FormatGet(Target target, std::string_view host, std::string_view key, Request* request) {
  if (target == Target::kNds) {
    request->body_storage.clear();
    request->body = {};
    request->head =
        fmt::format("GET /store/{} HTTP/1.1\r\nHost: {}\r\n\r\n", PercentEncodePath(key), host);
    return;
  }
  request->body_storage = fmt::format(R"({{"key":"{}"}})", Base64Encode(key));
  FormatEtcdPost(host, "/v3/kv/range", request);
}

Result<std::optional<uint64_t>> EtcdRangeModRevision(std::string_view body) {
  const nlohmann::json reply = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!reply.is_object()) return IoError("etcd range reply is not a JSON object");
  const auto kvs = reply.find("kvs");
  if (kvs == reply.end() || !kvs->is_array() || kvs->empty()) {
    return std::optional<uint64_t>();
  }
  const nlohmann::json& first = (*kvs)[0];
  if (!first.is_object() || !first.contains("mod_revision")) {
    return IoError("etcd range reply has a key without mod_revision");
  }
  const std::optional<uint64_t> revision = JsonUint(first["mod_revision"]);
  if (!revision) return IoError("etcd range reply has a malformed mod_revision");
  return revision;
}

Result<bool> EtcdTxnSucceeded(std::string_view body) {
  const nlohmann::json reply = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!reply.is_object()) return IoError("etcd txn reply is not a JSON object");
  const auto it = reply.find("succeeded");
  return it != reply.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace nds::loadgen
