// The register operations as transactions, POST /txn (see register_ops.h): the transactions
// workload of `nds check --protocol txn`.
#include <nlohmann/json.hpp>

#include "check/register_ops.h"

namespace nds::check {
namespace {

using nlohmann::json;

// The body of a 200 answer, or nullopt when it is not the JSON object /txn answers.
std::optional<json> ParseAnswer(const client::HttpReply& reply) {
  json answer = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (!answer.is_object() || !answer.contains("succeeded") || !answer["succeeded"].is_boolean()) {
    return std::nullopt;
  }
  return answer;
}

class TxnRegisterOps final : public RegisterOps {
 public:
  explicit TxnRegisterOps(const RegisterOpsOptions& o)
      : client_(o.request_timeout, o.auth_token, o.tls) {}

  ReadVerdict Read(const std::string& address, const std::string& key) override {
    return ClassifyTxnRead(client_.Post(address, "/txn", TxnReadBody(key)));
  }

  WriteVerdict Write(const std::string& address, const std::string& key,
                     const std::string& value) override {
    return ClassifyTxnWrite(client_.Post(address, "/txn", TxnWriteBody(key, value, nullptr)),
                            false);
  }

  // The compare names the value itself (every written value is unique), or that the key is absent.
  bool CanCas(const SeenValue&) const override { return true; }

  WriteVerdict Cas(const std::string& address, const std::string& key, const std::string& value,
                   const SeenValue& seen) override {
    return ClassifyTxnWrite(client_.Post(address, "/txn", TxnWriteBody(key, value, &seen)), true);
  }

 private:
  RegisterClient client_;
};

}  // namespace

std::string TxnReadBody(std::string_view key) {
  json body = {{"success", json::array({{{"get", {{"key", key}}}}})}};
  return body.dump();
}

std::string TxnWriteBody(std::string_view key, std::string_view value, const SeenValue* expected) {
  json body = json::object();
  if (expected != nullptr) {
    json compare = {{"key", key}};
    if (expected->value) {
      compare["value"] = *expected->value;
    } else {
      compare["exists"] = false;
    }
    body["compare"] = json::array({compare});
  }
  body["success"] = json::array({{{"put", {{"key", key}, {"value", value}}}}});
  return body.dump();
}

ReadVerdict ClassifyTxnRead(const Result<client::HttpReply>& reply) {
  if (!reply.ok()) return ClassifyRead(reply);
  ReadVerdict v;  // indeterminate unless the answer says otherwise
  // Not a 404 as for GET /store/: any other status observed nothing.
  if (reply->status != 200) return v;
  std::optional<json> answer = ParseAnswer(*reply);
  if (!answer || !answer->contains("results") || !(*answer)["results"].is_array() ||
      (*answer)["results"].size() != 1) {
    return v;  // indeterminate: not the answer of this transaction
  }
  const json& get = (*answer)["results"][0].value("get", json());
  if (!get.is_object() || !get.contains("found") || !get["found"].is_boolean()) return v;
  if (get["found"].get<bool>()) {
    if (!get.contains("value") || !get["value"].is_string()) return v;
    v.value = get["value"].get<std::string>();
    if (get.contains("revision") && get["revision"].is_number_unsigned()) {
      v.revision = get["revision"].get<uint64_t>();
    }
  }
  v.outcome = sim::OpOutcome::kOk;
  return v;
}

WriteVerdict ClassifyTxnWrite(const Result<client::HttpReply>& reply, bool conditional) {
  if (!reply.ok() || reply->status != 200) return ClassifyWrite(reply, conditional);
  std::optional<json> answer = ParseAnswer(*reply);
  if (!answer) return {sim::OpOutcome::kIndeterminate, false};
  bool succeeded = (*answer)["succeeded"].get<bool>();
  // An unconditional transaction always succeeds; anything else is not its answer.
  if (!succeeded && !conditional) return {sim::OpOutcome::kIndeterminate, false};
  return {sim::OpOutcome::kOk, succeeded};
}

std::unique_ptr<RegisterOps> MakeTxnRegisterOps(const RegisterOpsOptions& options) {
  return std::make_unique<TxnRegisterOps>(options);
}

}  // namespace nds::check
