// The register operations of `nds check` over HTTP (docs/check.md "The model"): a key is a
// register; write = PUT /store/<key> of a value no other operation writes; read = a linearizable
// GET (404 = the empty register); cas = PUT with `If-Match: "<revision>"` of a revision this client
// read (or `If-None-Match: *` after it read the key absent), 412 being a definite mismatch.
//
// Because every write's value is unique, a revision names exactly one value, so "the key's
// revision is r" is "the register holds the value written at r", which is the register model of
// sim/linearizability.h.
//
// The Classify* functions say what a client may conclude from an answer: only an answer that
// proves the operation did not run is kFailed; anything that leaves it open (a timeout, a lost
// connection, a 503, a 5xx) is kIndeterminate. They are pure (any thread). RegisterClient is not
// thread-safe: one per client thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "client/client.h"
#include "sim/history.h"
#include "util/status.h"

namespace nds::check {

struct WriteVerdict {
  sim::OpOutcome outcome = sim::OpOutcome::kIndeterminate;
  bool cas_swapped = false;  // kOk cas: swapped (2xx) or mismatched (412)
};

// `conditional`: the request carried If-Match or If-None-Match.
WriteVerdict ClassifyWrite(const Result<client::HttpReply>& reply, bool conditional);

struct ReadVerdict {
  sim::OpOutcome outcome = sim::OpOutcome::kIndeterminate;
  std::optional<std::string> value;  // kOk: the value, nullopt when the key is absent
  std::optional<uint64_t> revision;  // kOk with a value: the ETag's revision, when well formed
};

// A read that could not be sent is kFailed; any other failure kIndeterminate (both observe
// nothing, and the checker drops them alike: the difference is only counted).
ReadVerdict ClassifyRead(const Result<client::HttpReply>& reply);

// Parses a strong ETag `"17"`; nullopt for anything else.
std::optional<uint64_t> ParseEtagRevision(std::string_view etag);

// One keep-alive connection per node, with no retries (a retried write could take effect twice,
// which no register history explains). Not thread-safe.
class RegisterClient {
 public:
  // `auth_token`, when not empty, goes with every request as a bearer token; `tls` is used for
  // https:// addresses.
  explicit RegisterClient(std::chrono::milliseconds request_timeout, std::string auth_token = {},
                          client::ClientTlsOptions tls = {})
      : request_timeout_(request_timeout),
        auth_token_(std::move(auth_token)),
        tls_(std::move(tls)) {}

  Result<client::HttpReply> Get(const std::string& address, std::string_view key);
  // PUT `value`; with `if_match` set, `If-Match: "<revision>"`; with `if_none_match_star`,
  // `If-None-Match: *`.
  Result<client::HttpReply> Put(const std::string& address, std::string_view key,
                                std::string_view value, std::optional<uint64_t> if_match,
                                bool if_none_match_star);
  // POST `body` (JSON) to `target` ("/txn") on `address`, over the same connections.
  Result<client::HttpReply> Post(const std::string& address, std::string_view target,
                                 std::string_view body);

 private:
  Result<client::HttpReply> Send(const std::string& address, std::string_view method,
                                 std::string_view target, std::string_view body,
                                 const client::HttpHeaders& headers);

  std::chrono::milliseconds request_timeout_;
  std::string auth_token_;
  client::ClientTlsOptions tls_;
  std::map<std::string, std::unique_ptr<Client>> clients_;  // by address
};

}  // namespace nds::check
