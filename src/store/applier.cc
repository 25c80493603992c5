// Group application of store commands with in-batch preconditions.
#include "store/applier.h"

#include <algorithm>

#include "store/auth_state.h"
#include "store/keyspace.h"
#include "util/check.h"

namespace nds::store {

void BatchApplier::AdvanceTo(LogIndex index) {
  NDS_CHECK(index > engine_->AppliedIndex(), "index {} not above applied {}", index,
            engine_->AppliedIndex());
  NDS_CHECK(!last_index_ || index > *last_index_, "index {} not above {}", index, *last_index_);
  last_index_ = index;
}

void BatchApplier::Skip(LogIndex index) { AdvanceTo(index); }

Result<std::optional<uint64_t>> BatchApplier::CurrentRevision(const std::string& data_key) const {
  if (auto it = overlay_.find(data_key); it != overlay_.end()) {
    if (!it->second) return std::optional<uint64_t>();
    return std::optional<uint64_t>(it->second->revision);
  }
  NDS_ASSIGN_OR_RETURN(std::optional<std::string_view> bytes, PeekRecord(data_key));
  if (!bytes) return std::optional<uint64_t>();
  NDS_ASSIGN_OR_RETURN(RecordView rec, DecodeRecord(*bytes));
  return std::optional<uint64_t>(rec.revision);
}

Result<std::optional<std::string_view>> BatchApplier::PeekRecord(
    const std::string& data_key) const {
  if (auto it = overlay_.find(data_key); it != overlay_.end()) {
    if (!it->second) return std::optional<std::string_view>();
    const engine::WriteBatch::Op& op = batch_.ops()[it->second->op];
    NDS_CHECK(op.type == engine::WriteBatch::OpType::kPut);
    NDS_CHECK(op.key == data_key);
    return std::optional<std::string_view>(op.value);
  }
  if (cleared_) return std::optional<std::string_view>();
  // A command reads its key, then writes it, and the write reads the record it replaces for the
  // history: the second read is this one. It cannot be stale: the engine does not change during a
  // batch, and the batch's own writes are found in the overlay above.
  if (!last_read_valid_ || last_read_key_ != data_key) {
    last_read_valid_ = false;
    NDS_ASSIGN_OR_RETURN(last_read_, engine_->Get(data_key));
    last_read_key_.assign(data_key);  // reuses the buffer of the key read before
    last_read_valid_ = true;
  }
  if (!last_read_) return std::optional<std::string_view>();
  return std::optional<std::string_view>(*last_read_);
}

Result<std::optional<std::string>> BatchApplier::CurrentRecord(const std::string& data_key) const {
  NDS_ASSIGN_OR_RETURN(std::optional<std::string_view> bytes, PeekRecord(data_key));
  if (!bytes) return std::optional<std::string>();
  return std::optional<std::string>(std::string(*bytes));
}

namespace {

// The lease a stored record names (0: none or undecodable; the caller has decoded it before).
uint64_t LeaseOfRecord(const std::optional<std::string>& record) {
  if (!record) return 0;
  auto view = DecodeRecord(*record);
  return view.ok() ? view->lease_id : 0;
}

}  // namespace

void BatchApplier::PutRecord(const std::string& data_key, uint64_t revision,
                             std::string_view content_type, std::string_view value,
                             uint64_t lease_id) {
  std::optional<std::string> before = RecordBefore(data_key);
  if (uint64_t old = LeaseOfRecord(before); old != 0 && old != lease_id) {
    DropExpiryLease(old, UserKey(data_key));
  }
  std::string record = EncodeRecord(revision, content_type, value, lease_id);
  history_.Record(&batch_, revision, UserKey(data_key), record, before);
  batch_.PutOwned(data_key, std::move(record));
  overlay_[data_key] = Written{revision, batch_.ops().size() - 1};
}

void BatchApplier::DeleteRecord(const std::string& data_key, uint64_t releasing) {
  std::optional<std::string> before = RecordBefore(data_key);
  if (uint64_t old = LeaseOfRecord(before); old != 0 && old != releasing) {
    DropExpiryLease(old, UserKey(data_key));
  }
  history_.Record(&batch_, last_index_->value, UserKey(data_key), {}, before);
  batch_.Delete(data_key);
  overlay_[data_key] = std::nullopt;
}

Status BatchApplier::CheckPrecondition(const Command& cmd,
                                       const std::optional<uint64_t>& revision) const {
  switch (cmd.precondition) {
    case Precondition::kNone:
      return Status::Ok();
    case Precondition::kMustNotExist:
      if (revision)
        return AlreadyExists("the key exists, at revision " + std::to_string(*revision));
      return Status::Ok();
    case Precondition::kMustExist:
      if (!revision) return NotFound("no such key");
      return Status::Ok();
    case Precondition::kRevisionEquals:
      if (!revision) return FailedPrecondition("the key does not exist");
      if (*revision != cmd.expected_revision) {
        return FailedPrecondition("the key is at revision " + std::to_string(*revision) + ", not " +
                                  std::to_string(cmd.expected_revision));
      }
      return Status::Ok();
  }
  return InvalidArgument("unknown precondition");
}

Result<MemberEntries*> BatchApplier::MemberKeys() {
  if (!member_keys_) {
    NDS_ASSIGN_OR_RETURN(MemberEntries stored, ReadMemberEntries(*engine_->NewView()));
    member_keys_ = std::move(stored);
  }
  return &*member_keys_;
}

Result<std::vector<MemberRecord>> BatchApplier::CurrentMembers() {
  NDS_ASSIGN_OR_RETURN(MemberEntries * keys, MemberKeys());
  return DecodeMemberEntries(*keys);
}

Status BatchApplier::AddMember(const Command& cmd, LogIndex index) {
  NDS_ASSIGN_OR_RETURN(MemberRecord record, DecodeMemberRecord(cmd.value));
  NDS_ASSIGN_OR_RETURN(std::vector<MemberRecord> members, CurrentMembers());
  for (const MemberRecord& m : members) {
    if (m.name == record.name) {
      return AlreadyExists("member " + std::to_string(m.id) + " already has the name " + m.name);
    }
    if (m.peer_address == record.peer_address) {
      return AlreadyExists("member " + std::to_string(m.id) + " already has the peer address " +
                           m.peer_address);
    }
  }
  record.id = index.value;
  std::string name = MemberKeyName(record.id);
  std::string value = EncodeMemberRecord(record);
  batch_.Put(SystemKey(name), value);
  // Ids are log indexes, which only grow: no member can hold this one already.
  NDS_CHECK(member_keys_->emplace(std::move(name), std::move(value)).second);
  return Status::Ok();
}

Status BatchApplier::RemoveMember(uint64_t id) {
  NDS_ASSIGN_OR_RETURN(std::vector<MemberRecord> members, CurrentMembers());
  bool known = std::any_of(members.begin(), members.end(),
                           [id](const MemberRecord& m) { return m.id == id; });
  if (!known) return NotFound("no member with id " + std::to_string(id));
  if (members.size() == 1) {
    return FailedPrecondition("member " + std::to_string(id) +
                              " is the last member: the last member cannot leave");
  }
  std::string name = MemberKeyName(id);
  batch_.Delete(SystemKey(name));
  NDS_CHECK(member_keys_->erase(name) == 1);
  return Status::Ok();
}

Status BatchApplier::TrackSystemWrite(const Command& cmd) {
  if (!cmd.key.starts_with(kMemberKeyPrefix)) return TrackOtherSystemWrite(cmd);
  // Loaded before the write is applied, so that the overlay starts from the engine's state.
  NDS_ASSIGN_OR_RETURN(MemberEntries * keys, MemberKeys());
  if (cmd.precondition == Precondition::kMustExist && !keys->contains(cmd.key)) {
    return FailedPrecondition("no member record " + cmd.key + " to replace");
  }
  if (cmd.type == CommandType::kDeleteSystem) {
    keys->erase(cmd.key);
  } else {
    (*keys)[cmd.key] = cmd.value;
  }
  return Status::Ok();
}

Status BatchApplier::TrackOtherSystemWrite(const Command& cmd) {
  if (cmd.precondition == Precondition::kMustNotExist ||
      cmd.precondition == Precondition::kMustExist) {
    bool exists = false;
    auto written = system_overlay_.find(cmd.key);
    if (written != system_overlay_.end()) {
      exists = written->second;
    } else {
      NDS_ASSIGN_OR_RETURN(std::optional<std::string> stored, engine_->Get(SystemKey(cmd.key)));
      exists = stored.has_value();
    }
    if (cmd.precondition == Precondition::kMustNotExist && exists) {
      return AlreadyExists("the system key " + cmd.key + " exists");
    }
    if (cmd.precondition == Precondition::kMustExist && !exists) {
      return NotFound("no system key " + cmd.key);
    }
  }
  system_overlay_[cmd.key] = cmd.type != CommandType::kDeleteSystem;
  return Status::Ok();
}

Result<bool> BatchApplier::StillAllowed(const Command::Authorization& auth) {
  std::string name = TokenKeyName(auth.token_name);
  auto it = token_digests_.find(name);
  if (it == token_digests_.end()) {
    std::optional<std::string> digest;
    if (tokens_ != nullptr) {
      NDS_ASSIGN_OR_RETURN(std::shared_ptr<const TokenCache::Entry> entry,
                           tokens_->Lookup(*engine_, auth.token_name));
      if (entry) digest = entry->digest;
    } else {
      NDS_ASSIGN_OR_RETURN(std::optional<std::string> stored, engine_->Get(SystemKey(name)));
      if (stored) digest = TokenRecordDigest(*stored);
    }
    it = token_digests_.emplace(std::move(name), std::move(digest)).first;
  }
  return it->second && *it->second == auth.record_digest;
}

void BatchApplier::TrackTokenWrite(const Command& cmd) {
  if (!cmd.key.starts_with(kTokenKeyPrefix)) return;
  std::optional<std::string> digest;
  if (cmd.type == CommandType::kPutSystem) digest = TokenRecordDigest(cmd.value);
  token_digests_[cmd.key] = std::move(digest);
  tokens_written_ = true;
}

ApplyResult BatchApplier::Apply(const Command& cmd, LogIndex index) {
  AdvanceTo(index);
  ApplyResult result;
  result.revision = index.value;
  if (cmd.authorized_by) {
    Result<bool> allowed = StillAllowed(*cmd.authorized_by);
    if (!allowed.ok() || !*allowed) {
      result.status =
          allowed.ok() ? FailedPrecondition("unknown or revoked token") : allowed.status();
      result.token_refused = allowed.ok();
      return result;
    }
  }
  switch (cmd.type) {
    case CommandType::kClear:
      result.status = RecordClear(index.value);
      if (!result.status.ok()) return result;
      batch_.DeleteRange(kDataBegin, kDataEnd);
      overlay_.clear();
      cleared_ = true;
      return result;
    case CommandType::kPutSecret:
      batch_.Put(SecretKey(cmd.key), cmd.value);
      return result;
    case CommandType::kPutSystem:
      result.status = TrackSystemWrite(cmd);
      if (result.status.ok()) {
        batch_.Put(SystemKey(cmd.key), cmd.value);
        TrackTokenWrite(cmd);
      }
      return result;
    case CommandType::kDeleteSystem:
      result.status = TrackSystemWrite(cmd);
      if (result.status.ok()) {
        batch_.Delete(SystemKey(cmd.key));
        TrackTokenWrite(cmd);
      }
      return result;
    case CommandType::kAddMember:
      result.status = AddMember(cmd, index);
      return result;
    case CommandType::kRemoveMember:
      result.status = RemoveMember(cmd.member_id);
      return result;
    case CommandType::kIncrementBy:
      return ApplyIncrementBy(cmd, index);
    case CommandType::kAppend:
      return ApplyAppend(cmd, index);
    case CommandType::kPutReturnOld:
      return ApplyPutReturnOld(cmd, index);
    case CommandType::kPutMany:
      return ApplyPutMany(cmd, index);
    case CommandType::kDeleteMany:
      return ApplyDeleteMany(cmd, index);
    case CommandType::kTxn:
      return ApplyTxn(cmd, index);
    case CommandType::kLeaseGrant:
    case CommandType::kLeaseKeepAlive:
    case CommandType::kLeaseRevoke:
    case CommandType::kLeaseExpire:
      return ApplyLease(cmd, index);
    case CommandType::kExpire:
      return ApplyExpire(cmd, index);
    case CommandType::kPutExpiring:
      return ApplyPutExpiring(cmd, index);
    case CommandType::kPut:
    case CommandType::kDelete:
      break;
  }
  std::string key = DataKey(cmd.key);
  auto current = CurrentRevision(key);
  if (!current.ok()) {
    result.status = current.status();
    return result;
  }
  result.status = CheckPrecondition(cmd, *current);
  if (!result.status.ok()) return result;
  if (cmd.type == CommandType::kPut) {
    if (cmd.lease_id != 0) {
      result.status = CheckAttach(cmd.lease_id, cmd.key);
      if (!result.status.ok()) return result;
      AttachLease(cmd.lease_id, cmd.key, index.value);
    }
    result.created = !current->has_value();
    PutRecord(key, index.value, cmd.content_type, cmd.value, cmd.lease_id);
  } else {
    if (!current->has_value()) {
      // A delete without the kMustExist precondition of a missing key changes nothing.
      return result;
    }
    DeleteRecord(key);
  }
  return result;
}

Status BatchApplier::Commit(engine::Engine* engine, bool sync) {
  NDS_CHECK(engine == engine_);
  if (!last_index_) return Status::Ok();
  Status s = history_.Finish(*engine_, last_index_->value, &batch_);
  // The batch is not needed after the write (it is reset below, and a failed write is applied
  // again from the entries): the engine may free each value once copied.
  if (s.ok()) s = engine->WriteConsuming(&batch_, *last_index_, sync);
  // After the write, so that a lookup racing with it is tagged stale (token_cache.h).
  if (tokens_written_ && tokens_ != nullptr) tokens_->Invalidate();
  tokens_written_ = false;
  if (s.ok() && leases_ != nullptr && !leases_written_.empty()) leases_->Publish(leases_written_);
  leases_written_.clear();
  batch_ = engine::WriteBatch();
  overlay_.clear();
  cleared_ = false;
  member_keys_.reset();
  system_overlay_.clear();
  token_digests_.clear();
  lease_overlay_.clear();
  last_read_valid_ = false;
  last_read_.reset();
  last_index_.reset();
  return s;
}

}  // namespace nds::store
