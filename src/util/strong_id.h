// Distinct integer types for Raft's term, log index and node id (STYLE.md §2): swapping two of them
// does not compile. Arithmetic is explicit through .value.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

#include <fmt/format.h>

namespace nds {

template <typename Tag>
struct StrongId {
  uint64_t value = 0;

  constexpr StrongId() = default;
  constexpr explicit StrongId(uint64_t v) : value(v) {}
  constexpr auto operator<=>(const StrongId&) const = default;
  constexpr StrongId Next() const { return StrongId(value + 1); }
  constexpr StrongId Prev() const { return StrongId(value - 1); }
};

struct TermTag {};
struct LogIndexTag {};
struct NodeIdTag {};

using Term = StrongId<TermTag>;
using LogIndex = StrongId<LogIndexTag>;
// 0 means "no node" (e.g. no vote cast, no known leader).
using NodeId = StrongId<NodeIdTag>;

inline constexpr NodeId kNoNode{0};

// For GoogleTest failure messages.
template <typename Tag>
std::ostream& operator<<(std::ostream& os, const StrongId<Tag>& id) {
  return os << id.value;
}

}  // namespace nds

template <typename Tag>
struct std::hash<nds::StrongId<Tag>> {
  size_t operator()(const nds::StrongId<Tag>& id) const noexcept {
    return std::hash<uint64_t>()(id.value);
  }
};

template <typename Tag>
struct fmt::formatter<nds::StrongId<Tag>> : fmt::formatter<uint64_t> {
  template <typename Ctx>
  auto format(const nds::StrongId<Tag>& id, Ctx& ctx) const {
    return fmt::formatter<uint64_t>::format(id.value, ctx);
  }
};
