// The applier's side of the change history (store/history.h): what a write replaces, and the
// delete events of /clear.
#include <map>
#include <utility>

#include "store/applier.h"
#include "util/check.h"

namespace nds::store {

std::optional<std::string> BatchApplier::RecordBefore(const std::string& data_key) {
  if (!cleared_ && last_read_valid_ && last_read_key_ == data_key && !overlay_.contains(data_key)) {
    // The engine's record, read by this command: taken instead of copied, as the key is written
    // next and from then on found in the overlay.
    last_read_valid_ = false;
    return std::exchange(last_read_, std::nullopt);
  }
  Result<std::optional<std::string>> before = CurrentRecord(data_key);
  NDS_CHECK(before.ok(), "key of {} bytes read again in one command: {}", data_key.size(),
            before.status().ToString());
  return std::move(before).value();
}

Status BatchApplier::RecordClear(uint64_t revision) {
  // Every key present as this batch sees it, with its record: the engine's (unless an earlier
  // /clear of this batch removed them), then this batch's own writes over them.
  std::map<std::string, std::optional<std::string>> present;
  if (!cleared_) {
    std::unique_ptr<engine::View> view = engine_->NewView();
    std::unique_ptr<engine::Iterator> it = view->NewIterator();
    for (it->Seek(kDataBegin); it->Valid() && it->key() < kDataEnd; it->Next()) {
      present.emplace(std::string(it->key()), std::string(it->value()));
    }
    NDS_RETURN_IF_ERROR(it->status());
  }
  for (const auto& [key, written] : overlay_) {
    if (!written) {
      present.erase(key);
      continue;
    }
    const engine::WriteBatch::Op& op = batch_.ops()[written->op];
    NDS_CHECK(op.key == key);
    present[key] = op.value;
  }
  for (const auto& [key, record] : present) {
    history_.Record(&batch_, revision, UserKey(key), {}, record);
  }
  return Status::Ok();
}

}  // namespace nds::store
