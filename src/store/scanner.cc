// Scanning the user key space from one engine view.
#include "store/scanner.h"

namespace nds::store {

Scanner::Scanner(std::unique_ptr<engine::View> view, ScanOptions options)
    : view_(std::move(view)),
      it_(view_->NewIterator()),
      options_(std::move(options)),
      prefix_key_(DataKey(options_.prefix)) {}

Result<bool> Scanner::Next() {
  if (!started_) {
    started_ = true;
    std::string start = prefix_key_;
    if (options_.after && DataKey(*options_.after) >= start) start = DataKey(*options_.after);
    it_->Seek(start);
    if (options_.after && it_->Valid() && UserKey(it_->key()) == *options_.after) it_->Next();
  } else {
    it_->Next();
  }
  if (!it_->Valid()) {
    NDS_RETURN_IF_ERROR(it_->status());
    return false;
  }
  std::string_view k = it_->key();
  if (k.substr(0, prefix_key_.size()) != prefix_key_) return false;
  if (options_.limit != 0 && yielded_ == options_.limit) {
    more_ = true;
    return false;
  }
  NDS_ASSIGN_OR_RETURN(record_, DecodeRecord(it_->value()));
  key_ = UserKey(k);
  ++yielded_;
  return true;
}

}  // namespace nds::store
