// Assertions that stay on in every build (STYLE.md §6).
//
// NDS_CHECK(cond) aborts with file:line and the expression when `cond` is false; an optional fmt
// message may follow: NDS_CHECK(a < b, "a={} b={}", a, b). It guards programmer errors only: input
// from outside (HTTP, peers, files, flags) is validated into a Status and must never reach a check.
// NDS_DCHECK is for expensive checks: on in debug, sanitizer and simulator builds
// (NDS_DEBUG_CHECKS).
#pragma once

#include <string_view>

#include <fmt/core.h>

namespace nds::internal {

[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, std::string_view msg);

inline std::string FormatCheckMessage() { return {}; }

template <typename... Args>
std::string FormatCheckMessage(fmt::format_string<Args...> f, Args&&... args) {
  return fmt::format(f, std::forward<Args>(args)...);
}

}  // namespace nds::internal

#define NDS_CHECK(cond, ...)                                                          \
  do {                                                                                \
    if (!(cond)) [[unlikely]] {                                                       \
      ::nds::internal::CheckFailed(__FILE__, __LINE__, #cond,                         \
                                   ::nds::internal::FormatCheckMessage(__VA_ARGS__)); \
    }                                                                                 \
  } while (false)

#if defined(NDS_DEBUG_CHECKS)
#define NDS_DCHECK(cond, ...) NDS_CHECK(cond, ##__VA_ARGS__)
#else
#define NDS_DCHECK(cond, ...) \
  do {                        \
  } while (false && (cond))
#endif
