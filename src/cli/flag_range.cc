// Numeric flag validators with errors in words: see flag_range.h.
#include "cli/flag_range.h"

#include <string>

#include <fmt/format.h>

#include "util/limits.h"

namespace nds::cli {

CLI::Validator WholeInRange(uint64_t lo, uint64_t hi, std::string_view hi_words) {
  return CLI::Validator([lo, hi, words = std::string(hi_words)](
                            std::string& text) { return WholeNumberError(text, lo, hi, words); },
                        RangeInWords(lo, hi, hi_words).substr(5), "RANGE");
}

CLI::Validator DecimalInRange(double lo, double hi, std::string_view hi_words) {
  return CLI::Validator([lo, hi, words = std::string(hi_words)](
                            std::string& text) { return DecimalNumberError(text, lo, hi, words); },
                        fmt::format("{} to {}", lo, hi), "RANGE");
}

}  // namespace nds::cli
