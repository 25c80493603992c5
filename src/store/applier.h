// Applies store commands to the engine, many at a time (group commit).
//
// A BatchApplier collects the effects of consecutive commands, each at its own log index, into one
// engine WriteBatch; preconditions of later commands see the effects of earlier ones in the same
// batch (an overlay over the engine; the member table has its own overlay, loaded on the first
// member command of a batch). Commit() writes the batch and the last index atomically.
// Owned by the apply thread; not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "engine/engine.h"
#include "store/command.h"
#include "store/history.h"
#include "store/keyspace.h"
#include "store/lease_feed.h"
#include "store/token_cache.h"
#include "store/txn.h"
#include "util/status.h"
#include "util/strong_id.h"

namespace nds::store {

// The outcome of one command. `status` is ok, or the precondition that failed: kNotFound (missing
// key for kMustExist), kAlreadyExists (kMustNotExist), kFailedPrecondition (revision mismatch,
// or If-Match on a missing key). A failed command changes nothing but still consumes its index.
// Member commands: kAddMember is kAlreadyExists when a member has the same name or peer address;
// kRemoveMember is kNotFound for an unknown id and kFailedPrecondition for the last member.
// A command with `authorized_by` is refused before anything else is checked when its token's
// record (as this batch sees it) is gone or is not the one the digest names: `token_refused`,
// with status kFailedPrecondition "unknown or revoked token" (HTTP answers 401, RESP NOAUTH).
struct ApplyResult {
  Status status;
  uint64_t revision = 0;  // the command's log index (for kAddMember also the new member's id)
  bool created = false;   // kPut: the key did not exist before
  // kIncrementBy: the new value; kAppend: the new length; kDeleteMany: the keys removed.
  int64_t integer = 0;
  // kPutReturnOld: the value the key held before (std::nullopt when absent), also when the
  // precondition failed.
  std::optional<std::string> old_value;
  // kTxn: which branch ran and what each of its ops did (set when status is ok).
  std::shared_ptr<const TxnOutcome> txn;
  // The write's token was revoked or replaced before it was applied: nothing was written.
  bool token_refused = false;
  // kLeaseKeepAlive: each named lease's TTL in ms, in the command's order (0: no such lease).
  std::shared_ptr<const std::vector<uint64_t>> lease_ttls_ms;
};

class BatchApplier {
 public:
  // `engine` must outlive the applier. Every data write is also recorded in the change history
  // (store/history.h), which keeps the last `history_revisions` revisions (at least 1) and at
  // most about `history_bytes` bytes (at least 1). `tokens`, when given, is the node's cache of
  // token records over `engine`: token checks read it, and Commit() invalidates it when the batch
  // wrote a token record. `leases`, when given, is told by Commit() which lease records the batch
  // wrote or deleted (lease_feed.h).
  explicit BatchApplier(const engine::Engine* engine,
                        uint64_t history_revisions = kHistoryRevisionsDefault,
                        uint64_t history_bytes = kHistoryBytesDefault, TokenCache* tokens = nullptr,
                        LeaseFeed* leases = nullptr)
      : engine_(engine),
        tokens_(tokens),
        leases_(leases),
        history_(history_revisions, history_bytes) {}

  // Applies `cmd` at `index`. Preconditions: index > every index applied before, including the
  // engine's applied index. Errors reading the engine come back as the result's status (kIoError).
  ApplyResult Apply(const Command& cmd, LogIndex index);

  // Records an index that carries no command (a Raft no-op or configuration entry).
  void Skip(LogIndex index);

  // Writes everything applied so far, with the last index, in one atomic engine write, durable
  // when `sync`. The applier is empty afterwards. A batch with no index applied is a no-op.
  Status Commit(engine::Engine* engine, bool sync);

  // Keeps the history events of what is applied in memory too (HistoryWriter::CaptureEvents), for
  // TakeEvents after Commit.
  void CaptureEvents(size_t bytes_max) { history_.CaptureEvents(bytes_max); }
  // The events applied since the last call, when all were kept (HistoryWriter::TakeCaptured).
  std::optional<std::vector<HistoryEvent>> TakeEvents(size_t* bytes) {
    return history_.TakeCaptured(bytes);
  }

