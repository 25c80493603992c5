// Lease records and attachments in the system namespace (lease_state.h).
#include "store/lease_state.h"

#include "store/command.h"
#include "store/keyspace.h"
#include "util/coding.h"

namespace nds::store {
namespace {

constexpr uint8_t kLeaseRecordVersion = 1;

std::string IdDigits(uint64_t id) {
  std::string digits = std::to_string(id);
  return std::string(20 - digits.size(), '0') + digits;
}

}  // namespace

std::string LeaseKeyName(uint64_t id) { return std::string(kLeaseKeyPrefix) + IdDigits(id); }

std::optional<uint64_t> LeaseIdOfKeyName(std::string_view name) {
  if (!name.starts_with(kLeaseKeyPrefix)) return std::nullopt;
  std::string_view digits = name.substr(kLeaseKeyPrefix.size());
  if (digits.size() != 20) return std::nullopt;
  size_t first = digits.find_first_not_of('0');
  if (first == std::string_view::npos) return std::nullopt;
  return ParseLeaseId(digits.substr(first));
}

std::string LeaseAttachPrefix(uint64_t id) {
  return std::string(kLeaseAttachPrefix) + IdDigits(id) + "/";
}

std::string LeaseAttachName(uint64_t id, std::string_view user_key) {
  std::string name = LeaseAttachPrefix(id);
  name.append(user_key);
  return name;
}

std::string EncodeLeaseRecord(const LeaseRecord& record) {
  std::string out;
  out.push_back(static_cast<char>(kLeaseRecordVersion));
  PutVarint64(&out, record.ttl_ms);
  PutVarint64(&out, record.keepalive_index);
  PutVarint64(&out, record.keys_max);
  PutVarint64(&out, record.keys_count);
  PutLengthPrefixed(&out, record.prefix);
  return out;
}

Result<LeaseRecord> DecodeLeaseRecord(std::string_view bytes) {
  Decoder d(bytes);
  NDS_ASSIGN_OR_RETURN(std::string_view version, d.Bytes(1));
  if (static_cast<uint8_t>(version[0]) != kLeaseRecordVersion) {
    return Corruption("lease record version " + std::to_string(static_cast<uint8_t>(version[0])) +
                      " is not supported");
  }
  LeaseRecord r;
  NDS_ASSIGN_OR_RETURN(r.ttl_ms, d.Varint64());
  NDS_ASSIGN_OR_RETURN(r.keepalive_index, d.Varint64());
  NDS_ASSIGN_OR_RETURN(r.keys_max, d.Varint64());
  NDS_ASSIGN_OR_RETURN(r.keys_count, d.Varint64());
  NDS_ASSIGN_OR_RETURN(std::string_view prefix, d.LengthPrefixed());
  if (!d.done()) return Corruption("trailing bytes after a lease record");
  r.prefix = prefix;
  return r;
}

std::string EncodeAttachment(uint64_t revision) {
  std::string out;
  PutVarint64(&out, revision);
  return out;
}

Result<uint64_t> DecodeAttachment(std::string_view bytes) {
  Decoder d(bytes);
  NDS_ASSIGN_OR_RETURN(uint64_t revision, d.Varint64());
  if (!d.done()) return Corruption("trailing bytes after a lease attachment");
  return revision;
}

Result<std::vector<LeaseSummary>> ReadLeases(const engine::View& view) {
  std::vector<LeaseSummary> leases;
  const std::string begin = SystemKey(kLeaseKeyPrefix);
  auto it = view.NewIterator();
  for (it->Seek(begin); it->Valid() && it->key().starts_with(begin); it->Next()) {
    auto id = LeaseIdOfKeyName(it->key().substr(begin.size() - kLeaseKeyPrefix.size()));
    if (!id) {
      return Corruption("a lease key with a bad id: " +
                        std::string(it->key().substr(begin.size())));
    }
    NDS_ASSIGN_OR_RETURN(LeaseRecord r, DecodeLeaseRecord(it->value()));
    leases.push_back(LeaseSummary{*id, r.ttl_ms, r.keepalive_index});
  }
  NDS_RETURN_IF_ERROR(it->status());
  return leases;
}

Result<std::optional<LeaseRecord>> ReadLease(const engine::View& view, uint64_t id) {
  NDS_ASSIGN_OR_RETURN(std::optional<std::string> bytes, view.Get(SystemKey(LeaseKeyName(id))));
  if (!bytes) return std::optional<LeaseRecord>();
  NDS_ASSIGN_OR_RETURN(LeaseRecord r, DecodeLeaseRecord(*bytes));
  return std::optional<LeaseRecord>(std::move(r));
}

Result<std::vector<std::string>> ReadAttachedKeys(const engine::View& view, uint64_t id) {
  std::vector<std::string> keys;
  const std::string begin = SystemKey(LeaseAttachPrefix(id));
  auto it = view.NewIterator();
  for (it->Seek(begin); it->Valid() && it->key().starts_with(begin); it->Next()) {
    std::string key(it->key().substr(begin.size()));
    NDS_ASSIGN_OR_RETURN(uint64_t attached, DecodeAttachment(it->value()));
    NDS_ASSIGN_OR_RETURN(std::optional<std::string> rec, view.Get(DataKey(key)));
    if (!rec) continue;
    NDS_ASSIGN_OR_RETURN(RecordView current, DecodeRecord(*rec));
    if (current.revision == attached) keys.push_back(std::move(key));
  }
  NDS_RETURN_IF_ERROR(it->status());
  return keys;
}

std::optional<uint64_t> ParseLeaseId(std::string_view text) {
  std::optional<int64_t> n = ParseDecimalInt64(text);
  if (!n || *n <= 0) return std::nullopt;
  return static_cast<uint64_t>(*n);
}

}  // namespace nds::store
