// The RESP front's read-modify-write commands (kIncrementBy, kAppend, kPutReturnOld, kPutMany,
// kDeleteMany, and the expiry commands kExpire and kPutExpiring: applier_expiry.cc), decided here
// at apply time so that concurrent clients are ordered by the log (docs/formats/store.md). Each
// sees earlier commands of the same batch through the overlay.
#include <limits>
#include <set>
#include <string>

#include "store/applier.h"
#include "store/keyspace.h"
#include "util/check.h"

namespace nds::store {
namespace {

// Redis's own words, so that client libraries recognise the errors (docs/resp.md).
constexpr std::string_view kNotAnInteger = "value is not an integer or out of range";
constexpr std::string_view kOverflow = "increment or decrement would overflow";

}  // namespace

Result<std::optional<Record>> BatchApplier::CurrentDecoded(const std::string& data_key) const {
  NDS_ASSIGN_OR_RETURN(std::optional<std::string_view> bytes, PeekRecord(data_key));
  if (!bytes) return std::optional<Record>();
  NDS_ASSIGN_OR_RETURN(RecordView rec, DecodeRecord(*bytes));
  return std::optional<Record>(
      Record{rec.revision, std::string(rec.content_type), std::string(rec.value), rec.lease_id});
}

template <typename Modify>
ApplyResult BatchApplier::ModifyCurrent(const Command& cmd, LogIndex index, Modify modify) {
  ApplyResult result;
  result.revision = index.value;
  const std::string key = DataKey(cmd.key);
  auto current = CurrentDecoded(key);
  if (!current.ok()) {
    result.status = current.status();
    return result;
  }
  const bool existed = current->has_value();
  modify(key, *current, result);
  if (result.status.ok()) result.created = !existed;
  return result;
}

ApplyResult BatchApplier::ApplyIncrementBy(const Command& cmd, LogIndex index) {
  std::optional<int64_t> delta = ParseDecimalInt64(cmd.value);
  NDS_CHECK(delta.has_value());  // DecodeCommand validated it
  return ModifyCurrent(
      cmd, index, [&](const std::string& key, std::optional<Record>& current, ApplyResult& result) {
        int64_t value = 0;
        std::string content_type;
        uint64_t lease_id = 0;
        if (current) {
          std::optional<int64_t> parsed = ParseDecimalInt64(current->value);
          if (!parsed) {
            result.status = InvalidArgument(std::string(kNotAnInteger));
            return;
          }
          value = *parsed;
          content_type = std::move(current->content_type);
          lease_id = current->lease_id;
        }
        if ((*delta > 0 && value > std::numeric_limits<int64_t>::max() - *delta) ||
            (*delta < 0 && value < std::numeric_limits<int64_t>::min() - *delta)) {
          result.status = InvalidArgument(std::string(kOverflow));
          return;
        }
        value += *delta;
        result.integer = value;
        // As in Redis, the key keeps its expiry (docs/resp.md "Expiry").
        PutRecord(key, index.value, content_type, std::to_string(value),
                  KeepLease(cmd.key, lease_id, index.value));
      });
}

ApplyResult BatchApplier::ApplyAppend(const Command& cmd, LogIndex index) {
  return ModifyCurrent(
      cmd, index, [&](const std::string& key, std::optional<Record>& current, ApplyResult& result) {
        std::string value;
        std::string content_type;
        uint64_t lease_id = 0;
        if (current) {
          value = std::move(current->value);
          content_type = std::move(current->content_type);
          lease_id = current->lease_id;
        }
        const uint64_t length_max = cmd.expected_revision;
        if (value.size() + cmd.value.size() > length_max) {
          result.status =
              ResourceExhausted("string exceeds maximum allowed size (--max-value-bytes=" +
                                std::to_string(length_max) + ")");
          return;
        }
        value += cmd.value;
        result.integer = static_cast<int64_t>(value.size());
        PutRecord(key, index.value, content_type, value, KeepLease(cmd.key, lease_id, index.value));
      });
}

ApplyResult BatchApplier::ApplyPutReturnOld(const Command& cmd, LogIndex index) {
  return ModifyCurrent(
      cmd, index, [&](const std::string& key, std::optional<Record>& current, ApplyResult& result) {
        std::optional<uint64_t> revision;
        if (current) {
          result.old_value = std::move(current->value);
          revision = current->revision;
        }
        result.status = CheckPrecondition(cmd, revision);
        if (!result.status.ok()) return;
        PutRecord(key, index.value, cmd.content_type, cmd.value);
      });
}

ApplyResult BatchApplier::ApplyPutMany(const Command& cmd, LogIndex index) {
  ApplyResult result;
  result.revision = index.value;
  auto items = DecodeStringList(cmd.value);
  NDS_CHECK(items.ok());  // DecodeCommand validated it
  NDS_CHECK(items->size() % 2 == 0);
  for (size_t i = 0; i < items->size(); i += 2) {
    PutRecord(DataKey((*items)[i]), index.value, "", (*items)[i + 1]);
  }
  return result;
}

ApplyResult BatchApplier::ApplyDeleteMany(const Command& cmd, LogIndex index) {
  ApplyResult result;
  result.revision = index.value;
  auto items = DecodeStringList(cmd.value);
  NDS_CHECK(items.ok());  // DecodeCommand validated it
  // Read every key before deleting any, so that a read error changes nothing.
  std::set<std::string> present;
  for (std::string_view user_key : *items) {
    std::string key = DataKey(user_key);
    auto current = CurrentRevision(key);
    if (!current.ok()) {
      result.status = current.status();
      return result;
    }
    if (current->has_value()) present.insert(std::move(key));
  }
  for (const std::string& key : present) DeleteRecord(key);
  result.integer = static_cast<int64_t>(present.size());
  return result;
}

ApplyResult BatchApplier::ApplyExpire(const Command& cmd, LogIndex index) {
  ApplyResult r = ModifyCurrent(
      cmd, index, [&](const std::string& key, std::optional<Record>& current, ApplyResult& result) {
        if (!current) return;  // 0: no such key
        const bool has_expiry = current->lease_id != 0;
        if ((cmd.precondition == Precondition::kMustNotExist && has_expiry) ||
            (cmd.precondition == Precondition::kMustExist && !has_expiry)) {
          return;  // 0: the condition did not hold
        }
        const uint64_t ttl_ms = cmd.expected_revision;
        if (ttl_ms == 0) {
          if (!has_expiry) return;  // PERSIST of a key without expiry: 0
          PutRecord(key, index.value, current->content_type, current->value, 0);
          result.integer = 1;
          return;
        }
        // Everything that can fail is read before anything is written.
        result.status = CheckExpiryRoom(current->lease_id, cmd.member_id);
        if (!result.status.ok()) return;
        PutRecord(key, index.value, current->content_type, current->value, index.value);
        GrantExpiryLease(cmd.key, ttl_ms, index);
        result.integer = 1;
      });
  r.created = false;
  return r;
}

ApplyResult BatchApplier::ApplyPutExpiring(const Command& cmd, LogIndex index) {
  return ModifyCurrent(
      cmd, index, [&](const std::string& key, std::optional<Record>& current, ApplyResult& result) {
        std::optional<uint64_t> revision;
        uint64_t old_lease = 0;
        if (current) {
          revision = current->revision;
          old_lease = current->lease_id;
          if (cmd.return_old) result.old_value = std::move(current->value);
        }
        result.status = CheckPrecondition(cmd, revision);
        if (!result.status.ok()) return;
        const uint64_t ttl_ms = cmd.expected_revision;
        if (ttl_ms == 0) {  // KEEPTTL
          PutRecord(key, index.value, "", cmd.value, KeepLease(cmd.key, old_lease, index.value));
          return;
        }
        result.status = CheckExpiryRoom(old_lease, cmd.member_id);
        if (!result.status.ok()) return;
        PutRecord(key, index.value, "", cmd.value, index.value);
        GrantExpiryLease(cmd.key, ttl_ms, index);
      });
}

}  // namespace nds::store
