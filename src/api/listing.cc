// Parsing of listing parameters.
#include "api/listing.h"

#include <charconv>

#include "util/limits.h"

namespace nds::api {

Result<ListingOptions> ParseListing(const Target& target) {
  ListingOptions o;
  if (auto p = target.Param("prefix")) o.scan.prefix = *p;
  if (auto a = target.Param("after")) o.scan.after = std::string(*a);
  if (auto l = target.Param("limit")) {
    size_t v = 0;
    auto [ptr, ec] = std::from_chars(l->data(), l->data() + l->size(), v);
    if (ec != std::errc() || ptr != l->data() + l->size() || v == 0 || v > kListLimitMax) {
      return InvalidArgument("limit must be a whole number from 1 to " +
                             std::to_string(kListLimitMax));
    }
    o.scan.limit = v;
  }
  if (auto e = target.Param("encoding")) {
    if (*e == "base64") {
      o.encoding = StringEncoding::kBase64;
    } else if (*e != "utf8") {
      return InvalidArgument("encoding must be 'base64' or 'utf8'");
    }
  }
  return o;
}

}  // namespace nds::api
