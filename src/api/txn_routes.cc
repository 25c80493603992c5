// POST /txn (docs/api.md "Transactions"): the JSON body becomes one store::Txn, proposed as one
// log entry; the answer says which branch ran and what each of its ops did.
#include <nlohmann/json.hpp>

#include "api/http_errors.h"
#include "api/json_text.h"
#include "api/service.h"
#include "store/auth_state.h"
#include "store/txn.h"

namespace nds::api {
namespace {

using Json = nlohmann::json;

struct TxnParser {
  StringEncoding encoding;
  size_t value_bytes_max;

  // A key or value string of the body, decoded when ?encoding=base64.
  Result<std::string> Bytes(const Json& j, const std::string& where) const {
    if (!j.is_string()) return InvalidArgument(where + " must be a string");
    const auto& text = j.get_ref<const std::string&>();
    if (encoding != StringEncoding::kBase64) return text;
    auto bytes = Base64Decode(text);
    if (!bytes.ok()) return InvalidArgument(where + ": " + bytes.status().message());
    return bytes;
  }
  Result<std::string> Key(const Json& object, const std::string& where) const {
    auto k = object.find("key");
    if (k == object.end()) return InvalidArgument(where + " has no \"key\"");
    NDS_ASSIGN_OR_RETURN(std::string key, Bytes(*k, where + ".key"));
    NDS_RETURN_IF_ERROR(ValidateKey(key, where + ".key"));
    return key;
  }
  static Status OnlyFields(const Json& object, std::initializer_list<std::string_view> allowed,
                           const std::string& where) {
    for (const auto& [field, value] : object.items()) {
      bool known = false;
      for (std::string_view a : allowed) known = known || field == a;
      if (!known) {
        return InvalidArgument(
            std::string(where).append(" has an unknown field \"").append(field).append("\""));
      }
    }
    return Status::Ok();
  }

  Result<store::TxnCompare> Compare(const Json& j, const std::string& where) const {
    if (!j.is_object()) return InvalidArgument(where + " must be an object");
    NDS_RETURN_IF_ERROR(OnlyFields(j, {"key", "revision", "value", "exists"}, where));
    store::TxnCompare c;
    NDS_ASSIGN_OR_RETURN(c.key, Key(j, where));
    const bool has_revision = j.contains("revision");
    const bool has_value = j.contains("value");
    const bool has_exists = j.contains("exists");
    if (int(has_revision) + int(has_value) + int(has_exists) != 1) {
      return InvalidArgument(where + " needs exactly one of \"revision\", \"value\", \"exists\"");
    }
    if (has_revision) {
      if (!j["revision"].is_number_unsigned()) {
        return InvalidArgument(where + ".revision must be a whole number (0: absent)");
      }
      c.kind = store::TxnCompareKind::kRevision;
      c.revision = j["revision"].get<uint64_t>();
    } else if (has_value) {
      c.kind = store::TxnCompareKind::kValue;
      NDS_ASSIGN_OR_RETURN(c.value, Bytes(j["value"], where + ".value"));
    } else {
      if (!j["exists"].is_boolean())
        return InvalidArgument(where + ".exists must be true or false");
      c.kind = store::TxnCompareKind::kExists;
      c.exists = j["exists"].get<bool>();
    }
    return c;
  }

  Result<store::TxnOp> Op(const Json& j, const std::string& where) const {
    if (!j.is_object() || j.size() != 1) {
      return InvalidArgument(where + " must be one of {\"put\": …}, {\"delete\": …}, {\"get\": …}");
    }
    const auto first = j.begin();  // an object's only field (items() proxies must not dangle)
    const std::string& name = first.key();
    const Json& body = first.value();
    const std::string at = where + "." + name;
    if (!body.is_object()) return InvalidArgument(at + " must be an object");
    store::TxnOp op;
    if (name == "put") {
      NDS_RETURN_IF_ERROR(OnlyFields(body, {"key", "value", "content_type", "lease"}, at));
      op.kind = store::TxnOpKind::kPut;
      if (auto lease = body.find("lease"); lease != body.end()) {
        if (!lease->is_number_unsigned() || lease->get<uint64_t>() == 0) {
          return InvalidArgument(at + ".lease must be a lease id (a whole number above 0)");
        }
        op.lease_id = lease->get<uint64_t>();
      }
      auto v = body.find("value");
      if (v == body.end()) return InvalidArgument(at + " has no \"value\"");
      NDS_ASSIGN_OR_RETURN(op.value, Bytes(*v, at + ".value"));
      if (op.value.size() > value_bytes_max) {
        return InvalidArgument(
            at + ".value is larger than --max-value-bytes=" + std::to_string(value_bytes_max));
      }
      if (auto ct = body.find("content_type"); ct != body.end()) {
        if (!ct->is_string()) return InvalidArgument(at + ".content_type must be a string");
        op.content_type = ct->get<std::string>();
        for (char ch : op.content_type) {
          if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f || op.content_type.size() > 256) {
            return InvalidArgument(at + ".content_type must be printable, at most 256 bytes");
          }
        }
      }
    } else if (name == "delete" || name == "get") {
      NDS_RETURN_IF_ERROR(OnlyFields(body, {"key"}, at));
      op.kind = name == "get" ? store::TxnOpKind::kGet : store::TxnOpKind::kDelete;
    } else {
      return InvalidArgument(where + ": unknown op \"" + name + "\" (put, delete or get)");
    }
    NDS_ASSIGN_OR_RETURN(op.key, Key(body, at));
    return op;
  }

