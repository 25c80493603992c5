// How `nds check` sends its register operations (--protocol, docs/check.md): the same register
// model (sim/linearizability.h) over three fronts of a node.
//
// - http: GET and PUT /store/<key>, a cas with If-Match / If-None-Match: * (register_client.h).
// - resp: the Redis protocol (--resp): GET, SET, and a cas only from an absent key (SET ... NX),
//   as Redis has no compare-and-set of a value; a cas against a value is sent as a write.
// - txn: POST /txn: a read is a transaction with one get, a write one with one put, a cas one
//   that compares the value (or that the key is absent) and then puts.
//
// Each returns a verdict: kFailed only when the answer proves the operation did not run,
// kIndeterminate when it may have. Not thread-safe: one per client thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "check/register_client.h"
#include "client/options.h"
#include "util/status.h"

namespace nds::check {

enum class Protocol : uint8_t { kHttp = 0, kResp = 1, kTxn = 2 };

// "http", "resp" or "txn".
std::string_view ProtocolName(Protocol protocol);
// kInvalidArgument for anything but those names.
Result<Protocol> ParseProtocol(std::string_view text);

// What a client last read of a key: the value (nullopt: absent) and, for a value read over
// HTTP, its revision.
struct SeenValue {
  std::optional<std::string> value;
  std::optional<uint64_t> revision;
};

struct RegisterOpsOptions {
  Protocol protocol = Protocol::kHttp;
  std::chrono::milliseconds request_timeout{3'000};
  std::string auth_token;        // bearer token (http, txn); AUTH <token> (resp)
  client::ClientTlsOptions tls;  // https:// servers (http, txn)
  // resp: the RESP address ("host:port") of each node, by its API address.
  const std::map<std::string, std::string>* resp_addresses = nullptr;
};

class RegisterOps {
 public:
  virtual ~RegisterOps() = default;

  static std::unique_ptr<RegisterOps> Make(const RegisterOpsOptions& options);

  // A linearizable read of `key` on the node whose API address is `address`.
  virtual ReadVerdict Read(const std::string& address, const std::string& key) = 0;
  // Sets `key` to `value` unconditionally.
  virtual WriteVerdict Write(const std::string& address, const std::string& key,
                             const std::string& value) = 0;
  // Whether Cas can be sent against `seen` (else the client writes instead).
  virtual bool CanCas(const SeenValue& seen) const = 0;
  // Sets `key` to `value` if it still holds what was `seen`; cas_swapped says whether it did.
  virtual WriteVerdict Cas(const std::string& address, const std::string& key,
                           const std::string& value, const SeenValue& seen) = 0;
};

// The transaction bodies and their answers (txn_register_ops.cc), pure; exposed for tests.
std::string TxnReadBody(std::string_view key);
std::string TxnWriteBody(std::string_view key, std::string_view value, const SeenValue* expected);
ReadVerdict ClassifyTxnRead(const Result<client::HttpReply>& reply);
WriteVerdict ClassifyTxnWrite(const Result<client::HttpReply>& reply, bool conditional);

std::unique_ptr<RegisterOps> MakeHttpRegisterOps(const RegisterOpsOptions& options);
std::unique_ptr<RegisterOps> MakeRespRegisterOps(const RegisterOpsOptions& options);
std::unique_ptr<RegisterOps> MakeTxnRegisterOps(const RegisterOpsOptions& options);

}  // namespace nds::check
