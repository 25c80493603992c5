// Member records: validation, the versioned encoding and reading the table from the engine.
#include "store/membership.h"

#include <cctype>
#include <charconv>

#include "store/keyspace.h"
#include "util/check.h"
#include "util/coding.h"

namespace nds::store {
namespace {

constexpr uint8_t kMemberRecordFormatVersion = 1;
constexpr size_t kMemberIdDigits = 20;  // MemberKeyName pads the id to this many digits

Status CheckLength(std::string_view field, size_t bytes, size_t bytes_max) {
  if (bytes >= 1 && bytes <= bytes_max) return Status::Ok();
  return InvalidArgument(std::string(field) + " of " + std::to_string(bytes) +
                         " bytes is not within 1.." + std::to_string(bytes_max) + " bytes");
}

}  // namespace

Status ValidateMemberRecord(const MemberRecord& record) {
  NDS_RETURN_IF_ERROR(CheckLength("name", record.name.size(), kMemberNameBytesMax));
  NDS_RETURN_IF_ERROR(
      CheckLength("peer_address", record.peer_address.size(), kMemberAddressBytesMax));
  return CheckLength("api_address", record.api_address.size(), kMemberAddressBytesMax);
}

namespace {

bool IsHostChar(char c, bool bracketed) {
  if (std::isalnum(static_cast<unsigned char>(c)) || c == '.') return true;
  return bracketed ? c == ':' : (c == '-' || c == '_');
}

}  // namespace

bool IsMemberAddress(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = address.substr(0, colon);
  std::string_view port_text = address.substr(colon + 1);
  uint32_t port = 0;
  if (port_text.empty() || !std::isdigit(static_cast<unsigned char>(port_text.front()))) {
    return false;
  }
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size()) return false;
  if (port == 0 || port > 65535 || host.empty()) return false;
  bool bracketed = host.front() == '[';
  if (bracketed) {
    if (host.size() < 3 || host.back() != ']') return false;
    host = host.substr(1, host.size() - 2);
  }
  for (char c : host) {
    if (!IsHostChar(c, bracketed)) return false;
  }
  return true;
}

std::string EncodeMemberRecord(const MemberRecord& record) {
  Status valid = ValidateMemberRecord(record);
  NDS_CHECK(valid.ok(), "member record to encode: {}", valid.message());
  std::string out;
  out.push_back(static_cast<char>(kMemberRecordFormatVersion));
  PutVarint64(&out, record.id);
  PutLengthPrefixed(&out, record.name);
  PutLengthPrefixed(&out, record.peer_address);
  PutLengthPrefixed(&out, record.api_address);
  return out;
}

Result<MemberRecord> DecodeMemberRecord(std::string_view bytes) {
  Decoder d(bytes);
  NDS_ASSIGN_OR_RETURN(std::string_view version, d.Bytes(1));
  if (static_cast<uint8_t>(version[0]) != kMemberRecordFormatVersion) {
    return Corruption("member record of unknown version " +
                      std::to_string(static_cast<uint8_t>(version[0])));
  }
  MemberRecord r;
  NDS_ASSIGN_OR_RETURN(r.id, d.Varint64());
  NDS_ASSIGN_OR_RETURN(std::string_view name, d.LengthPrefixed());
  NDS_ASSIGN_OR_RETURN(std::string_view peer_address, d.LengthPrefixed());
  NDS_ASSIGN_OR_RETURN(std::string_view api_address, d.LengthPrefixed());
  if (!d.done()) return Corruption("trailing bytes after a member record");
  r.name = name;
  r.peer_address = peer_address;
  r.api_address = api_address;
  if (Status valid = ValidateMemberRecord(r); !valid.ok()) {
    return Corruption("member record " + std::to_string(r.id) + ": " + valid.message());
  }
  return r;
}

Result<uint64_t> ParseMemberKeyName(std::string_view name) {
  if (!name.starts_with(kMemberKeyPrefix) ||
      name.size() != kMemberKeyPrefix.size() + kMemberIdDigits) {
    return Corruption("system key of " + std::to_string(name.size()) +
                      " bytes is not a member key");
  }
  std::string_view digits = name.substr(kMemberKeyPrefix.size());
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    return Corruption("member key " + std::string(digits) + " is not a 64-bit id");
  }
  return id;
}

Result<MemberRecord> DecodeMemberEntry(std::string_view name, std::string_view value) {
  NDS_ASSIGN_OR_RETURN(uint64_t id, ParseMemberKeyName(name));
  Result<MemberRecord> record = DecodeMemberRecord(value);
  if (!record.ok()) {
    return Corruption("member key " + std::to_string(id) + ": " + record.status().message());
  }
  if (record->id != id) {
    return Corruption("member key " + std::to_string(id) + " holds the record of member " +
                      std::to_string(record->id));
  }
  return record;
}

Result<MemberEntries> ReadMemberEntries(const engine::View& view) {
  const std::string prefix = SystemKey(kMemberKeyPrefix);
  MemberEntries entries;
  std::unique_ptr<engine::Iterator> it = view.NewIterator();
  // Bounded by the number of member keys: the scan stops at the first key past the prefix.
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    entries.emplace(it->key().substr(1), it->value());
  }
  NDS_RETURN_IF_ERROR(it->status());
  return entries;
}

Result<std::vector<MemberRecord>> DecodeMemberEntries(const MemberEntries& entries) {
  std::vector<MemberRecord> members;
  members.reserve(entries.size());
  for (const auto& [name, value] : entries) {
    NDS_ASSIGN_OR_RETURN(MemberRecord r, DecodeMemberEntry(name, value));
    members.push_back(std::move(r));
  }
  return members;
}

Result<std::vector<MemberRecord>> ReadMembers(const engine::View& view) {
  NDS_ASSIGN_OR_RETURN(MemberEntries entries, ReadMemberEntries(view));
  return DecodeMemberEntries(entries);
}

Result<std::vector<MemberRecord>> ReadMembers(const engine::Engine& engine) {
  std::unique_ptr<engine::View> view = engine.NewView();
  return ReadMembers(*view);
}

}  // namespace nds::store