  bool empty() const { return !last_index_.has_value(); }
  size_t bytes() const { return batch_.ByteSize(); }

 private:
  // A data key written in this batch: its revision and the index of its Put in batch_.ops().
  struct Written {
    uint64_t revision = 0;
    size_t op = 0;
  };
  // The current revision of a data key as this batch sees it, or std::nullopt when absent.
  Result<std::optional<uint64_t>> CurrentRevision(const std::string& data_key) const;
  // The current encoded record of a data key as this batch sees it, or std::nullopt when absent.
  Result<std::optional<std::string>> CurrentRecord(const std::string& data_key) const;
  // The same without a copy: a view into the batch or into the last record read from the engine,
  // valid until the batch changes or another key is read.
  Result<std::optional<std::string_view>> PeekRecord(const std::string& data_key) const;
  // CurrentRecord decoded: nullopt when absent; kCorruption for a damaged record.
  Result<std::optional<Record>> CurrentDecoded(const std::string& data_key) const;
  // Writes (or deletes) a data key with its history. The record names `lease_id` (0: none). When
  // the record it replaces named an expiry lease other than `lease_id` (or `releasing`), that
  // lease goes with it (DropExpiryLease): the key's expiry ends with the write.
  void PutRecord(const std::string& data_key, uint64_t revision, std::string_view content_type,
                 std::string_view value, uint64_t lease_id = 0);
  void DeleteRecord(const std::string& data_key, uint64_t releasing = 0);
  // applier_expiry.cc: key expiry on leases (kExpire, kPutExpiring; docs/resp.md "Expiry").
  ApplyResult ApplyExpire(const Command& cmd, LogIndex index);
  ApplyResult ApplyPutExpiring(const Command& cmd, LogIndex index);
  // The lease a key being rewritten keeps: the one its current record names (attached again at
  // `revision`), or 0.
  uint64_t KeepLease(const std::string& user_key, uint64_t lease_id, uint64_t revision);
  // Whether the cluster has room for one more lease once the key's lease `old_lease` (0: none)
  // is dropped with its rewrite: kResourceExhausted at `leases_max`; read errors as they are.
  Status CheckExpiryRoom(uint64_t old_lease, uint64_t leases_max) const;
  // Grants an expiry lease of `ttl_ms` at `index` holding `user_key` (attached at `index`).
  // Precondition: CheckExpiryRoom was ok in this command.
  void GrantExpiryLease(const std::string& user_key, uint64_t ttl_ms, LogIndex index);
  // Deletes lease `id` with its attachment of `user_key` if it is an expiry lease; else nothing.
  void DropExpiryLease(uint64_t id, std::string_view user_key);
  // The cluster's lease count as this batch sees it, and its update.
  Result<uint64_t> LeaseCount() const;
  void SetLeaseCount(uint64_t count);
  // applier_history.cc: records what /clear removes (a delete event of every key present as this
  // batch sees it), before the range delete. Engine read errors come back as they are.
  Status RecordClear(uint64_t revision);
  // The current record of `data_key` for the history; a read error here is fatal, as the caller
  // has just read the same key successfully. Called just before the key is written.
  std::optional<std::string> RecordBefore(const std::string& data_key);
  // applier_resp.cc: the RESP front's read-modify-write commands. Each runs its `modify` on the
  // decoded current record of cmd.key (nullopt when absent) through ModifyCurrent, which turns a
  // read error into the result's status and stamps the result with the entry's revision.
  template <typename Modify>
  ApplyResult ModifyCurrent(const Command& cmd, LogIndex index, Modify modify);
  ApplyResult ApplyIncrementBy(const Command& cmd, LogIndex index);
  ApplyResult ApplyAppend(const Command& cmd, LogIndex index);
  ApplyResult ApplyPutReturnOld(const Command& cmd, LogIndex index);
  ApplyResult ApplyPutMany(const Command& cmd, LogIndex index);
  ApplyResult ApplyDeleteMany(const Command& cmd, LogIndex index);
  // applier_txn.cc
  ApplyResult ApplyTxn(const Command& cmd, LogIndex index);
  // applier_lease.cc: lease records and attachments (lease_state.h), through lease_overlay_.
  ApplyResult ApplyLease(const Command& cmd, LogIndex index);
  Result<std::optional<std::string>> LeaseSystemGet(const std::string& name) const;
  void LeaseSystemPut(const std::string& name, std::string value);
  void LeaseSystemDelete(const std::string& name);
  // Whether `key` may be attached to lease `id` (it exists, the key is under its prefix, it has
  // room); changes nothing. Then AttachLease records the attachment at `revision`.
  Status CheckAttach(uint64_t id, const std::string& key);
  void AttachLease(uint64_t id, const std::string& key, uint64_t revision);
  // kResourceExhausted when the keys `ops` attach anew to a lease do not fit in it together.
  Status CheckTxnLeaseRoom(const std::vector<TxnOp>& ops) const;
  // Deletes lease `id` and every key still attached to it, all at `index`.
  Status ReleaseLease(uint64_t id, LogIndex index);
  Status CheckPrecondition(const Command& cmd, const std::optional<uint64_t>& revision) const;
  void AdvanceTo(LogIndex index);
  // The member keys as this batch sees them, loaded from the engine on first use.
  Result<MemberEntries*> MemberKeys();
  // The member table decoded from MemberKeys(): what ReadMembers would return after this batch's
  // commands so far, so that the outcome does not depend on how commands are grouped in batches.
  Result<std::vector<MemberRecord>> CurrentMembers();
  Status AddMember(const Command& cmd, LogIndex index);
  Status RemoveMember(uint64_t id);
  // Keeps the member overlay true when a system command writes a member key directly. Fails
  // (and the write must not happen) only when the member keys cannot be read from the engine.
  Status TrackSystemWrite(const Command& cmd);
  // The same for the other system keys (tokens, settings): checks kMustNotExist / kMustExist
  // against this batch's earlier writes, else the engine, and records the write. The error is
  // the failed precondition (kAlreadyExists, kNotFound) or a failed engine read.
  Status TrackOtherSystemWrite(const Command& cmd);
  // Whether the token's current record has the digest the write was allowed with; a failed
  // engine read as it is.
  Result<bool> StillAllowed(const Command::Authorization& auth);
  // After a successful system write: keeps token_digests_ true for a token key.
  void TrackTokenWrite(const Command& cmd);

