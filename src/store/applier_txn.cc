// Applying a transaction (txn.h): its compares and the chosen branch's ops see the store as this
// batch does (earlier commands of the batch, and the branch's own earlier ops), and every write
// of the branch carries the transaction's one revision.
#include "store/applier.h"
#include "util/check.h"

namespace nds::store {

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
