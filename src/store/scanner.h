// Ordered iteration over the user key space of one engine view: what /keys, /getKeys, /getValues
// and /getAll read. Holds the view, so every key it yields comes from one consistent point in
// time however long the scan runs. Memory does not grow with the number of keys scanned.
// Not thread-safe: one user at a time (the HTTP server pulls a stream from one thread at a time).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "store/keyspace.h"

namespace nds::store {

struct ScanOptions {
  std::string prefix;                // only keys starting with it
  std::optional<std::string> after;  // exclusive lower bound
  size_t limit = 0;                  // 0: no limit
};

class Scanner {
 public:
  Scanner(std::unique_ptr<engine::View> view, ScanOptions options);

  // Advances to the next key within the options. Returns false at the end (or when the limit
  // has been reached); errors from the engine or a damaged record are returned as a Status.
  Result<bool> Next();

  // Valid after Next() returned true, until the next call.
  std::string_view key() const { return key_; }
  const RecordView& record() const { return record_; }

  // After Next() returned false because of the limit: whether another key would have followed.
  bool more() const { return more_; }
  const engine::View& view() const { return *view_; }

 private:
  std::unique_ptr<engine::View> view_;
  std::unique_ptr<engine::Iterator> it_;
  ScanOptions options_;
  std::string prefix_key_;  // DataKey(prefix)
  size_t yielded_ = 0;
  bool started_ = false;
  bool more_ = false;
  std::string_view key_;
  RecordView record_;
};

}  // namespace nds::store
