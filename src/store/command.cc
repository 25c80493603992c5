// Command constructors and the versioned command encoding (docs/formats/store.md).
#include "store/command.h"

#include "util/check.h"
#include "util/coding.h"

namespace nds::store {
namespace {

constexpr uint8_t kCommandFormatVersion = 1;
constexpr uint8_t kCommandTypeMax = static_cast<uint8_t>(CommandType::kRemoveMember);

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

}  // namespace

Command PutCommand(std::string key, std::string value, std::string content_type, Precondition pre,
                   uint64_t expected_revision) {
  Command c;
  c.type = CommandType::kPut;
  c.precondition = pre;
  c.expected_revision = expected_revision;
  c.key = std::move(key);
  c.value = std::move(value);
  c.content_type = std::move(content_type);
  return c;
}

Command DeleteCommand(std::string key, Precondition pre, uint64_t expected_revision) {
  Command c;
  c.type = CommandType::kDelete;
  c.precondition = pre;
  c.expected_revision = expected_revision;
  c.key = std::move(key);
  return c;
}

Command ClearCommand() {
  Command c;
  c.type = CommandType::kClear;
  return c;
}

Command PutSecretCommand(std::string location, std::string blob) {
  Command c;
  c.type = CommandType::kPutSecret;
  c.key = std::move(location);
  c.value = std::move(blob);
  return c;
}

Command PutSystemCommand(std::string name, std::string value, Precondition pre) {
  Command c;
  c.type = CommandType::kPutSystem;
  c.precondition = pre;
  c.key = std::move(name);
  c.value = std::move(value);
  return c;
}

Command DeleteSystemCommand(std::string name) {
  Command c;
  c.type = CommandType::kDeleteSystem;
  c.key = std::move(name);
  return c;
}

Command AddMemberCommand(MemberRecord record) {
  record.id = 0;
  Command c;
  c.type = CommandType::kAddMember;
  c.value = EncodeMemberRecord(record);
  return c;
}

Command RemoveMemberCommand(uint64_t id) {
  Command c;
  c.type = CommandType::kRemoveMember;
  c.member_id = id;
  return c;
}

void EncodeCommand(const Command& cmd, std::string* out) {
  // One varint slot carries the expected revision, or the member id of kRemoveMember.
  const bool remove_member = cmd.type == CommandType::kRemoveMember;
  NDS_CHECK(remove_member || cmd.member_id == 0);
  NDS_CHECK(!remove_member || cmd.expected_revision == 0);
  out->push_back(static_cast<char>(kCommandFormatVersion));
  out->push_back(static_cast<char>(cmd.type));
  out->push_back(static_cast<char>(cmd.precondition));
  PutVarint64(out, remove_member ? cmd.member_id : cmd.expected_revision);
  PutLengthPrefixed(out, cmd.key);
  PutLengthPrefixed(out, cmd.content_type);
  PutLengthPrefixed(out, cmd.value);
}

Result<Command> DecodeCommand(std::string_view bytes) {
  Decoder d(bytes);
  NDS_ASSIGN_OR_RETURN(std::string_view head, d.Bytes(3));
  if (static_cast<uint8_t>(head[0]) != kCommandFormatVersion) {
    return Corruption("command format version " + std::to_string(static_cast<uint8_t>(head[0])) +
                      " is not supported");
  }
  auto type = static_cast<uint8_t>(head[1]);
  auto pre = static_cast<uint8_t>(head[2]);
  if (type < 1 || type > kCommandTypeMax)
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
  if (!d.done()) return Corruption("trailing bytes after a command");
  c.key = key;
  c.content_type = content_type;
  c.value = value;
  if (IsMemberCommand(c.type)) NDS_RETURN_IF_ERROR(ValidateMemberCommand(c));
  return c;
}

}  // namespace nds::store
