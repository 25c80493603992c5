// Store commands: the writes a client can ask for, as they travel through the Raft log and are
// applied to the engine. The encoding is versioned and described in docs/formats/store.md;
// decoding validates every field (a log entry is input from disk or a peer).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/membership.h"
#include "util/status.h"

namespace nds::store {

enum class CommandType : uint8_t {
  kPut = 1,        // write a value under a key (blobs and /set)
  kDelete = 2,     // remove a key
  kClear = 3,      // remove every key of the user key space, atomically (/clear)
  kPutSecret = 4,  // store an encrypted secret under a derived location
  // Cluster bookkeeping in the reserved system namespace (keyspace.h): the member table and the
  // join token's hash. Key = the system key name; invisible to every user route.
  kPutSystem = 5,
  kDeleteSystem = 6,
  // The member table (membership.h). kAddMember carries EncodeMemberRecord(record) in `value`;
  // the new member's id is the command's log index. kRemoveMember names the id in `member_id`.
  kAddMember = 7,
  kRemoveMember = 8,
  // The atomic read-modify-write commands of the RESP front (docs/resp.md), decided when applied
  // so that concurrent clients are ordered by the log. Each is one log entry.
  // Adds the signed decimal int64 in `value` to the decimal integer stored under `key` (0 when
  // absent); ApplyResult::integer is the new value (INCR, INCRBY, DECR, DECRBY).
  kIncrementBy = 9,
  // Appends `value` to the value under `key` (created when absent); `expected_revision` carries
  // the longest resulting value allowed. ApplyResult::integer is the new length (APPEND).
  kAppend = 10,
  // kPut (with kNone, kMustNotExist or kMustExist) that also returns the value it replaced in
  // ApplyResult::old_value, also when the precondition failed (SET ... GET).
  kPutReturnOld = 11,
  // Every (key, value) pair of EncodeStringList(`value`) (an even count, at least two) is written
  // at once, all or nothing; `key` is empty (MSET).
  kPutMany = 12,
  // Every key of EncodeStringList(`value`) (at least one) is removed if present; `key` is empty.
  // ApplyResult::integer is the number of keys removed (DEL k1 k2 ...).
  kDeleteMany = 13,
  // A transaction (txn.h): `value` is EncodeTxn(txn); every other field is empty. Its compares
  // are decided when applied; ApplyResult::txn says which branch ran and what each op did.
  kTxn = 14,
  // Leases (lease_state.h, docs/api.md "Leases"). A lease's id is the index of its grant.
  // Grant: `expected_revision` is the TTL in ms, `member_id` the most attachments allowed,
  // `key` the prefix its keys must have; `value` is the most leases allowed (decimal).
  // ApplyResult::revision is the id; kResourceExhausted when that many leases exist.
  kLeaseGrant = 16,
  // Keepalive: `value` is EncodeStringList of decimal lease ids (at least one). Every lease named
  // restarts its clock; ApplyResult::lease_ttls_ms gives each one's TTL (0: no such lease).
  kLeaseKeepAlive = 17,
  // Revoke: `member_id` is the lease id. Deletes every attached key (this index is the revision
  // of every deletion) and the lease; kNotFound when there is no such lease.
  kLeaseRevoke = 18,
  // Expire (the leader's lease keeper): as kLeaseRevoke, but `expected_revision` is the lease's
  // keepalive index the decision was based on; kFailedPrecondition (nothing done) when the lease
  // was kept alive since.
  kLeaseExpire = 19,
  // Key expiry for the RESP front (docs/resp.md "Expiry"): each expiring key has a lease of its
  // own, an "expiry lease" (lease_state.h), granted by the command that sets the expiry with the
  // command's index as its id, and released when the key is written without keeping it.
  // Expire: sets (`expected_revision` = TTL in ms) or removes (0: PERSIST) the expiry of `key`,
  // writing the key again at this index with its value unchanged. `member_id` is the most leases
  // allowed. `precondition` kMustNotExist: only when the key has no expiry (EXPIRE NX),
  // kMustExist: only when it has one (EXPIRE XX). ApplyResult::integer is 1 when the expiry was
  // set or removed, 0 when the key is missing, the condition failed, or PERSIST found no expiry.
  kExpire = 20,
  // A put (SET with EX, PX or KEEPTTL; SETEX) with the precondition of kPutReturnOld: with
  // `expected_revision` > 0 the key gets a new expiry lease of that TTL in ms (`member_id` the most
  // leases allowed); with 0 it keeps the lease it had (KEEPTTL). `return_old`: ApplyResult::
  // old_value as for kPutReturnOld (SET ... GET).
  kPutExpiring = 21,
};

// On the wire only: a user write that a token allowed travels as type 15, a wrapper that names
// the token and the digest of its record (docs/formats/store.md "Authorized writes").
// DecodeCommand never returns this type: it unwraps into the inner command with `authorized_by`
// set. Outside the CommandType range so that switches over CommandType stay exhaustive.
inline constexpr uint8_t kAuthorizedCommandType = 15;
inline constexpr size_t kAuthorizedDigestBytes = 32;  // SHA-256 of the token's stored record

// The writes a client route makes on the user's behalf: the only ones a kAuthorized wrapper may
// carry (system, member and token commands may not).
bool IsUserWrite(CommandType type);

// What must hold about the key's current state for the command to take effect. Checked when the
// command is applied, so that concurrent writers are ordered by the log (compare-and-swap).
enum class Precondition : uint8_t {
  kNone = 0,
  kMustNotExist = 1,    // POST, PUT with If-None-Match: *
  kMustExist = 2,       // DELETE and /rm: 404 when missing
  kRevisionEquals = 3,  // If-Match: "<revision>"
};

struct Command {
  CommandType type = CommandType::kPut;
  Precondition precondition = Precondition::kNone;
  uint64_t expected_revision = 0;  // with kRevisionEquals
  std::string key;                 // user key, or the secret location for kPutSecret
  std::string value;
  std::string content_type;  // kPut only; empty means application/octet-stream
  uint64_t member_id = 0;    // kRemoveMember, kLeaseGrant, kLeaseRevoke, kLeaseExpire
  // kPut only: attach the key to this lease (0: none); kInvalidArgument when the lease is
  // unknown or the key is outside its prefix, kResourceExhausted when it holds its most keys.
  uint64_t lease_id = 0;
  // Set when a token allowed this user write (a cluster made with --auth): the token's name and
  // the SHA-256 of its stored record as the accepting node saw it (store::TokenRecordDigest).
  // Applied only if the token's record is still that one; unset: no check (auth off).
  struct Authorization {
    std::string token_name;
    std::string record_digest;  // kAuthorizedDigestBytes

