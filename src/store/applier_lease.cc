// Applying lease commands (command.h kLeaseGrant..kLeaseExpire, lease_state.h): grants, batched
// keepalives, revocation and expiry, and the attachment of keys by puts and transactions.
#include <algorithm>

#include "store/applier.h"
#include "store/lease_state.h"
#include "util/check.h"
#include "util/coding.h"

namespace nds::store {

Result<std::optional<std::string>> BatchApplier::LeaseSystemGet(const std::string& name) const {
  if (auto it = lease_overlay_.find(name); it != lease_overlay_.end()) return it->second;
  return engine_->Get(SystemKey(name));
}

void BatchApplier::LeaseSystemPut(const std::string& name, std::string value) {
  batch_.Put(SystemKey(name), value);
  if (leases_ != nullptr) {
    if (auto id = LeaseIdOfKeyName(name)) {
      auto lease = DecodeLeaseRecord(value);
      NDS_CHECK(lease.ok());  // encoded by this applier a moment ago
      leases_written_[*id] = LeaseSummary{*id, lease->ttl_ms, lease->keepalive_index};
    }
  }
  lease_overlay_[name] = std::move(value);
}

void BatchApplier::LeaseSystemDelete(const std::string& name) {
  batch_.Delete(SystemKey(name));
  if (leases_ != nullptr) {
    if (auto id = LeaseIdOfKeyName(name)) leases_written_[*id] = std::nullopt;
  }
  lease_overlay_[name] = std::nullopt;
}

Status BatchApplier::CheckAttach(uint64_t id, const std::string& key) {
  NDS_ASSIGN_OR_RETURN(std::optional<std::string> bytes, LeaseSystemGet(LeaseKeyName(id)));
  if (!bytes) {
    return InvalidArgument("no lease " + std::to_string(id) +
                           " (it expired, was revoked, or was never granted)");
  }
  NDS_ASSIGN_OR_RETURN(LeaseRecord lease, DecodeLeaseRecord(*bytes));
  NDS_ASSIGN_OR_RETURN(std::optional<std::string> attached,
                       LeaseSystemGet(LeaseAttachName(id, key)));
  if (IsExpiryLease(lease) && !attached) {
    return InvalidArgument("lease " + std::to_string(id) +
                           " is the expiry of one key set over RESP; no other key may be attached");
  }
  if (!key.starts_with(lease.prefix)) {
    return InvalidArgument("lease " + std::to_string(id) + " was granted for keys under '" +
                           lease.prefix + "' only");
  }
  if (!attached && lease.keys_count >= lease.keys_max) {
    return ResourceExhausted("lease " + std::to_string(id) + " already holds " +
                             std::to_string(lease.keys_count) + " keys (--lease-keys-max)");
  }
  return Status::Ok();
}

void BatchApplier::AttachLease(uint64_t id, const std::string& key, uint64_t revision) {
  const std::string name = LeaseAttachName(id, key);
  auto attached = LeaseSystemGet(name);
  auto bytes = LeaseSystemGet(LeaseKeyName(id));
  // CheckAttach read both a moment ago, in this batch.
  NDS_CHECK(attached.ok() && bytes.ok() && bytes->has_value());
  if (!attached->has_value()) {
    auto lease = DecodeLeaseRecord(**bytes);
    NDS_CHECK(lease.ok());
    ++lease->keys_count;
    LeaseSystemPut(LeaseKeyName(id), EncodeLeaseRecord(*lease));
  }
  LeaseSystemPut(name, EncodeAttachment(revision));
}

Status BatchApplier::ReleaseLease(uint64_t id, LogIndex index) {
  // The attachments: the engine's, then this batch's over them.
  std::map<std::string, std::optional<std::string>> attachments;
  const std::string prefix = LeaseAttachPrefix(id);
  const std::string begin = SystemKey(prefix);
  auto view = engine_->NewView();
  auto it = view->NewIterator();
  for (it->Seek(begin); it->Valid() && it->key().starts_with(begin); it->Next()) {
    attachments.emplace(std::string(it->key().substr(1)), std::string(it->value()));
  }
  NDS_RETURN_IF_ERROR(it->status());
  for (auto o = lease_overlay_.lower_bound(prefix);
       o != lease_overlay_.end() && o->first.starts_with(prefix); ++o) {
    attachments[o->first] = o->second;
  }
  // Read everything before writing anything, so that a read error changes nothing.
  std::vector<std::string> doomed;
  for (const auto& [name, value] : attachments) {
    if (!value) continue;
    NDS_ASSIGN_OR_RETURN(uint64_t attached, DecodeAttachment(*value));
    std::string data_key = DataKey(std::string_view(name).substr(prefix.size()));
    NDS_ASSIGN_OR_RETURN(std::optional<uint64_t> current, CurrentRevision(data_key));
    if (current == attached) doomed.push_back(std::move(data_key));
  }
  NDS_ASSIGN_OR_RETURN(uint64_t count, LeaseCount());
  for (const std::string& data_key : doomed) DeleteRecord(data_key, id);
  for (const auto& [name, value] : attachments) {
    if (value) LeaseSystemDelete(name);
  }
  LeaseSystemDelete(LeaseKeyName(id));
  SetLeaseCount(count > 0 ? count - 1 : 0);
  (void)index;  // every deletion above carries the entry's index as its revision
  return Status::Ok();
}

Result<uint64_t> BatchApplier::LeaseCount() const {
  NDS_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                       LeaseSystemGet(std::string(kLeaseCountKey)));
  if (!bytes) return uint64_t{0};
  return DecodeAttachment(*bytes);
}

