// WriteBatch (engine/engine.h): the list of changes that Engine::Write applies all-or-nothing.
// ByteSize() counts the key and value bytes of every op, the figure callers bound batches by.
#include <string>
#include <string_view>
#include <utility>

#include "engine/engine.h"

namespace nds::engine {

void WriteBatch::Put(std::string_view key, std::string_view value) {
  ops_.push_back(Op{OpType::kPut, std::string(key), std::string(value)});
  bytes_ += key.size() + value.size();
}

void WriteBatch::PutOwned(std::string key, std::string value) {
  bytes_ += key.size() + value.size();
  ops_.push_back(Op{OpType::kPut, std::move(key), std::move(value)});
}

void WriteBatch::ReleaseOp(size_t i) {
  std::string().swap(ops_[i].key);
  std::string().swap(ops_[i].value);
}

void WriteBatch::Delete(std::string_view key) {
  ops_.push_back(Op{OpType::kDelete, std::string(key), std::string()});
  bytes_ += key.size();
}

void WriteBatch::DeleteRange(std::string_view begin, std::string_view end) {
  ops_.push_back(Op{OpType::kDeleteRange, std::string(begin), std::string(end)});
  bytes_ += begin.size() + end.size();
}

}  // namespace nds::engine
