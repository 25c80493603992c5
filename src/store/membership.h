// The cluster's member table as the replicated state machine holds it: one system key per member,
// SystemKey(MemberKeyName(id)) = EncodeMemberRecord(record), written by kAddMember and removed by
// kRemoveMember (command.h, applied in applier.cc). The record's encoding is versioned and
// described in docs/formats/store.md. Everything here is a pure function over bytes or reads a
// consistent engine view; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "util/status.h"

namespace nds::store {

// Limits on a member's fields (bytes): enforced by the API on input, checked again on encode and
// on decode.
inline constexpr size_t kMemberNameBytesMax = 64;
inline constexpr size_t kMemberAddressBytesMax = 255;

struct MemberRecord {
  uint64_t id = 0;  // the log index of the kAddMember that created it; 0 only inside a command
  std::string name;
  std::string peer_address;
  std::string api_address;

  bool operator==(const MemberRecord&) const = default;
};

// Whether `address` is HOST:PORT, HOST a name, an IPv4 address or a bracketed IPv6 address and
// PORT 1..65535 in decimal: what a member's addresses must be when they come from outside (the
// join route, the addresses a peer's hello claims).
bool IsMemberAddress(std::string_view address);

// Ok when the name is 1..kMemberNameBytesMax bytes and each address 1..kMemberAddressBytesMax
// bytes; else kInvalidArgument naming the field and its length. The id is not checked.
Status ValidateMemberRecord(const MemberRecord& record);

// The versioned encoding of `record`. Precondition (checked): ValidateMemberRecord(record) is ok.
std::string EncodeMemberRecord(const MemberRecord& record);
// kCorruption for an unknown version, truncation, trailing bytes or a field out of its limits.
Result<MemberRecord> DecodeMemberRecord(std::string_view bytes);

// The id in a member key name (MemberKeyName form: "member/" and 20 digits); kCorruption else.
Result<uint64_t> ParseMemberKeyName(std::string_view name);

// Decodes the member stored under system key name `name` (MemberKeyName(id) form): kCorruption
// when the name is not "member/" and 20 digits, the value does not decode, or the record's id is
// not the one in the name.
Result<MemberRecord> DecodeMemberEntry(std::string_view name, std::string_view value);

// The member keys as stored: system key name (MemberKeyName form, so in id order) -> value.
using MemberEntries = std::map<std::string, std::string>;

// Every key under SystemKey(kMemberKeyPrefix) in `view`, undecoded. Engine errors only.
Result<MemberEntries> ReadMemberEntries(const engine::View& view);
// Decodes every entry (DecodeMemberEntry), in id order; the first damaged one is kCorruption.
Result<std::vector<MemberRecord>> DecodeMemberEntries(const MemberEntries& entries);

// Every member record in `engine`'s latest state, in id order. kCorruption for a damaged record
// (DecodeMemberEntry); engine errors as the engine reports them.
Result<std::vector<MemberRecord>> ReadMembers(const engine::Engine& engine);
// The same from one view (a consistent point in time).
Result<std::vector<MemberRecord>> ReadMembers(const engine::View& view);

}  // namespace nds::store
