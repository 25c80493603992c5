// The flags of `nds start` that set Limits fields (every one is a flag), their environment
// variables (NDS_<FLAG>) and the --config FILE (TOML) they may also come from. The rest of
// `nds start` is in start_command.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "util/limits.h"

namespace nds::cli {

// A duration flag in milliseconds, 1 to `max_ms` (util/limits.h: no overflow of the clock).
void AddMillisFlag(CLI::App* app, const std::string& name, std::chrono::milliseconds* d,
                   const std::string& help, int64_t max_ms = kTimeoutMsMax,
                   std::string_view max_words = kTimeoutMsMaxWords);

// The HTTP, Raft, snapshot and disk limits of `l`, one flag each.
void AddLimitFlags(CLI::App* app, Limits* l);

// The RESP front's limits (docs/resp.md); --max-value-bytes bounds its bulk strings too.
void AddRespLimitFlags(CLI::App* app, Limits* l);

// The environment variable of a long flag: "--max-value-bytes" -> "NDS_MAX_VALUE_BYTES".
std::string FlagEnvName(std::string_view long_flag);

// Call after every other flag of `start` is added. Gives each flag its NDS_<FLAG> variable (a
// flag that has one already keeps it), adds --config FILE (TOML: `flag-name = value`, dashes or
// underscores; the command line wins over the environment, which wins over the file) and
// --print-config, which sets `*print_config`.
void AddConfigSources(CLI::App* start, bool* print_config);

// The flags' values after the command line, the environment and the file were applied, as a TOML
// file that --config reads back.
std::string EffectiveConfig(const CLI::App* start);

}  // namespace nds::cli
