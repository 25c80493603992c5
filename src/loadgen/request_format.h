// The requests `nds bench` sends, formatted once per operation into one buffer for the head and
// one view of the body, so that a request is a single gather write: nds's own routes
// (docs/api.md: PUT/GET /store/{key}, If-Match for compare-and-swap) and etcd's v3 JSON gateway
// (POST /v3/kv/put, /v3/kv/range, /v3/kv/txn with base64 keys and values), so that the same client
// measures both. Also the one etcd reply field a CAS needs (the key's mod_revision).
//
// Plain functions and a value type: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/base64.h"
#include "util/status.h"

namespace nds::loadgen {

enum class Target { kNds, kEtcd };

// Returns "nds" or "etcd".
std::string_view TargetName(Target target);

// A compare-and-swap condition on a write: the key must be at `revision`, or, when it is
// nullopt, must not exist.
struct CasCondition {
  std::optional<uint64_t> revision;
};

// One request ready to write: `head` then `body`. `body` views either `body_storage` or the value
// passed to the formatting call, which must then outlive the write.
struct Request {
  std::string head;
  std::string body_storage;
  std::string_view body;
};

// Formats a write of `value` under `key` (nds: PUT /store/{key}; etcd: POST /v3/kv/put, or
// /v3/kv/txn when `cas` is given). `host` goes in the Host header. For nds the body views
// `value` (which must outlive the request); for etcd it is built into body_storage.
void FormatPut(Target target, std::string_view host, std::string_view key, std::string_view value,
               const std::optional<CasCondition>& cas, Request* request);

// Formats one nds transaction (POST /txn) that puts `value` under each of `keys`, with no
// compares: one log entry and one revision for all of them. The body is built in body_storage.
void FormatTxnPuts(std::string_view host, const std::vector<std::string>& keys,
                   std::string_view value, Request* request);

// Formats a linearizable read of `key` (nds: GET /store/{key}; etcd: POST /v3/kv/range).
void FormatGet(Target target, std::string_view host, std::string_view key, Request* request);

// Percent-encodes `key` for a /store/ path: unreserved bytes and '/' stay, the rest become %XX.
std::string PercentEncodePath(std::string_view key);

// Base64Encode (util/base64.h): what etcd's gateway expects for bytes fields.

// From an etcd /v3/kv/range reply body: the mod_revision of the first key, nullopt when the
// reply holds no key. kIoError when the body is not the JSON etcd sends.
Result<std::optional<uint64_t>> EtcdRangeModRevision(std::string_view body);

// From an etcd /v3/kv/txn reply body: whether the comparison held. kIoError on malformed JSON.
Result<bool> EtcdTxnSucceeded(std::string_view body);

}  // namespace nds::loadgen
