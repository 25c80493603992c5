// Engine key namespaces and the value record encoding.
#include "store/keyspace.h"

#include "util/check.h"
#include "util/coding.h"

namespace nds::store {
namespace {

constexpr uint8_t kRecordFormatVersion = 1;
constexpr uint8_t kLeasedRecordFormatVersion = 2;  // a lease id follows the revision

}  // namespace

std::string DataKey(std::string_view user_key) {
  std::string k;
  k.reserve(user_key.size() + 1);
  k.push_back(kDataPrefix);
  k.append(user_key);
  return k;
}

std::string SecretKey(std::string_view location) {
  std::string k;
  k.reserve(location.size() + 1);
  k.push_back(kSecretPrefix);
  k.append(location);
  return k;
}

std::string SystemKey(std::string_view name) {
  std::string k;
  k.push_back(kSystemPrefix);
  k.append(name);
  return k;
}

std::string MemberKeyName(uint64_t id) {
  std::string digits = std::to_string(id);
  return std::string(kMemberKeyPrefix) + std::string(20 - digits.size(), '0') + digits;
}

std::string_view UserKey(std::string_view engine_key) {
  NDS_CHECK(!engine_key.empty() && engine_key[0] == kDataPrefix);
  return engine_key.substr(1);
}

std::string EncodeRecord(uint64_t revision, std::string_view content_type, std::string_view value,
                         uint64_t lease_id) {
  std::string out;
  out.reserve(1 + kVarint64BytesMax * 3 + content_type.size() + value.size());
  out.push_back(
      static_cast<char>(lease_id == 0 ? kRecordFormatVersion : kLeasedRecordFormatVersion));
  PutVarint64(&out, revision);
  if (lease_id != 0) PutVarint64(&out, lease_id);
  PutLengthPrefixed(&out, content_type);
  out.append(value);
  return out;
}

Result<RecordView> DecodeRecord(std::string_view bytes) {
  Decoder d(bytes);
  NDS_ASSIGN_OR_RETURN(std::string_view version, d.Bytes(1));
  const auto v = static_cast<uint8_t>(version[0]);
  if (v != kRecordFormatVersion && v != kLeasedRecordFormatVersion) {
    return Corruption("value record of unknown version " + std::to_string(v));
  }
  RecordView r;
  NDS_ASSIGN_OR_RETURN(r.revision, d.Varint64());
  if (v == kLeasedRecordFormatVersion) {
    NDS_ASSIGN_OR_RETURN(r.lease_id, d.Varint64());
    if (r.lease_id == 0) return Corruption("value record of version 2 with lease id 0");
  }
  NDS_ASSIGN_OR_RETURN(r.content_type, d.LengthPrefixed());
  NDS_ASSIGN_OR_RETURN(r.value, d.Bytes(d.remaining()));
  return r;
}

}  // namespace nds::store
