// Status and Result<T>: how operating errors travel (STYLE.md §3).
//
// A Status is ok or one code of a small closed set plus a message that names the thing that failed.
// Result<T> holds a T or a non-ok Status. Both are [[nodiscard]]; a deliberately ignored Status is
// spelled IgnoreError(status, "why"). Code in nds does not throw: errors are values.
// Not thread-safe per object (values are copied across threads, never shared).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "util/check.h"

namespace nds {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,  // a compare-and-swap mismatch or a violated precondition header
  kResourceExhausted,   // a limit was hit (too large, too many in flight)
  kNoSpace,             // the disk is full: the write could not be made durable
  kIoError,
  kCorruption,
  kNotLeader,
  kUnavailable,
  kTimeout,
  kCancelled,
  kNoQuorum,  // too few members reachable to commit or confirm anything (503 no_quorum)
  kRemoved,   // this node was removed from its cluster (503 removed)
};

// Returns the snake_case name of `code` (e.g. "not_found"); valid for the program's lifetime.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {
    NDS_CHECK(code != StatusCode::kOk || message_.empty());
  }

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not_found: key of 12 bytes" or "ok".
  std::string ToString() const;

  bool operator==(const Status& o) const { return code_ == o.code_ && message_ == o.message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgument(std::string msg);
Status NotFound(std::string msg);
Status AlreadyExists(std::string msg);
Status FailedPrecondition(std::string msg);
Status ResourceExhausted(std::string msg);
Status NoSpace(std::string msg);
Status IoError(std::string msg);
Status Corruption(std::string msg);
Status NotLeader(std::string msg);
Status Unavailable(std::string msg);
Status NoQuorum(std::string msg);
Status Removed(std::string msg);
Status Timeout(std::string msg);
Status Cancelled(std::string msg);

// Marks a Status as deliberately ignored; `why` documents the reason at the call site.
inline void IgnoreError(const Status& /*status*/, std::string_view /*why*/) {}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like absl::StatusOr
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    NDS_CHECK(!std::get<Status>(v_).ok(), "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error; Status::Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  // Precondition: ok(). Checked in every build.
  T& value() & {
    NDS_CHECK(ok(), "{}", std::get<Status>(v_).ToString());
    return std::get<T>(v_);
  }
  const T& value() const& {
    NDS_CHECK(ok(), "{}", std::get<Status>(v_).ToString());
    return std::get<T>(v_);
  }
  T&& value() && {
    NDS_CHECK(ok(), "{}", std::get<Status>(v_).ToString());
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace nds

#define NDS_STATUS_CONCAT_INNER(a, b) a##b
#define NDS_STATUS_CONCAT(a, b) NDS_STATUS_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function when it is not ok.
#define NDS_RETURN_IF_ERROR(expr)       \
  do {                                  \
    ::nds::Status nds_status_ = (expr); \
    if (!nds_status_.ok()) [[unlikely]] \
      return nds_status_;               \
  } while (false)

// Evaluates `rexpr` (a Result<T>); on error returns its Status, else moves the value into `lhs`,
// which may be a declaration: NDS_ASSIGN_OR_RETURN(auto file, fs->Open(path));
// NOLINTBEGIN(bugprone-macro-parentheses): lhs may be a declaration, which cannot be parenthesised.
#define NDS_ASSIGN_OR_RETURN(lhs, rexpr) \
  NDS_ASSIGN_OR_RETURN_IMPL(NDS_STATUS_CONCAT(nds_result_, __LINE__), lhs, rexpr)
#define NDS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                              \
  if (!tmp.ok()) [[unlikely]]                      \
    return tmp.status();                           \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
