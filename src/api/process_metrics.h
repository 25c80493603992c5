// The process_* families of /metrics (the names Prometheus client libraries use): CPU seconds,
// resident and virtual memory, open and maximum file descriptors, start time. Read from
// /proc/self on every scrape; a figure that cannot be read is left out.
// Thread-safe (reads only).
#pragma once

#include <string>

namespace nds::api {

// Appends the families, each with # HELP and # TYPE, in the Prometheus text format.
void AppendProcessMetrics(std::string* out);

}  // namespace nds::api
