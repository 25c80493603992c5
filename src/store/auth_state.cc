// Token records and the authentication mode in the system namespace.
#include "store/auth_state.h"

#include "crypto/sha256.h"
#include "store/keyspace.h"
#include "util/check.h"
#include "util/coding.h"

namespace nds::store {
namespace {

constexpr uint8_t kTokenRecordVersion = 1;

bool IsNameByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

std::string TokenRecordDigest(std::string_view stored_record) {
  static_assert(crypto::kSha256DigestBytes == kAuthorizedDigestBytes);
  return crypto::Sha256(stored_record);
}

std::string_view TokenRoleName(TokenRole role) {
  switch (role) {
    case TokenRole::kRead:
      return "read";
    case TokenRole::kWrite:
      return "write";
    case TokenRole::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::optional<TokenRole> ParseTokenRole(std::string_view text) {
  for (TokenRole r : {TokenRole::kRead, TokenRole::kWrite, TokenRole::kAdmin}) {
    if (TokenRoleName(r) == text) return r;
  }
  return std::nullopt;
}

Status ValidateTokenName(std::string_view name) {
  if (name.empty()) return InvalidArgument("the token name is empty");
  if (name.size() > kTokenNameBytesMax) {
    return InvalidArgument("the token name is longer than " + std::to_string(kTokenNameBytesMax) +
                           " characters");
  }
  for (char c : name) {
    if (!IsNameByte(c)) {
      return InvalidArgument("a token name may hold only letters, digits, '_' and '-'");
    }
  }
  return Status::Ok();
}

Status ValidateTokenScope(TokenRole role, std::string_view prefix) {
  if (prefix.size() > kTokenPrefixBytesMax) {
    return InvalidArgument("the token prefix is longer than " +
                           std::to_string(kTokenPrefixBytesMax) + " bytes");
  }
  if (role == TokenRole::kAdmin && !prefix.empty()) {
    return InvalidArgument(
        "an admin token cannot have a prefix: it may clear every key and manage the cluster");
  }
  return Status::Ok();
}

std::string TokenKeyName(std::string_view name) {
  return std::string(kTokenKeyPrefix) + std::string(name);
}

std::string EncodeTokenRecord(const TokenRecord& record) {
  NDS_CHECK(record.hash.size() == kTokenHashBytes);
  std::string out;
  out.push_back(static_cast<char>(kTokenRecordVersion));
  out.push_back(static_cast<char>(record.role));
  PutLengthPrefixed(&out, record.prefix);
  out.append(record.hash);
  return out;
}

Result<TokenRecord> DecodeTokenRecord(std::string_view bytes) {
  Decoder d(bytes);
  NDS_ASSIGN_OR_RETURN(std::string_view head, d.Bytes(2));
  if (static_cast<uint8_t>(head[0]) != kTokenRecordVersion) {
    return Corruption("token record of unknown version " +
                      std::to_string(static_cast<uint8_t>(head[0])));
  }
  TokenRecord r;
  auto role = static_cast<uint8_t>(head[1]);
  if (role < static_cast<uint8_t>(TokenRole::kRead) ||
      role > static_cast<uint8_t>(TokenRole::kAdmin)) {
    return Corruption("token record of unknown role " + std::to_string(role));
  }
  r.role = static_cast<TokenRole>(role);
  NDS_ASSIGN_OR_RETURN(std::string_view prefix, d.LengthPrefixed());
  r.prefix.assign(prefix);
  if (d.remaining() != kTokenHashBytes) {
    return Corruption("token record with a hash of " + std::to_string(d.remaining()) + " bytes");
  }
  NDS_ASSIGN_OR_RETURN(std::string_view hash, d.Bytes(kTokenHashBytes));
  r.hash.assign(hash);
  return r;
}

Command AuthModeCommand() {
  return PutSystemCommand(std::string(kAuthModeKey), std::string(kAuthModeOn));
}

std::vector<Command> AuthSeedCommands(std::string root_hash) {
  NDS_CHECK(root_hash.size() == kTokenHashBytes);
  std::vector<Command> cmds;
  cmds.push_back(AuthModeCommand());
  TokenRecord root{TokenRole::kAdmin, "", std::move(root_hash)};
  cmds.push_back(PutSystemCommand(TokenKeyName(kRootTokenName), EncodeTokenRecord(root)));
  return cmds;
}

Result<std::vector<std::pair<std::string, TokenRecord>>> ReadTokens(const engine::View& view) {
  std::vector<std::pair<std::string, TokenRecord>> out;
  const std::string begin = SystemKey(kTokenKeyPrefix);
  auto it = view.NewIterator();
  for (it->Seek(begin); it->Valid() && it->key().starts_with(begin); it->Next()) {
    NDS_ASSIGN_OR_RETURN(TokenRecord r, DecodeTokenRecord(it->value()));
    out.emplace_back(std::string(it->key().substr(begin.size())), std::move(r));
  }
  NDS_RETURN_IF_ERROR(it->status());
  return out;
}

}  // namespace nds::store
