// NameThisThread: gives the calling thread a name the operating system shows (Linux: the comm of
// /proc/PID/task/TID, which `top -H`, `ps -L`, `perf report --sort comm` and gdb print). Every
// long-lived thread of a node names itself "nds-<role>" (docs/operations.md "Threads").
//
// Thread-safe: names only the calling thread.
#pragma once

#include <string_view>

namespace nds {

// The kernel keeps at most this many bytes of a name; the rest is cut off.
inline constexpr size_t kThreadNameBytesMax = 15;

// Best effort: a name the kernel refuses changes nothing else.
void NameThisThread(std::string_view name);

}  // namespace nds
