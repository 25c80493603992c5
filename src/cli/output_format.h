// The three output forms of the client subcommands that print data (`-o text|json|table`,
// docs/cli.md "Output"): text for people and line tools (the default), json for scripts (one
// JSON document on stdout), table for people (aligned columns under a header row).
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace nds::cli {

enum class OutputFormat { kText, kJson, kTable };

// "text", "json" or "table"; kInvalidArgument otherwise.
Result<OutputFormat> ParseOutputFormat(const std::string& text);

// Rows under `header`, every column as wide as its widest cell plus two spaces (the last
// column unpadded), each line ending in '\n'. Rows shorter than the header are padded with "-".
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

}  // namespace nds::cli
