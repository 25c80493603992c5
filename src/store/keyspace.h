// How store/ lays its namespaces and values out in the engine (docs/formats/store.md).
//
// Engine key = one namespace byte + the rest: 'd' + user key for the shared blob/key-value space,
// 's' + 32-byte location for secrets. /clear removes exactly the range ['d', 'e'). A value record
// holds the revision that wrote it, the uploaded content type and the bytes, and the lease the
// write attached the key to, if any (format version 2; a record without a lease is version 1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace nds::store {

inline constexpr char kDataPrefix = 'd';
inline constexpr char kSecretPrefix = 's';
inline constexpr char kSystemPrefix = 'z';
// System key names (under kSystemPrefix).
inline constexpr std::string_view kMemberKeyPrefix = "member/";
inline constexpr std::string_view kJoinTokenHashKey = "join_token_sha256";
inline constexpr std::string_view kDataBegin = "d";
inline constexpr std::string_view kDataEnd = "e";

std::string DataKey(std::string_view user_key);
std::string SecretKey(std::string_view location);
std::string SystemKey(std::string_view name);
// "member/" and the id as 20 decimal digits, so members list in id order.
std::string MemberKeyName(uint64_t id);
// The user key of a data engine key. Precondition: engine_key starts with kDataPrefix.
std::string_view UserKey(std::string_view engine_key);

struct Record {
  uint64_t revision = 0;
  std::string content_type;
  std::string value;
  uint64_t lease_id = 0;  // the lease this revision attached the key to (0: none)
};

// A view into an encoded record; valid while the bytes it was decoded from live.
struct RecordView {
  uint64_t revision = 0;
  std::string_view content_type;
  std::string_view value;
  uint64_t lease_id = 0;
};

// Version 1 when `lease_id` is 0 (as every record was before leases), else version 2.
std::string EncodeRecord(uint64_t revision, std::string_view content_type, std::string_view value,
                         uint64_t lease_id = 0);
// kCorruption when the bytes are not a record of a known version.
Result<RecordView> DecodeRecord(std::string_view bytes);

}  // namespace nds::store