  const engine::Engine* engine_;
  TokenCache* tokens_;
  bool tokens_written_ = false;  // this batch wrote a token record
  LeaseFeed* leases_;
  // The lease records this batch wrote (their summary) or deleted (nullopt), for leases_.
  std::unordered_map<uint64_t, std::optional<LeaseSummary>> leases_written_;
  engine::WriteBatch batch_;
  // Data keys written or deleted in this batch: where their record is, or nullopt for deleted.
  std::map<std::string, std::optional<Written>> overlay_;
  bool cleared_ = false;  // a kClear is in this batch: keys outside the overlay are absent
  // Once loaded: every member key as of the last command applied in this batch, undecoded.
  std::optional<MemberEntries> member_keys_;
  // Other system keys written in this batch: whether each exists after its last write.
  std::map<std::string, bool> system_overlay_;
  // Token records as this batch sees them, by system key name: the digest of the record, or
  // nullopt when absent. Filled from the engine on first use and by this batch's token writes.
  std::map<std::string, std::optional<std::string>> token_digests_;
  // Lease system keys (lease_state.h) written in this batch: their value, nullopt for deleted.
  std::map<std::string, std::optional<std::string>> lease_overlay_;
  // The engine's record (nullopt: absent) of the data key read last (PeekRecord), when
  // last_read_valid_. RecordBefore moves the record out (the key is written next) and clears it.
  mutable std::string last_read_key_;
  mutable std::optional<std::string> last_read_;
  mutable bool last_read_valid_ = false;
  std::optional<LogIndex> last_index_;
  HistoryWriter history_;
};

}  // namespace nds::store
