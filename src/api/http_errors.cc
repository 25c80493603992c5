// Status → HTTP, and JSON error bodies.
#include "api/http_errors.h"

#include "api/json_text.h"

namespace nds::api {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 412;
    case StatusCode::kResourceExhausted:
      return 413;
    case StatusCode::kNoSpace:
      return 507;
    case StatusCode::kIoError:
    case StatusCode::kCorruption:
      return 500;
    case StatusCode::kNotLeader:
    case StatusCode::kUnavailable:
    case StatusCode::kTimeout:
    case StatusCode::kCancelled:
    case StatusCode::kNoQuorum:
    case StatusCode::kRemoved:
      return 503;
  }
  return 500;
}

net::HttpResponse ErrorResponse(int http_status, std::string_view error_code,
                                std::string_view message) {
  net::HttpResponse r;
  r.status = http_status;
  r.SetHeader("Content-Type", "application/json");
  if (http_status == 503) r.SetHeader("Retry-After", "1");
  r.body = "{\"error\":";
  AppendJsonString(&r.body, error_code, StringEncoding::kLossyUtf8);
  r.body += ",\"message\":";
  AppendJsonString(&r.body, message, StringEncoding::kLossyUtf8);
  r.body += "}\n";
  return r;
}

net::HttpResponse ErrorResponse(const Status& s) {
  return ErrorResponse(HttpStatusFor(s.code()), StatusCodeName(s.code()), s.message());
}

}  // namespace nds::api
