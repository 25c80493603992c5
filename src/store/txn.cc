// The transaction encoding (docs/formats/store.md, "kTxn").
#include "store/txn.h"

#include "util/coding.h"

namespace nds::store {
namespace {

constexpr uint8_t kTxnFormatVersion = 1;
// Version 2 adds a lease id after each put's content type; it is written only when some put
// names a lease, so that a transaction without leases encodes as it always did.
constexpr uint8_t kTxnFormatVersionLeases = 2;

bool NamesLease(const std::vector<TxnOp>& ops) {
  for (const TxnOp& op : ops) {
    if (op.lease_id != 0) return true;
  }
  return false;
}

void PutOps(std::string* out, const std::vector<TxnOp>& ops, bool leases) {
  PutVarint64(out, ops.size());
  for (const TxnOp& op : ops) {
    out->push_back(static_cast<char>(op.kind));
    PutLengthPrefixed(out, op.key);
    if (op.kind == TxnOpKind::kPut) {
      PutLengthPrefixed(out, op.value);
      PutLengthPrefixed(out, op.content_type);
      if (leases) PutVarint64(out, op.lease_id);
    }
  }
}

Result<std::vector<TxnOp>> DecodeOps(Decoder* d, bool leases) {
  NDS_ASSIGN_OR_RETURN(uint64_t count, d->Varint64());
  // Each op takes at least 2 bytes: a count beyond what is left is corrupt, not an allocation.
  if (count > d->remaining() / 2) return Corruption("transaction op count beyond its bytes");
  std::vector<TxnOp> ops(count);
  for (TxnOp& op : ops) {
    NDS_ASSIGN_OR_RETURN(std::string_view kind, d->Bytes(1));
    auto k = static_cast<uint8_t>(kind[0]);
    if (k < 1 || k > 3) return Corruption("unknown transaction op kind " + std::to_string(k));
    op.kind = static_cast<TxnOpKind>(k);
    NDS_ASSIGN_OR_RETURN(std::string_view key, d->LengthPrefixed());
    if (key.empty()) return Corruption("transaction op with an empty key");
    op.key = key;
    if (op.kind == TxnOpKind::kPut) {
      NDS_ASSIGN_OR_RETURN(std::string_view value, d->LengthPrefixed());
      NDS_ASSIGN_OR_RETURN(std::string_view content_type, d->LengthPrefixed());
      op.value = value;
      op.content_type = content_type;
      if (leases) {
        NDS_ASSIGN_OR_RETURN(op.lease_id, d->Varint64());
      }
    }
  }
  return ops;
}

}  // namespace

std::string EncodeTxn(const Txn& txn) {
  std::string out;
  const bool leases = NamesLease(txn.success) || NamesLease(txn.failure);
  out.push_back(static_cast<char>(leases ? kTxnFormatVersionLeases : kTxnFormatVersion));
  PutVarint64(&out, txn.compares.size());
  for (const TxnCompare& c : txn.compares) {
    out.push_back(static_cast<char>(c.kind));
    PutLengthPrefixed(&out, c.key);
    switch (c.kind) {
      case TxnCompareKind::kRevision:
        PutVarint64(&out, c.revision);
        break;
      case TxnCompareKind::kValue:
        PutLengthPrefixed(&out, c.value);
        break;
      case TxnCompareKind::kExists:
        out.push_back(c.exists ? 1 : 0);
        break;
    }
  }
  PutOps(&out, txn.success, leases);
  PutOps(&out, txn.failure, leases);
  return out;
}

Result<Txn> DecodeTxn(std::string_view bytes) {
  Decoder d(bytes);
  NDS_ASSIGN_OR_RETURN(std::string_view version, d.Bytes(1));
  const auto v = static_cast<uint8_t>(version[0]);
  if (v != kTxnFormatVersion && v != kTxnFormatVersionLeases) {
    return Corruption("transaction format version " +
                      std::to_string(static_cast<uint8_t>(version[0])) + " is not supported");
  }
  Txn txn;
  NDS_ASSIGN_OR_RETURN(uint64_t count, d.Varint64());
  if (count > d.remaining() / 3) return Corruption("transaction compare count beyond its bytes");
  txn.compares.resize(count);
  for (TxnCompare& c : txn.compares) {
    NDS_ASSIGN_OR_RETURN(std::string_view kind, d.Bytes(1));
    auto k = static_cast<uint8_t>(kind[0]);
    if (k < 1 || k > 3) return Corruption("unknown transaction compare kind " + std::to_string(k));
    c.kind = static_cast<TxnCompareKind>(k);
    NDS_ASSIGN_OR_RETURN(std::string_view key, d.LengthPrefixed());
    if (key.empty()) return Corruption("transaction compare with an empty key");
    c.key = key;
    if (c.kind == TxnCompareKind::kRevision) {
      NDS_ASSIGN_OR_RETURN(c.revision, d.Varint64());
    } else if (c.kind == TxnCompareKind::kValue) {
      NDS_ASSIGN_OR_RETURN(std::string_view value, d.LengthPrefixed());
      c.value = value;
    } else {
      NDS_ASSIGN_OR_RETURN(std::string_view flag, d.Bytes(1));
      if (flag[0] != 0 && flag[0] != 1) return Corruption("transaction exists flag not 0 or 1");
      c.exists = flag[0] == 1;
    }
  }
  NDS_ASSIGN_OR_RETURN(txn.success, DecodeOps(&d, v == kTxnFormatVersionLeases));
  NDS_ASSIGN_OR_RETURN(txn.failure, DecodeOps(&d, v == kTxnFormatVersionLeases));
  if (!d.done()) return Corruption("trailing bytes after a transaction");
  return txn;
}

Command TxnCommand(const Txn& txn) {
  Command c;
  c.type = CommandType::kTxn;
  c.value = EncodeTxn(txn);
  return c;
}

}  // namespace nds::store
