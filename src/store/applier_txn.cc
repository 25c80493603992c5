// Applying a transaction (txn.h): its compares and the chosen branch's ops see the store as this
// batch does (earlier commands of the batch, and the branch's own earlier ops), and every write
// of the branch carries the transaction's one revision.
#include <map>
#include <set>

#include "store/applier.h"
#include "store/lease_state.h"
#include "util/check.h"

namespace nds::store {

// CheckAttach looks at one op at a time: the keys a branch attaches to a lease must also fit in
// its --max-lease-keys together.
Status BatchApplier::CheckTxnLeaseRoom(const std::vector<TxnOp>& ops) const {
  // The keys each lease would gain: puts attaching a key not attached to it yet.
  std::map<uint64_t, std::set<std::string>> fresh;
  for (const TxnOp& op : ops) {
    if (op.kind != TxnOpKind::kPut || op.lease_id == 0) continue;
    NDS_ASSIGN_OR_RETURN(std::optional<std::string> attached,
                         LeaseSystemGet(LeaseAttachName(op.lease_id, op.key)));
    if (!attached) fresh[op.lease_id].insert(op.key);
  }
  for (const auto& [id, keys] : fresh) {
    NDS_ASSIGN_OR_RETURN(std::optional<std::string> bytes, LeaseSystemGet(LeaseKeyName(id)));
    if (!bytes) continue;  // CheckAttach refused it already
    NDS_ASSIGN_OR_RETURN(LeaseRecord lease, DecodeLeaseRecord(*bytes));
    if (lease.keys_count + keys.size() > lease.keys_max) {
      return ResourceExhausted("lease " + std::to_string(id) + " holds " +
                               std::to_string(lease.keys_count) +
                               " keys; this transaction would "
                               "attach " +
                               std::to_string(keys.size()) + " more, over its " +
                               std::to_string(lease.keys_max) + " (--max-lease-keys)");
    }
  }
  return Status::Ok();
}

ApplyResult BatchApplier::ApplyTxn(const Command& cmd, LogIndex index) {
  ApplyResult result;
  result.revision = index.value;
  auto txn = DecodeTxn(cmd.value);
  NDS_CHECK(txn.ok());  // DecodeCommand validated it
  auto outcome = std::make_shared<TxnOutcome>();
  outcome->succeeded = true;
  for (const TxnCompare& c : txn->compares) {
    auto current = CurrentDecoded(DataKey(c.key));
    if (!current.ok()) {
      result.status = current.status();
      return result;
    }
    bool holds = false;
    switch (c.kind) {
      case TxnCompareKind::kRevision:
        holds = (*current ? (*current)->revision : 0) == c.revision;
        break;
      case TxnCompareKind::kValue:
        holds = current->has_value() && (*current)->value == c.value;
        break;
      case TxnCompareKind::kExists:
        holds = current->has_value() == c.exists;
        break;
    }
    if (!holds) {
      outcome->succeeded = false;
      break;
    }
  }
  const std::vector<TxnOp>& ops = outcome->succeeded ? txn->success : txn->failure;
  // Read every key the branch touches (and check every lease it attaches to) before writing
  // any, so that an error changes nothing.
  for (const TxnOp& op : ops) {
    auto current = CurrentDecoded(DataKey(op.key));
    if (!current.ok()) {
      result.status = current.status();
      return result;
    }
    if (op.kind == TxnOpKind::kPut && op.lease_id != 0) {
      result.status = CheckAttach(op.lease_id, op.key);
      if (!result.status.ok()) return result;
    }
  }
  result.status = CheckTxnLeaseRoom(ops);
  if (!result.status.ok()) return result;
  outcome->results.reserve(ops.size());
  for (const TxnOp& op : ops) {
    const std::string key = DataKey(op.key);
    TxnOpResult r;
    r.kind = op.kind;
    if (op.kind == TxnOpKind::kPut) {
      if (op.lease_id != 0) AttachLease(op.lease_id, op.key, index.value);
      PutRecord(key, index.value, op.content_type, op.value, op.lease_id);
      r.found = true;
      r.revision = index.value;
    } else {
      auto current = CurrentDecoded(key);
      NDS_CHECK(current.ok(), "{} read again in one transaction", op.key);
      if (current->has_value()) {
        r.found = true;
        if (op.kind == TxnOpKind::kDelete) {
          DeleteRecord(key);
        } else {
          r.revision = (*current)->revision;
          r.value = std::move((*current)->value);
          r.content_type = std::move((*current)->content_type);
        }
      }
    }
    outcome->results.push_back(std::move(r));
  }
  result.txn = std::move(outcome);
  return result;
}

}  // namespace nds::store