  Result<store::Txn> Parse(const std::string& text, size_t ops_max) const {
    Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return InvalidArgument(
          "the body must be a JSON object {\"compare\": [...], \"success\": [...], "
          "\"failure\": [...]}");
    }
    NDS_RETURN_IF_ERROR(OnlyFields(j, {"compare", "success", "failure"}, "the body"));
    store::Txn txn;
    for (const char* list : {"compare", "success", "failure"}) {
      if (!j.contains(list)) continue;
      if (!j[list].is_array())
        return InvalidArgument(std::string("\"") + list + "\" must be a list");
      if (j[list].size() > ops_max) {
        return InvalidArgument(std::string("\"") + list + "\" has more than --max-txn-ops=" +
                               std::to_string(ops_max) + " entries");
      }
    }
    if (j.value("success", Json::array()).size() + j.value("failure", Json::array()).size() >
        ops_max) {
      return InvalidArgument("more than --max-txn-ops=" + std::to_string(ops_max) +
                             " ops in \"success\" and \"failure\" together");
    }
    size_t i = 0;
    for (const Json& c : j.value("compare", Json::array())) {
      NDS_ASSIGN_OR_RETURN(auto compare, Compare(c, "compare[" + std::to_string(i++) + "]"));
      txn.compares.push_back(std::move(compare));
    }
    for (const char* list : {"success", "failure"}) {
      auto& ops = std::string_view(list) == "success" ? txn.success : txn.failure;
      i = 0;
      for (const Json& o : j.value(list, Json::array())) {
        NDS_ASSIGN_OR_RETURN(auto op, Op(o, std::string(list) + "[" + std::to_string(i++) + "]"));
        ops.push_back(std::move(op));
      }
    }
    return txn;
  }
};

// The first key of `txn` outside `prefix`, if any.
std::optional<std::string> KeyOutside(const store::Txn& txn, std::string_view prefix) {
  for (const auto& c : txn.compares) {
    if (!c.key.starts_with(prefix)) return c.key;
  }
  for (const auto* ops : {&txn.success, &txn.failure}) {
    for (const auto& op : *ops) {
      if (!op.key.starts_with(prefix)) return op.key;
    }
  }
  return std::nullopt;
}

std::string OutcomeJson(const store::TxnOutcome& outcome, uint64_t revision,
                        StringEncoding encoding) {
  std::string out = std::string("{\"succeeded\":") + (outcome.succeeded ? "true" : "false") +
                    ",\"revision\":" + std::to_string(revision) + ",\"results\":[";
  bool first = true;
  for (const store::TxnOpResult& r : outcome.results) {
    if (!first) out += ',';
    first = false;
    switch (r.kind) {
      case store::TxnOpKind::kPut:
        out += "{\"put\":{\"revision\":" + std::to_string(r.revision) + "}}";
        break;
      case store::TxnOpKind::kDelete:
        out += std::string("{\"delete\":{\"deleted\":") + (r.found ? "true" : "false") + "}}";
        break;
      case store::TxnOpKind::kGet:
        if (!r.found) {
          out += "{\"get\":{\"found\":false}}";
          break;
        }
        out +=
            "{\"get\":{\"found\":true,\"revision\":" + std::to_string(r.revision) + ",\"value\":";
        AppendJsonString(&out, r.value, encoding);
        out += ",\"content_type\":";
        AppendJsonString(&out, r.content_type.empty() ? "application/octet-stream" : r.content_type,
                         StringEncoding::kLossyUtf8);
        out += "}}";
        break;
    }
  }
  out += "]}\n";
  return out;
}

}  // namespace

void ApiService::HandleTxn(const CallPtr& call) {
  call->route = Route::kTxn;
  if (call->request.method != "POST") {
    net::HttpResponse r = ErrorResponse(405, "method_not_allowed", "this route allows POST");
    r.SetHeader("Allow", "POST");
    return Finish(call, std::move(r));
  }
  StringEncoding encoding = StringEncoding::kLossyUtf8;
  if (auto e = call->target.Param("encoding")) {
    if (*e == "base64") {
      encoding = StringEncoding::kBase64;
    } else if (*e != "utf8") {
      return Finish(call,
                    ErrorResponse(400, "invalid_argument", "encoding must be 'base64' or 'utf8'"));
    }
  }
  TxnParser parser{encoding, options_.limits.value_bytes_max};
  auto txn = parser.Parse(call->request.body, options_.limits.txn_ops_max);
  if (!txn.ok()) return Finish(call, ErrorResponse(txn.status()));
  if (!call->auth_name.empty()) {
    // A prefixed token may only name keys under its prefix, in compares as in ops.
    auto record = store::DecodeTokenRecord(call->auth_record);
    if (!record.ok()) return Finish(call, ErrorResponse(record.status()));
    if (auto outside = KeyOutside(*txn, record->prefix)) {
      return Finish(call,
                    ErrorResponse(403, "permission_denied",
                                  "this token may only touch keys that start with its prefix"));
    }
  }
  SubmitThen(call, store::TxnCommand(*txn), [encoding](const store::ApplyResult& r) {
    net::HttpResponse resp;
    resp.SetHeader("Content-Type", "application/json");
    resp.body = OutcomeJson(*r.txn, r.revision, encoding);
    return resp;
  });
}

}  // namespace nds::api
