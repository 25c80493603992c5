// Writing keys and values into JSON answers (API.md "Key-value"): strings are UTF-8, so bytes that
// are not valid UTF-8 become U+FFFD (lossy, documented), unless the request asked for
// ?encoding=base64, which writes every string as standard base64, exactly. Also counts Unicode
// code points for the /set limits. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "util/base64.h"

namespace nds::api {

enum class StringEncoding { kLossyUtf8, kBase64 };

// Appends `bytes` as a quoted JSON string in the chosen encoding.
void AppendJsonString(std::string* out, std::string_view bytes, StringEncoding encoding);

// The number of code points in UTF-8 text; each byte that is not part of a valid sequence counts
// as one.
size_t CodePointCount(std::string_view text);

}  // namespace nds::api
