// Command constructors and the versioned command encoding (docs/formats/store.md).
#include "store/command.h"

#include "store/auth_state.h"
#include "store/txn.h"
#include "util/check.h"
#include "util/coding.h"

namespace nds::store {
namespace {

constexpr uint8_t kCommandFormatVersion = 1;
// Marks the optional lease id after a put's value (docs/formats/store.md "Leases").
constexpr char kLeaseFieldTag = 'L';
constexpr uint8_t kCommandTypeMax = static_cast<uint8_t>(CommandType::kPutExpiring);

bool IsMemberCommand(CommandType type) {
  return type == CommandType::kAddMember || type == CommandType::kRemoveMember;
}

// The fields a member command leaves unused must be empty, and kAddMember's value must be a
// member record: a log entry that says otherwise was not written by EncodeCommand.
Status ValidateMemberCommand(const Command& c) {
  if (c.precondition != Precondition::kNone || !c.key.empty() || !c.content_type.empty()) {
    return Corruption("member command with a precondition, key or content type");
  }
  if (c.type == CommandType::kRemoveMember) {
    if (!c.value.empty()) return Corruption("remove-member command with a value");
    return Status::Ok();
  }
  return DecodeMemberRecord(c.value).status();
}

// The fields the RESP commands leave unused must be empty and their values well formed: a log
// entry that says otherwise was not written by EncodeCommand.
Status ValidateRespCommand(const Command& c) {
  bool many = c.type == CommandType::kPutMany || c.type == CommandType::kDeleteMany;
  if (!c.content_type.empty()) return Corruption("RESP command with a content type");
  if (many != c.key.empty()) return Corruption("RESP command with a misplaced key");
  if (c.type == CommandType::kPutReturnOld) {
    if (c.precondition == Precondition::kRevisionEquals || c.expected_revision != 0) {
      return Corruption("put-return-old with a revision precondition");
    }
    return Status::Ok();
  }
  if (c.precondition != Precondition::kNone) return Corruption("RESP command with a precondition");
  if (c.type != CommandType::kAppend && c.expected_revision != 0) {
    return Corruption("RESP command with a revision");
  }
  if (c.type == CommandType::kIncrementBy && !ParseDecimalInt64(c.value)) {
    return Corruption("increment that is not a decimal integer");
  }
  if (many) {
    NDS_ASSIGN_OR_RETURN(std::vector<std::string_view> items, DecodeStringList(c.value));
    if (items.empty()) return Corruption("multi-key command without keys");
    if (c.type == CommandType::kPutMany && items.size() % 2 != 0) {
      return Corruption("put-many with an odd number of strings");
    }
  }
  return Status::Ok();
}

// A transaction carries everything in its value, which must decode.
Status ValidateTxnCommand(const Command& c) {
  if (c.precondition != Precondition::kNone || c.expected_revision != 0 || !c.key.empty() ||
      !c.content_type.empty()) {
    return Corruption("transaction command with a precondition, revision, key or content type");
  }
  return DecodeTxn(c.value).status();
}

bool IsLeaseCommand(CommandType type) {
  return type >= CommandType::kLeaseGrant && type <= CommandType::kLeaseExpire;
}

bool IsExpiryCommand(CommandType type) {
  return type == CommandType::kExpire || type == CommandType::kPutExpiring;
}

// The expiry commands use only the fields their type names (command.h).
Status ValidateExpiryCommand(const Command& c) {
  if (c.key.empty() || !c.content_type.empty() || c.member_id == 0 ||
      c.precondition == Precondition::kRevisionEquals) {
    return Corruption("expiry command without a key or lease limit, or with a content type");
  }
  if (c.type == CommandType::kExpire && !c.value.empty()) {
    return Corruption("expire command with a value");
  }
  return Status::Ok();
}

// Lease commands use only the fields their type names (command.h).
Status ValidateLeaseCommand(const Command& c) {
  if (c.precondition != Precondition::kNone || !c.content_type.empty()) {
    return Corruption("lease command with a precondition or content type");
  }
  switch (c.type) {
    case CommandType::kLeaseGrant:
      if (c.expected_revision == 0 || !ParseDecimalInt64(c.value)) {
        return Corruption("lease grant without a TTL or a lease limit");
      }
      return Status::Ok();
    case CommandType::kLeaseKeepAlive: {
      if (!c.key.empty() || c.member_id != 0 || c.expected_revision != 0) {
        return Corruption("lease keepalive with a key, id or revision");
      }
      NDS_ASSIGN_OR_RETURN(std::vector<std::string_view> ids, DecodeStringList(c.value));
      if (ids.empty()) return Corruption("lease keepalive without ids");
      for (std::string_view id : ids) {
        std::optional<int64_t> n = ParseDecimalInt64(id);
        if (!n || *n <= 0) return Corruption("lease keepalive with a bad id");
      }
      return Status::Ok();
    }
    case CommandType::kLeaseRevoke:
    case CommandType::kLeaseExpire:
      if (!c.key.empty() || !c.value.empty() || c.member_id == 0 ||
          (c.type == CommandType::kLeaseRevoke && c.expected_revision != 0)) {
        return Corruption("lease revoke or expire with a key, value or revision, or no id");
      }
      return Status::Ok();
    default:
      return Corruption("not a lease command");
  }
}

}  // namespace

std::optional<int64_t> ParseDecimalInt64(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  bool negative = text.front() == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
  if (negative && digits == "0") return std::nullopt;
  uint64_t magnitude = 0;
  for (char ch : digits) {
    if (ch < '0' || ch > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(ch - '0');
    if (magnitude > (UINT64_MAX - d) / 10) return std::nullopt;
    magnitude = magnitude * 10 + d;
  }
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(INT64_MAX);
  if (!negative) {
    if (magnitude > kMaxPositive) return std::nullopt;
    return static_cast<int64_t>(magnitude);
  }
  if (magnitude > kMaxPositive + 1) return std::nullopt;
  if (magnitude == kMaxPositive + 1) return INT64_MIN;
  return -static_cast<int64_t>(magnitude);
}

std::string EncodeStringList(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::string_view item : items) PutLengthPrefixed(&out, item);
  return out;
}

Result<std::vector<std::string_view>> DecodeStringList(std::string_view bytes) {
  Decoder d(bytes);
  std::vector<std::string_view> items;
  while (!d.done()) {
    NDS_ASSIGN_OR_RETURN(std::string_view item, d.LengthPrefixed());
    items.push_back(item);
  }
  return items;
}

namespace {

// A command of `type` on `key` with `value`, `pre` and `expected_revision`; the other fields keep
// their defaults. The factories below are this with their own fields set.
Command Make(CommandType type, std::string key = {}, std::string value = {},
             Precondition pre = Precondition::kNone, uint64_t expected_revision = 0) {
  Command c;
  c.type = type;
  c.precondition = pre;
  c.expected_revision = expected_revision;
  c.key = std::move(key);
  c.value = std::move(value);
  return c;
}

}  // namespace

Command IncrementByCommand(std::string key, int64_t delta) {
  return Make(CommandType::kIncrementBy, std::move(key), std::to_string(delta));
}

Command AppendCommand(std::string key, std::string suffix, uint64_t length_max) {
  return Make(CommandType::kAppend, std::move(key), std::move(suffix), Precondition::kNone,
              length_max);
}

Command PutReturnOldCommand(std::string key, std::string value, Precondition pre) {
  NDS_CHECK(pre != Precondition::kRevisionEquals);
  return Make(CommandType::kPutReturnOld, std::move(key), std::move(value), pre);
}

Command PutManyCommand(const std::vector<std::pair<std::string, std::string>>& pairs) {
  NDS_CHECK(!pairs.empty());
  std::vector<std::string_view> items;
  items.reserve(2 * pairs.size());
  for (const auto& [k, v] : pairs) {
    items.push_back(k);
    items.push_back(v);
  }
  return Make(CommandType::kPutMany, {}, EncodeStringList(items));
}

Command DeleteManyCommand(const std::vector<std::string>& keys) {
  NDS_CHECK(!keys.empty());
  return Make(CommandType::kDeleteMany, {},
              EncodeStringList(std::vector<std::string_view>(keys.begin(), keys.end())));
}

Command PutCommand(std::string key, std::string value, std::string content_type, Precondition pre,
                   uint64_t expected_revision) {
  Command c = Make(CommandType::kPut, std::move(key), std::move(value), pre, expected_revision);
  c.content_type = std::move(content_type);
  return c;
}

Command DeleteCommand(std::string key, Precondition pre, uint64_t expected_revision) {
  return Make(CommandType::kDelete, std::move(key), {}, pre, expected_revision);
}

Command ClearCommand() { return Make(CommandType::kClear); }

Command PutSecretCommand(std::string location, std::string blob) {
  return Make(CommandType::kPutSecret, std::move(location), std::move(blob));
}

Command PutSystemCommand(std::string name, std::string value, Precondition pre) {
  return Make(CommandType::kPutSystem, std::move(name), std::move(value), pre);
}

Command DeleteSystemCommand(std::string name) {
  return Make(CommandType::kDeleteSystem, std::move(name));
}

Command AddMemberCommand(MemberRecord record) {
  record.id = 0;
  return Make(CommandType::kAddMember, {}, EncodeMemberRecord(record));
}

Command RemoveMemberCommand(uint64_t id) {
  Command c = Make(CommandType::kRemoveMember);
  c.member_id = id;
  return c;
}

Command ExpireCommand(std::string key, uint64_t ttl_ms, Precondition pre, uint64_t leases_max) {
  NDS_CHECK(pre != Precondition::kRevisionEquals);
  Command c = Make(CommandType::kExpire, std::move(key), {}, pre, ttl_ms);
  c.member_id = leases_max;
  return c;
}

Command PutExpiringCommand(std::string key, std::string value, Precondition pre, uint64_t ttl_ms,
                           bool return_old, uint64_t leases_max) {
  NDS_CHECK(pre != Precondition::kRevisionEquals);
  Command c = Make(CommandType::kPutExpiring, std::move(key), std::move(value), pre, ttl_ms);
  c.member_id = leases_max;
  c.return_old = return_old;
  return c;
}

Command LeaseGrantCommand(uint64_t ttl_ms, uint64_t keys_max, uint64_t leases_max,
                          std::string prefix) {
  Command c = Make(CommandType::kLeaseGrant, std::move(prefix), std::to_string(leases_max),
                   Precondition::kNone, ttl_ms);
  c.member_id = keys_max;
  return c;
}

Command LeaseKeepAliveCommand(const std::vector<uint64_t>& ids) {
  NDS_CHECK(!ids.empty());
  std::vector<std::string> digits;
  digits.reserve(ids.size());
  for (uint64_t id : ids) digits.push_back(std::to_string(id));
  return Make(CommandType::kLeaseKeepAlive, {},
              EncodeStringList(std::vector<std::string_view>(digits.begin(), digits.end())));
}

Command LeaseRevokeCommand(uint64_t id) {
  Command c = Make(CommandType::kLeaseRevoke);
  c.member_id = id;
  return c;
}

Command LeaseExpireCommand(uint64_t id, uint64_t keepalive_index) {
  Command c = Make(CommandType::kLeaseExpire, {}, {}, Precondition::kNone, keepalive_index);
  c.member_id = id;
  return c;
}

bool IsUserWrite(CommandType type) {
  switch (type) {
    case CommandType::kPut:
    case CommandType::kDelete:
    case CommandType::kClear:
    case CommandType::kPutSecret:
    case CommandType::kIncrementBy:
    case CommandType::kAppend:
    case CommandType::kPutReturnOld:
    case CommandType::kPutMany:
    case CommandType::kDeleteMany:
    case CommandType::kTxn:
    case CommandType::kLeaseGrant:
    case CommandType::kLeaseKeepAlive:
    case CommandType::kLeaseRevoke:
    case CommandType::kExpire:
    case CommandType::kPutExpiring:
      return true;
    case CommandType::kLeaseExpire:
    case CommandType::kPutSystem:
    case CommandType::kDeleteSystem:
    case CommandType::kAddMember:
    case CommandType::kRemoveMember:
      return false;
  }
  return false;
}

namespace {

void EncodePlainCommand(const Command& cmd, std::string* out) {
  // One varint slot carries the expected revision, or the member id of kRemoveMember. Lease
  // commands carry both: the id (or limit) follows the value.
  const bool remove_member = cmd.type == CommandType::kRemoveMember;
  const bool lease = IsLeaseCommand(cmd.type) || IsExpiryCommand(cmd.type);
  NDS_CHECK(remove_member || lease || cmd.member_id == 0);
  NDS_CHECK(cmd.type == CommandType::kPutExpiring || !cmd.return_old);
  NDS_CHECK(!remove_member || cmd.expected_revision == 0);
  NDS_CHECK(cmd.type == CommandType::kPut || cmd.lease_id == 0);
  out->push_back(static_cast<char>(kCommandFormatVersion));
  out->push_back(static_cast<char>(cmd.type));
  out->push_back(static_cast<char>(cmd.precondition));
  PutVarint64(out, remove_member ? cmd.member_id : cmd.expected_revision);
  PutLengthPrefixed(out, cmd.key);
  PutLengthPrefixed(out, cmd.content_type);
  PutLengthPrefixed(out, cmd.value);
  // Optional trailing fields, absent unless set: a put without a lease encodes as it always did.
  if (lease) PutVarint64(out, cmd.member_id);
  if (cmd.type == CommandType::kPutExpiring) out->push_back(cmd.return_old ? 1 : 0);
  if (cmd.lease_id != 0) {
    out->push_back(kLeaseFieldTag);
    PutVarint64(out, cmd.lease_id);
  }
}

Result<Command> DecodePlainCommand(std::string_view bytes) {
  Decoder d(bytes);
  NDS_ASSIGN_OR_RETURN(std::string_view head, d.Bytes(3));
  if (static_cast<uint8_t>(head[0]) != kCommandFormatVersion) {
    return Corruption("command format version " + std::to_string(static_cast<uint8_t>(head[0])) +
                      " is not supported");
  }
  auto type = static_cast<uint8_t>(head[1]);
  auto pre = static_cast<uint8_t>(head[2]);
  if (type < 1 || type > kCommandTypeMax || type == kAuthorizedCommandType)
    return Corruption("unknown command type " + std::to_string(type));
  if (pre > 3) return Corruption("unknown precondition " + std::to_string(pre));
  Command c;
  c.type = static_cast<CommandType>(type);
  c.precondition = static_cast<Precondition>(pre);
  NDS_ASSIGN_OR_RETURN(uint64_t number, d.Varint64());
  if (c.type == CommandType::kRemoveMember) {
    c.member_id = number;
  } else {
    c.expected_revision = number;
  }
  NDS_ASSIGN_OR_RETURN(std::string_view key, d.LengthPrefixed());
  NDS_ASSIGN_OR_RETURN(std::string_view content_type, d.LengthPrefixed());
  NDS_ASSIGN_OR_RETURN(std::string_view value, d.LengthPrefixed());
  if (IsLeaseCommand(c.type) || IsExpiryCommand(c.type)) {
    NDS_ASSIGN_OR_RETURN(c.member_id, d.Varint64());
  }
  if (c.type == CommandType::kPutExpiring) {
    NDS_ASSIGN_OR_RETURN(std::string_view flag, d.Bytes(1));
    if (flag[0] != 0 && flag[0] != 1) return Corruption("put-expiring with a bad return-old flag");
    c.return_old = flag[0] == 1;
  } else if (c.type == CommandType::kPut && !d.done()) {
    NDS_ASSIGN_OR_RETURN(std::string_view tag, d.Bytes(1));
    if (tag[0] != kLeaseFieldTag) return Corruption("trailing bytes after a command");
    NDS_ASSIGN_OR_RETURN(c.lease_id, d.Varint64());
    if (c.lease_id == 0) return Corruption("put with lease id 0");
  }
  if (!d.done()) return Corruption("trailing bytes after a command");
  c.key = key;
  c.content_type = content_type;
  c.value = value;
  if (IsMemberCommand(c.type)) NDS_RETURN_IF_ERROR(ValidateMemberCommand(c));
  if (IsLeaseCommand(c.type)) {
    NDS_RETURN_IF_ERROR(ValidateLeaseCommand(c));
  } else if (IsExpiryCommand(c.type)) {
    NDS_RETURN_IF_ERROR(ValidateExpiryCommand(c));
  } else if (c.type == CommandType::kTxn) {
    NDS_RETURN_IF_ERROR(ValidateTxnCommand(c));
  } else if (c.type >= CommandType::kIncrementBy) {
    NDS_RETURN_IF_ERROR(ValidateRespCommand(c));
  }
  return c;
}

// The wrapper has the plain layout: version, kAuthorizedCommandType, precondition 0, varint 0,
// then the token name in the key slot, the digest in the content-type slot and the inner
// command's plain encoding in the value slot.
Result<Command> DecodeAuthorizedCommand(std::string_view bytes) {
  Decoder d(bytes);
  NDS_ASSIGN_OR_RETURN(std::string_view head, d.Bytes(3));
  if (head[2] != 0) return Corruption("authorized-write wrapper with a precondition");
  NDS_ASSIGN_OR_RETURN(uint64_t number, d.Varint64());
  if (number != 0) return Corruption("authorized-write wrapper with a revision");
  NDS_ASSIGN_OR_RETURN(std::string_view name, d.LengthPrefixed());
  NDS_ASSIGN_OR_RETURN(std::string_view digest, d.LengthPrefixed());
  NDS_ASSIGN_OR_RETURN(std::string_view inner, d.LengthPrefixed());
  if (!d.done()) return Corruption("trailing bytes after an authorized-write wrapper");
  if (!ValidateTokenName(name).ok()) return Corruption("authorized-write with a bad token name");
  if (digest.size() != kAuthorizedDigestBytes) {
    return Corruption("authorized-write with a digest of " + std::to_string(digest.size()) +
                      " bytes");
  }
  // A wrapper inside is refused here: the plain decoder knows no type 15.
  NDS_ASSIGN_OR_RETURN(Command c, DecodePlainCommand(inner));
  if (!IsUserWrite(c.type)) return Corruption("authorized-write around a non-user command");
  c.authorized_by = Command::Authorization{std::string(name), std::string(digest)};
  return c;
}

}  // namespace

void EncodeCommand(const Command& cmd, std::string* out) {
  if (!cmd.authorized_by) {
    EncodePlainCommand(cmd, out);
    return;
  }
  const Command::Authorization& auth = *cmd.authorized_by;
  NDS_CHECK(IsUserWrite(cmd.type), "command type {} cannot be authorized",
            static_cast<int>(cmd.type));
  NDS_CHECK(ValidateTokenName(auth.token_name).ok());
  NDS_CHECK(auth.record_digest.size() == kAuthorizedDigestBytes);
  std::string inner;
  EncodePlainCommand(cmd, &inner);
  out->push_back(static_cast<char>(kCommandFormatVersion));
  out->push_back(static_cast<char>(kAuthorizedCommandType));
  out->push_back(static_cast<char>(Precondition::kNone));
  PutVarint64(out, 0);
  PutLengthPrefixed(out, auth.token_name);
  PutLengthPrefixed(out, auth.record_digest);
  PutLengthPrefixed(out, inner);
}

Result<Command> DecodeCommand(std::string_view bytes) {
  if (bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == kCommandFormatVersion &&
      static_cast<uint8_t>(bytes[1]) == kAuthorizedCommandType) {
    return DecodeAuthorizedCommand(bytes);
  }
  return DecodePlainCommand(bytes);
}

}  // namespace nds::store
