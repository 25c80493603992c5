// The one mapping from Status codes to HTTP answers (STYLE.md §3), and the JSON error body of the
// contract: {"error": "<short_code>", "message": "<what a person can act on>"}.
#pragma once

#include <string_view>

#include "net/http.h"
#include "util/status.h"

namespace nds::api {

// The HTTP status for a non-ok Status code (200 for ok).
int HttpStatusFor(StatusCode code);

// A JSON error answer with the given HTTP status; 503 answers carry Retry-After.
net::HttpResponse ErrorResponse(int http_status, std::string_view error_code,
                                std::string_view message);

// ErrorResponse(HttpStatusFor(s.code()), StatusCodeName(s.code()), s.message()).
net::HttpResponse ErrorResponse(const Status& s);

}  // namespace nds::api
