// CLI11 validators for numeric flags whose errors a person can act on (issue 11): the error names
// the flag, the value given and the accepted range in words, e.g.
//   nds: --idle-timeout-ms: 0 is out of range; give 1 to 86400000 (1 day); run 'nds start --help'
// instead of CLI11's "Value 0 not in range 0.000000 to 1797693...". CLI11 prefixes the flag name
// and ParseAndRun turns the error into exit status 2 (usage).
#pragma once

#include <cstdint>
#include <string_view>

#include <CLI/CLI.hpp>

namespace nds::cli {

// Accepts whole numbers in [lo, hi] written in decimal; `hi_words` says hi in words ("1 day"), or
// is empty. Anything else is refused: "X is out of range; give LO to HI (WORDS)" or "'X' is not a
// whole number; give ...".
CLI::Validator WholeInRange(uint64_t lo, uint64_t hi, std::string_view hi_words = {});

// The same for decimal numbers (seconds): "X is out of range; give 0.001 to 3600 (1 hour)".
CLI::Validator DecimalInRange(double lo, double hi, std::string_view hi_words = {});

}  // namespace nds::cli
