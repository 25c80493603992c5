// Leases in the replicated state (docs/formats/store.md "Leases"): each lease is a system key
// holding its TTL, the index of its last keepalive and its limits, and each key attached to it is
// a system key holding the revision that attached it. A key counts as attached only while its
// current revision is that one: a later write without the lease (or with another) detaches it
// without touching the lease's keys, so plain writes cost nothing extra.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "util/status.h"

namespace nds::store {

// System key names (under kSystemPrefix).
inline constexpr std::string_view kLeaseKeyPrefix = "lease/";          // lease/<id as 20 digits>
inline constexpr std::string_view kLeaseAttachPrefix = "lease_keys/";  // lease_keys/<id>/<key>
inline constexpr std::string_view kLeaseCountKey = "lease_count";      // leases held (varint)

struct LeaseRecord {
  uint64_t ttl_ms = 0;
  // The index of the grant or of the last keepalive that named this lease: the keeper's clock
  // restarts when it sees this change, and an expiry decided on an older one is ignored.
  uint64_t keepalive_index = 0;
  uint64_t keys_max = 0;    // attachments allowed (the granting node's --lease-keys-max)
  uint64_t keys_count = 0;  // attachments recorded (some may have been detached by later writes)
  // The prefix of the token that granted it (empty: any key): only keys under it may be attached,
  // so that whoever may revoke the lease may delete every key it holds.
  std::string prefix;

  bool operator==(const LeaseRecord&) const = default;
};

// An expiry lease (docs/resp.md "Expiry") holds the expiry of one key set over RESP: it allows no
// attachments (keys_max 0) but the one key its granting command attached (keys_count 1, prefix
// that key). It goes when the key is written without keeping it, deleted, or expires.
inline bool IsExpiryLease(const LeaseRecord& r) { return r.keys_max == 0; }

std::string LeaseKeyName(uint64_t id);
// The lease id of a lease record's name (LeaseKeyName); nullopt for any other system key name.
std::optional<uint64_t> LeaseIdOfKeyName(std::string_view name);
std::string LeaseAttachPrefix(uint64_t id);  // lease_keys/<id>/
std::string LeaseAttachName(uint64_t id, std::string_view user_key);

std::string EncodeLeaseRecord(const LeaseRecord& record);
// kCorruption for malformed or truncated bytes.
Result<LeaseRecord> DecodeLeaseRecord(std::string_view bytes);

// The value of an attachment: the revision of the write that attached the key.
std::string EncodeAttachment(uint64_t revision);
Result<uint64_t> DecodeAttachment(std::string_view bytes);

// One lease as the keeper sees it.
struct LeaseSummary {
  uint64_t id = 0;
  uint64_t ttl_ms = 0;
  uint64_t keepalive_index = 0;

  bool operator==(const LeaseSummary&) const = default;
};

// Every lease in `view`, in id order.
Result<std::vector<LeaseSummary>> ReadLeases(const engine::View& view);
// The lease `id` in `view`, or std::nullopt when there is none.
Result<std::optional<LeaseRecord>> ReadLease(const engine::View& view, uint64_t id);
// The keys attached to lease `id` whose current revision is still the one that attached them, in
// key order.
Result<std::vector<std::string>> ReadAttachedKeys(const engine::View& view, uint64_t id);

// The lease id of a route or command argument: a decimal number above zero; nullopt otherwise.
std::optional<uint64_t> ParseLeaseId(std::string_view text);

}  // namespace nds::store
