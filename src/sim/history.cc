// Recording and the text form of client operation histories (see history.h).
#include "sim/history.h"

#include <charconv>
#include <utility>

#include <fmt/format.h>

namespace nds::sim {

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kRead:
      return "read";
    case OpKind::kWrite:
      return "write";
    case OpKind::kCas:
      return "cas";
  }
  return "?";
}

std::string_view OpOutcomeName(OpOutcome outcome) {
  switch (outcome) {
    case OpOutcome::kPending:
      return "pending";
    case OpOutcome::kOk:
      return "ok";
    case OpOutcome::kFailed:
      return "failed";
    case OpOutcome::kIndeterminate:
      return "indeterminate";
  }
  return "?";
}

namespace {

std::string Quote(const std::optional<std::string>& v) {
  if (!v) return "nil";
  // Values in histories are short identifiers; cap what we print so a blob cannot flood a report.
  constexpr size_t kShownBytesMax = 32;
  std::string s = v->substr(0, kShownBytesMax);
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return fmt::format("'{}'{}", s, v->size() > kShownBytesMax ? "..." : "");
}

}  // namespace

std::string DescribeOperation(const Operation& op) {
  std::string what;
  switch (op.kind) {
    case OpKind::kRead:
      what = fmt::format("read({})", op.key);
      if (op.outcome == OpOutcome::kOk) what += "=" + Quote(op.value);
      break;
    case OpKind::kWrite:
      what = fmt::format("write({}, {})", op.key, Quote(op.value));
      break;
    case OpKind::kCas:
      what = fmt::format("cas({}, {}->{})", op.key, Quote(op.expected), Quote(op.value));
      if (op.outcome == OpOutcome::kOk) what += op.cas_swapped ? "=swapped" : "=mismatch";
      break;
  }
  std::string when = (op.outcome == OpOutcome::kOk || op.outcome == OpOutcome::kFailed)
                         ? fmt::format("[{},{}]", op.invoke_time, op.complete_time)
                         : fmt::format("[{},...]", op.invoke_time);
  return fmt::format("c{} {} {} {}", op.client_id, what, when, OpOutcomeName(op.outcome));
}

Status History::CheckTime(uint64_t time) const {
  if (time < last_time_) {
    return InvalidArgument(
        fmt::format("time {} is before time {} already recorded", time, last_time_));
  }
  return Status::Ok();
}

Result<size_t> History::Invoke(Operation op, uint64_t time) {
  if (ops_.size() >= ops_max_) {
    return ResourceExhausted(fmt::format("history holds its maximum of {} operations", ops_max_));
  }
  NDS_RETURN_IF_ERROR(CheckTime(time));
  last_time_ = time;
  op.invoke_time = time;
  op.complete_time = 0;
  op.outcome = OpOutcome::kPending;
  op.cas_swapped = false;
  if (op.kind == OpKind::kRead) op.value.reset();
  if (op.kind != OpKind::kCas) op.expected.reset();
  ops_.push_back(std::move(op));
  return ops_.size() - 1;
}

Result<Operation*> History::PendingOp(size_t handle) {
  if (handle >= ops_.size()) {
    return InvalidArgument(fmt::format("no operation with handle {}", handle));
  }
  Operation* op = &ops_[handle];
  if (op->outcome != OpOutcome::kPending) {
    return InvalidArgument(
        fmt::format("operation {} is already {}", handle, OpOutcomeName(op->outcome)));
  }
  return op;
}

Status History::CompleteOk(size_t handle, uint64_t time, std::optional<std::string> observed,
                           bool cas_swapped) {
  NDS_ASSIGN_OR_RETURN(Operation * op, PendingOp(handle));
  NDS_RETURN_IF_ERROR(CheckTime(time));
  last_time_ = time;
  op->complete_time = time;
  op->outcome = OpOutcome::kOk;
  if (op->kind == OpKind::kRead) op->value = std::move(observed);
  if (op->kind == OpKind::kCas) op->cas_swapped = cas_swapped;
  return Status::Ok();
}

Status History::CompleteFailed(size_t handle, uint64_t time) {
  NDS_ASSIGN_OR_RETURN(Operation * op, PendingOp(handle));
  NDS_RETURN_IF_ERROR(CheckTime(time));
  last_time_ = time;
  op->complete_time = time;
  op->outcome = OpOutcome::kFailed;
  return Status::Ok();
}