void BatchApplier::SetLeaseCount(uint64_t count) {
  LeaseSystemPut(std::string(kLeaseCountKey), EncodeAttachment(count));
}

ApplyResult BatchApplier::ApplyLease(const Command& cmd, LogIndex index) {
  ApplyResult result;
  result.revision = index.value;
  auto fail = [&result](Status s) {
    result.status = std::move(s);
    return result;
  };
  switch (cmd.type) {
    case CommandType::kLeaseGrant: {
      auto count = LeaseCount();
      if (!count.ok()) return fail(count.status());
      auto leases_max = ParseDecimalInt64(cmd.value);
      NDS_CHECK(leases_max.has_value());  // DecodeCommand validated it
      if (*count >= static_cast<uint64_t>(*leases_max)) {
        return fail(ResourceExhausted("the cluster holds " + std::to_string(*count) +
                                      " leases already (--max-leases)"));
      }
      LeaseRecord lease{cmd.expected_revision, index.value, cmd.member_id, 0, cmd.key};
      LeaseSystemPut(LeaseKeyName(index.value), EncodeLeaseRecord(lease));
      SetLeaseCount(*count + 1);
      return result;
    }
    case CommandType::kLeaseKeepAlive: {
      auto ids = DecodeStringList(cmd.value);
      NDS_CHECK(ids.ok());
      auto ttls = std::make_shared<std::vector<uint64_t>>();
      for (std::string_view text : *ids) {
        uint64_t id = *ParseLeaseId(text);
        const std::string name = LeaseKeyName(id);
        auto bytes = LeaseSystemGet(name);
        if (!bytes.ok()) return fail(bytes.status());
        uint64_t ttl_ms = 0;
        if (*bytes) {
          auto lease = DecodeLeaseRecord(**bytes);
          if (!lease.ok()) return fail(lease.status());
          ttl_ms = lease->ttl_ms;
          lease->keepalive_index = index.value;
          LeaseSystemPut(name, EncodeLeaseRecord(*lease));
        }
        ttls->push_back(ttl_ms);
      }
      result.lease_ttls_ms = std::move(ttls);
      return result;
    }
    case CommandType::kLeaseRevoke:
    case CommandType::kLeaseExpire: {
      auto bytes = LeaseSystemGet(LeaseKeyName(cmd.member_id));
      if (!bytes.ok()) return fail(bytes.status());
      if (!*bytes) return fail(NotFound("no lease " + std::to_string(cmd.member_id)));
      if (cmd.type == CommandType::kLeaseExpire) {
        auto lease = DecodeLeaseRecord(**bytes);
        if (!lease.ok()) return fail(lease.status());
        if (lease->keepalive_index != cmd.expected_revision) {
          return fail(FailedPrecondition("lease " + std::to_string(cmd.member_id) +
                                         " was kept alive at index " +
                                         std::to_string(lease->keepalive_index)));
        }
      }
      result.status = ReleaseLease(cmd.member_id, index);
      return result;
    }
    default:
      NDS_CHECK(false, "not a lease command");
  }
  return result;
}

}  // namespace nds::store