    bool operator==(const Authorization&) const = default;
  };
  std::optional<Authorization> authorized_by;
  bool return_old = false;  // kPutExpiring only

  bool operator==(const Command&) const = default;
};

Command PutCommand(std::string key, std::string value, std::string content_type = {},
                   Precondition pre = Precondition::kNone, uint64_t expected_revision = 0);
Command DeleteCommand(std::string key, Precondition pre = Precondition::kMustExist,
                      uint64_t expected_revision = 0);
Command ClearCommand();
Command PutSecretCommand(std::string location, std::string blob);
// With kMustExist, a member record (MemberKeyName) is only replaced, never created: an update that
// a removal overtook does nothing (kFailedPrecondition) instead of bringing the member back.
Command PutSystemCommand(std::string name, std::string value,
                         Precondition pre = Precondition::kNone);
Command DeleteSystemCommand(std::string name);
// Adds `record` to the member table; its id is ignored (the command's log index becomes the id).
// Precondition (checked): ValidateMemberRecord(record) is ok.
Command AddMemberCommand(MemberRecord record);
Command RemoveMemberCommand(uint64_t id);
Command IncrementByCommand(std::string key, int64_t delta);
Command AppendCommand(std::string key, std::string suffix, uint64_t length_max);
// `pre` is kNone, kMustNotExist or kMustExist (checked).
Command PutReturnOldCommand(std::string key, std::string value, Precondition pre);
// Precondition (checked): pairs is not empty.
Command PutManyCommand(const std::vector<std::pair<std::string, std::string>>& pairs);
// Precondition (checked): keys is not empty.
Command DeleteManyCommand(const std::vector<std::string>& keys);

// Precondition (checked): pre is kNone, kMustNotExist or kMustExist.
Command ExpireCommand(std::string key, uint64_t ttl_ms, Precondition pre, uint64_t leases_max);
// Precondition (checked): pre is kNone, kMustNotExist or kMustExist.
Command PutExpiringCommand(std::string key, std::string value, Precondition pre, uint64_t ttl_ms,
                           bool return_old, uint64_t leases_max);

Command LeaseGrantCommand(uint64_t ttl_ms, uint64_t keys_max, uint64_t leases_max,
                          std::string prefix);
// Precondition (checked): ids is not empty.
Command LeaseKeepAliveCommand(const std::vector<uint64_t>& ids);
Command LeaseRevokeCommand(uint64_t id);
Command LeaseExpireCommand(uint64_t id, uint64_t keepalive_index);

// A list of strings, each length-prefixed (the value of kPutMany and kDeleteMany).
std::string EncodeStringList(const std::vector<std::string_view>& items);
// kCorruption for truncated input.
Result<std::vector<std::string_view>> DecodeStringList(std::string_view bytes);

// A decimal integer exactly as Redis reads one: an optional '-', then digits without a leading
// zero (except "0" itself), no sign '+', no spaces, within int64. std::nullopt otherwise.
std::optional<int64_t> ParseDecimalInt64(std::string_view text);

// Appends the encoding of `cmd` to `out`: a kAuthorized wrapper around the plain encoding when
// cmd.authorized_by is set (precondition, checked: IsUserWrite(cmd.type), a valid token name and
// a kAuthorizedDigestBytes digest), else the plain encoding alone.
void EncodeCommand(const Command& cmd, std::string* out);
// kCorruption for any malformed, truncated, unknown-version or trailing-garbage input, and for a
// kAuthorized wrapper whose token name or digest is malformed or whose inner command is not a
// plain user write (a wrapper inside a wrapper included).
Result<Command> DecodeCommand(std::string_view bytes);

}  // namespace nds::store
