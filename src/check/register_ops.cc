// The protocol names, the factory and the HTTP register operations (see register_ops.h).
#include "check/register_ops.h"

namespace nds::check {
namespace {

class HttpRegisterOps final : public RegisterOps {
 public:
  explicit HttpRegisterOps(const RegisterOpsOptions& o)
      : client_(o.request_timeout, o.auth_token, o.tls) {}

  ReadVerdict Read(const std::string& address, const std::string& key) override {
    return ClassifyRead(client_.Get(address, key));
  }

  WriteVerdict Write(const std::string& address, const std::string& key,
                     const std::string& value) override {
    return ClassifyWrite(client_.Put(address, key, value, std::nullopt, false), false);
  }

  // A value is compared by the revision it was read with; one read without an ETag has none.
  bool CanCas(const SeenValue& seen) const override { return !seen.value || seen.revision; }

  WriteVerdict Cas(const std::string& address, const std::string& key, const std::string& value,
                   const SeenValue& seen) override {
    // The revision this client read with the value, or If-None-Match: * after it read the key
    // absent.
    return ClassifyWrite(client_.Put(address, key, value, seen.revision, !seen.value), true);
  }

 private:
  RegisterClient client_;
};

}  // namespace

std::string_view ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kHttp:
      return "http";
    case Protocol::kResp:
      return "resp";
    case Protocol::kTxn:
      return "txn";
  }
  return "?";
}

Result<Protocol> ParseProtocol(std::string_view text) {
  for (Protocol p : {Protocol::kHttp, Protocol::kResp, Protocol::kTxn}) {
    if (text == ProtocolName(p)) return p;
  }
  return InvalidArgument("--protocol: 'http', 'resp' or 'txn', not '" + std::string(text) + "'");
}

std::unique_ptr<RegisterOps> RegisterOps::Make(const RegisterOpsOptions& options) {
  switch (options.protocol) {
    case Protocol::kResp:
      return MakeRespRegisterOps(options);
    case Protocol::kTxn:
      return MakeTxnRegisterOps(options);
    case Protocol::kHttp:
      break;
  }
  return MakeHttpRegisterOps(options);
}

std::unique_ptr<RegisterOps> MakeHttpRegisterOps(const RegisterOpsOptions& options) {
  return std::make_unique<HttpRegisterOps>(options);
}

}  // namespace nds::check
