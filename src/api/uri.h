// Request targets: splitting path and query, percent-decoding (API.md "Conventions": the decoded
// bytes are the key; query parameters are form-decoded, '+' is a space). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace nds::api {

// Decodes %XX escapes (and '+' as a space when `plus_is_space`). kInvalidArgument on a bad escape.
Result<std::string> PercentDecode(std::string_view in, bool plus_is_space);

// Encodes every byte except unreserved characters and '/' (for Location headers).
std::string PercentEncodePath(std::string_view bytes);

struct Target {
  std::string_view path;  // still encoded; a view into the request target
  std::vector<std::pair<std::string, std::string>> query;  // decoded

  // The first value of a parameter, or std::nullopt when absent.
  std::optional<std::string_view> Param(std::string_view name) const;
};

// kInvalidArgument when the target is not origin-form or a query part does not decode.
Result<Target> ParseTarget(std::string_view target);

}  // namespace nds::api
