// The request and result of Client::Txn (POST /txn, docs/api.md "Transactions"): compares on
// current keys, then the success or the failure ops, applied at once with one revision.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nds::client {

struct TxnCompare {
  enum class Kind { kRevision, kValue, kExists };
  Kind kind = Kind::kExists;
  std::string key;
  uint64_t revision = 0;  // kRevision: the key's revision equals it (0: the key is absent)
  std::string value;      // kValue: the key is present with exactly this value
  bool exists = false;    // kExists: the key's presence

  static TxnCompare RevisionIs(std::string key, uint64_t revision) {
    return {Kind::kRevision, std::move(key), revision, {}, false};
  }
  static TxnCompare ValueIs(std::string key, std::string value) {
    return {Kind::kValue, std::move(key), 0, std::move(value), false};
  }
  static TxnCompare Exists(std::string key, bool exists) {
    return {Kind::kExists, std::move(key), 0, {}, exists};
  }
};

struct TxnOp {
  enum class Kind { kPut, kDelete, kGet };
  Kind kind = Kind::kGet;
  std::string key;
  std::string value;         // kPut
  std::string content_type;  // kPut; empty: application/octet-stream
  uint64_t lease_id = 0;     // kPut: attach the key to this lease (0: none)

  static TxnOp Put(std::string key, std::string value, std::string content_type = {}) {
    return {Kind::kPut, std::move(key), std::move(value), std::move(content_type), 0};
  }
  static TxnOp Delete(std::string key) { return {Kind::kDelete, std::move(key), {}, {}, 0}; }
  static TxnOp Get(std::string key) { return {Kind::kGet, std::move(key), {}, {}, 0}; }
};

struct TxnRequest {
  std::vector<TxnCompare> compare;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

struct TxnOpResult {
  TxnOp::Kind kind = TxnOp::Kind::kGet;
  // kGet: the key was present (then revision, value and content_type are its); kDelete: it was
  // present and is now removed; kPut: true, and revision is the transaction's.
  bool found = false;
  uint64_t revision = 0;
  std::string value;
  std::string content_type;
};

struct TxnResult {
  bool succeeded = false;            // every compare held: the success ops ran
  uint64_t revision = 0;             // the transaction's revision
  std::vector<TxnOpResult> results;  // one per op of the branch that ran
};

}  // namespace nds::client
