// The fence `nds recover` leaves (docs/operations.md "Disaster recovery"): a system key
// "fenced/<old cluster id>" whose value says when and into which cluster the old one was
// recovered. A node refuses a peer that claims a fenced cluster with that text. Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace nds::store {

inline constexpr std::string_view kFenceKeyPrefix = "fenced/";

// "fenced/" + cluster_id (a system key name, under kSystemPrefix).
inline std::string FenceKeyName(std::string_view cluster_id) {
  return std::string(kFenceKeyPrefix) + std::string(cluster_id);
}

}  // namespace nds::store