Status History::CompleteIndeterminate(size_t handle, uint64_t time) {
  NDS_ASSIGN_OR_RETURN(Operation * op, PendingOp(handle));
  NDS_RETURN_IF_ERROR(CheckTime(time));
  last_time_ = time;
  op->complete_time = time;
  op->outcome = OpOutcome::kIndeterminate;
  return Status::Ok();
}

// Text form, one operation a line, fields separated by single spaces:
//   client kind key value expected swapped invoke complete outcome
// kind and outcome are their names; key, value and expected are "x" followed by lowercase hex of
// the bytes, or "-" for no value; swapped is 0 or 1.
namespace {

std::string Hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "x";
  out.reserve(1 + 2 * s.size());
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

std::string HexOpt(const std::optional<std::string>& v) { return v ? Hex(*v) : "-"; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> Unhex(std::string_view s) {
  if (s.empty() || s[0] != 'x' || s.size() % 2 != 1) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 2);
  for (size_t i = 1; i < s.size(); i += 2) {
    int hi = HexDigit(s[i]);
    int lo = HexDigit(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

constexpr size_t kFieldsPerLine = 9;

Result<Operation> ParseLine(std::string_view line) {
  std::string_view f[kFieldsPerLine];
  size_t n = 0;
  while (!line.empty()) {
    if (n == kFieldsPerLine) return InvalidArgument("too many fields");
    size_t sp = line.find(' ');
    f[n++] = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  }
  if (n != kFieldsPerLine) return InvalidArgument(fmt::format("{} fields, want 9", n));
  Operation op;
  if (!ParseU64(f[0], &op.client_id)) return InvalidArgument("bad client id");
  if (f[1] == "read") {
    op.kind = OpKind::kRead;
  } else if (f[1] == "write") {
    op.kind = OpKind::kWrite;
  } else if (f[1] == "cas") {
    op.kind = OpKind::kCas;
  } else {
    return InvalidArgument("bad kind");
  }
  std::optional<std::string> key = Unhex(f[2]);
  if (!key) return InvalidArgument("bad key");
  op.key = std::move(*key);
  for (int i : {3, 4}) {
    std::optional<std::string>& dst = i == 3 ? op.value : op.expected;
    if (f[i] == "-") continue;
    dst = Unhex(f[i]);
    if (!dst) return InvalidArgument(i == 3 ? "bad value" : "bad expected");
  }
  if (f[5] != "0" && f[5] != "1") return InvalidArgument("bad swapped flag");
  op.cas_swapped = f[5] == "1";
  if (!ParseU64(f[6], &op.invoke_time)) return InvalidArgument("bad invoke time");
  if (!ParseU64(f[7], &op.complete_time)) return InvalidArgument("bad complete time");
  if (f[8] == "pending") {
    op.outcome = OpOutcome::kPending;
  } else if (f[8] == "ok") {
    op.outcome = OpOutcome::kOk;
  } else if (f[8] == "failed") {
    op.outcome = OpOutcome::kFailed;
  } else if (f[8] == "indeterminate") {
    op.outcome = OpOutcome::kIndeterminate;
  } else {
    return InvalidArgument("bad outcome");
  }
  return op;
}

}  // namespace

std::string History::ToText() const {
  std::string out;
  for (const Operation& op : ops_) {
    out += fmt::format("{} {} {} {} {} {} {} {} {}\n", op.client_id, OpKindName(op.kind),
                       Hex(op.key), HexOpt(op.value), HexOpt(op.expected), op.cas_swapped ? 1 : 0,
                       op.invoke_time, op.complete_time, OpOutcomeName(op.outcome));
  }
  return out;
}

Result<std::vector<Operation>> ParseHistory(std::string_view text, size_t ops_max) {
  std::vector<Operation> ops;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty()) continue;
    if (ops.size() >= ops_max) {
      return ResourceExhausted(fmt::format("history has more than {} operations", ops_max));
    }
    Result<Operation> op = ParseLine(line);
    if (!op.ok()) {
      return InvalidArgument(
          fmt::format("history line {}: {}", line_number, op.status().message()));
    }
    ops.push_back(std::move(op).value());
  }
  return ops;
}

}  // namespace nds::sim
