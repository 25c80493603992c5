// Client::Txn: POST /txn?encoding=base64, so that keys and values are exact bytes both ways.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "client/client.h"
#include "client/encoding.h"

namespace nds::client {
namespace {

using Json = nlohmann::json;

Json OpJson(const TxnOp& op) {
  switch (op.kind) {
    case TxnOp::Kind::kPut: {
      Json put = {{"key", Base64Encode(op.key)}, {"value", Base64Encode(op.value)}};
      if (!op.content_type.empty()) put["content_type"] = op.content_type;
      if (op.lease_id != 0) put["lease"] = op.lease_id;
      return Json{{"put", put}};
    }
    case TxnOp::Kind::kDelete:
      return Json{{"delete", {{"key", Base64Encode(op.key)}}}};
    case TxnOp::Kind::kGet:
      break;
  }
  return Json{{"get", {{"key", Base64Encode(op.key)}}}};
}

Result<TxnOpResult> ParseOpResult(const Json& j) {
  if (!j.is_object() || j.size() != 1) return IoError("a /txn result is not {\"<op>\": {...}}");
  const auto first = j.begin();  // an object's only field (items() proxies must not dangle)
  const std::string& name = first.key();
  const Json& body = first.value();
  if (!body.is_object()) return IoError("a /txn result's body is not an object");
  TxnOpResult r;
  if (name == "put") {
    r.kind = TxnOp::Kind::kPut;
    r.found = true;
    r.revision = body.value("revision", uint64_t{0});
  } else if (name == "delete") {
    r.kind = TxnOp::Kind::kDelete;
    r.found = body.value("deleted", false);
  } else if (name == "get") {
    r.kind = TxnOp::Kind::kGet;
    r.found = body.value("found", false);
    if (r.found) {
      r.revision = body.value("revision", uint64_t{0});
      auto value = Base64Decode(body.value("value", std::string()));
      if (!value.ok()) return IoError("a /txn get value is not base64");
      r.value = std::move(value).value();
      r.content_type = body.value("content_type", std::string());
    }
  } else {
    return IoError(fmt::format("unknown /txn result \"{}\"", name));
  }
  return r;
}

}  // namespace

Result<TxnResult> Client::Txn(const TxnRequest& request) {
  Json compares = Json::array();
  for (const TxnCompare& c : request.compare) {
    Json j = {{"key", Base64Encode(c.key)}};
    switch (c.kind) {
      case TxnCompare::Kind::kRevision:
        j["revision"] = c.revision;
        break;
      case TxnCompare::Kind::kValue:
        j["value"] = Base64Encode(c.value);
        break;
      case TxnCompare::Kind::kExists:
        j["exists"] = c.exists;
        break;
    }
    compares.push_back(std::move(j));
  }
  Json success = Json::array();
  for (const TxnOp& op : request.success) success.push_back(OpJson(op));
  Json failure = Json::array();
  for (const TxnOp& op : request.failure) failure.push_back(OpJson(op));
  const std::string body =
      Json{{"compare", compares}, {"success", success}, {"failure", failure}}.dump(
          -1, ' ', false, Json::error_handler_t::replace);
  // Never retried: a transaction whose answer was lost may have been applied.
  HttpCall call{
      "POST", "/txn?encoding=base64", body, {{"Content-Type", "application/json"}}, false};
  NDS_ASSIGN_OR_RETURN(const HttpReply reply, Call(std::move(call)));
  Json j = Json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("results") || !j["results"].is_array()) {
    return IoError("the reply to POST /txn is not {\"succeeded\", \"revision\", \"results\"}");
  }
  TxnResult out;
  out.succeeded = j.value("succeeded", false);
  out.revision = j.value("revision", uint64_t{0});
  for (const Json& r : j["results"]) {
    NDS_ASSIGN_OR_RETURN(TxnOpResult op, ParseOpResult(r));
    out.results.push_back(std::move(op));
  }
  return out;
}

}  // namespace nds::client
