// The listing parameters shared by /keys and the streamed bulk routes (API.md "Listing"):
// prefix, after (exclusive), limit, and encoding=base64. Pure functions.
#pragma once

#include "api/json_text.h"
#include "api/uri.h"
#include "store/scanner.h"
#include "util/status.h"

namespace nds::api {

struct ListingOptions {
  store::ScanOptions scan;  // scan.limit == 0 when the request gave none
  StringEncoding encoding = StringEncoding::kLossyUtf8;
};

// kInvalidArgument when limit is not a number in [1, 10000] or encoding is not "base64"/"utf8".
Result<ListingOptions> ParseListing(const Target& target);

}  // namespace nds::api
