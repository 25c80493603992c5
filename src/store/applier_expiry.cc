// Key expiry for the RESP front on leases (command.h kExpire, kPutExpiring, applied in
// applier_resp.cc; docs/resp.md "Expiry"). A key's expiry is the lease its current record names.
// EXPIRE and SET ... EX give the key an expiry lease of its own (lease_state.h IsExpiryLease),
// granted at the command's index; PutRecord and DeleteRecord drop that lease when the key is
// written without it or deleted, so an expiry lease lives exactly as long as its key keeps it.
// Expiry itself is the lease keeper's kLeaseExpire, a log entry like any other lease's.
#include "store/applier.h"
#include "store/lease_state.h"
#include "util/check.h"

namespace nds::store {
void BatchApplier::DropExpiryLease(uint64_t id, std::string_view user_key) {
  auto bytes = LeaseSystemGet(LeaseKeyName(id));
  NDS_CHECK(bytes.ok(), "reading lease {} to drop it with its key: {}", id,
            bytes.status().ToString());
  if (!bytes->has_value()) return;
  auto lease = DecodeLeaseRecord(**bytes);
  if (!lease.ok() || !IsExpiryLease(*lease)) return;
  auto count = LeaseCount();
  NDS_CHECK(count.ok(), "reading the lease count: {}", count.status().ToString());
  LeaseSystemDelete(LeaseAttachName(id, user_key));
  LeaseSystemDelete(LeaseKeyName(id));
  SetLeaseCount(*count > 0 ? *count - 1 : 0);
}

uint64_t BatchApplier::KeepLease(const std::string& user_key, uint64_t lease_id,
                                 uint64_t revision) {
  if (lease_id == 0) return 0;
  // The record names a lease only while it holds the key at the record's revision.
  AttachLease(lease_id, user_key, revision);
  return lease_id;
}

Status BatchApplier::CheckExpiryRoom(uint64_t old_lease, uint64_t leases_max) const {
  NDS_ASSIGN_OR_RETURN(uint64_t count, LeaseCount());
  bool frees_one = false;
  if (old_lease != 0) {
    NDS_ASSIGN_OR_RETURN(std::optional<std::string> old, LeaseSystemGet(LeaseKeyName(old_lease)));
    if (old) {
      auto decoded = DecodeLeaseRecord(*old);
      frees_one = decoded.ok() && IsExpiryLease(*decoded);
    }
  }
  if (frees_one && count > 0) --count;
  if (count >= leases_max) {
    return ResourceExhausted("the cluster holds " + std::to_string(count) +
                             " leases already, each expiring key one (--max-leases)");
  }
  return Status::Ok();
}

void BatchApplier::GrantExpiryLease(const std::string& user_key, uint64_t ttl_ms, LogIndex index) {
  auto count = LeaseCount();
  NDS_CHECK(count.ok(), "reading the lease count again: {}", count.status().ToString());
  LeaseRecord lease{ttl_ms, index.value, /*keys_max=*/0, /*keys_count=*/1, user_key};
  LeaseSystemPut(LeaseKeyName(index.value), EncodeLeaseRecord(lease));
  LeaseSystemPut(LeaseAttachName(index.value, user_key), EncodeAttachment(index.value));
  SetLeaseCount(*count + 1);
}

}  // namespace nds::store
