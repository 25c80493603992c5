// Text from outside (HTTP request lines, paths, header values, names and addresses a joining
// node or a peer claims) made safe to write into a log line: a newline in it cannot start a
// forged log line, a terminal escape cannot reach an operator's terminal, and a huge value
// cannot flood the log. Every log call that prints outside input goes through EscapeForLog.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nds {

// Bytes of outside text a log line shows by default; the rest is cut.
inline constexpr size_t kLogTextBytesMax = 256;

// Returns `text` with every byte that is not printable ASCII and not part of a well-formed UTF-8
// sequence written as \xHH, and the backslash written as \\ (so that an escape in the output
// always means an escaped byte). Control characters (below 0x20, and 0x7f) are escaped too, and
// so are the C1 controls U+0080..U+009F. When `text` is longer than `max_bytes` bytes, only its
// first `max_bytes` bytes are shown (never cutting a UTF-8 sequence) followed by
// "...(N bytes)" with N the full length. The result is at most about 4 * max_bytes + 24 bytes.
std::string EscapeForLog(std::string_view text, size_t max_bytes = kLogTextBytesMax);

}  // namespace nds
