// Transactions (POST /txn, docs/api.md "Transactions"): compares on current keys, then one of two
// lists of operations, decided and applied at once as one log entry (CommandType::kTxn) with one
// revision. The encoding is versioned (docs/formats/store.md); decoding validates every field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/command.h"
#include "util/status.h"

namespace nds::store {

enum class TxnCompareKind : uint8_t {
  kRevision = 1,  // the key's revision equals `revision` (0: the key is absent)
  kValue = 2,     // the key is present and its value equals `value`
  kExists = 3,    // the key's presence equals `exists`
};

struct TxnCompare {
  TxnCompareKind kind = TxnCompareKind::kExists;
  std::string key;
  uint64_t revision = 0;
  std::string value;
  bool exists = false;
  bool operator==(const TxnCompare&) const = default;
};

enum class TxnOpKind : uint8_t { kPut = 1, kDelete = 2, kGet = 3 };

struct TxnOp {
  TxnOpKind kind = TxnOpKind::kGet;
  std::string key;
  std::string value;         // kPut
  std::string content_type;  // kPut; empty means application/octet-stream
  uint64_t lease_id = 0;     // kPut: attach the key to this lease (0: none), as Command::lease_id
  bool operator==(const TxnOp&) const = default;
};

struct Txn {
  std::vector<TxnCompare> compares;
  std::vector<TxnOp> success;  // applied when every compare holds
  std::vector<TxnOp> failure;  // applied otherwise
  bool operator==(const Txn&) const = default;
};

// What one operation of the branch taken did.
struct TxnOpResult {
  TxnOpKind kind = TxnOpKind::kGet;
  // kGet: the key was present (then revision, value, content_type are its); kDelete: the key was
  // present and is now removed; kPut: always true (revision = the transaction's).
  bool found = false;
  uint64_t revision = 0;
  std::string value;
  std::string content_type;
};

struct TxnOutcome {
  bool succeeded = false;  // every compare held: the success branch was taken
  std::vector<TxnOpResult> results;
};

std::string EncodeTxn(const Txn& txn);
// kCorruption for malformed, truncated, unknown-version or trailing-garbage input, an unknown
// kind, or an empty key.
Result<Txn> DecodeTxn(std::string_view bytes);

// The log command for `txn`: CommandType::kTxn with EncodeTxn(txn) as its value.
Command TxnCommand(const Txn& txn);

}  // namespace nds::store
