// HTTP status to Status mapping (see http_error.h).
#include "client/http_error.h"

#include <charconv>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "client/encoding.h"

namespace nds::client {
namespace {

constexpr size_t kPlainMessageBytesMax = 200;

StatusCode CodeForHttp(int http_status) {
  switch (http_status) {
    case 400:
    case 401:  // no join token: the caller must supply one
    case 403:  // a wrong join token
    case 405:
    case 414:
    case 431:
      return StatusCode::kInvalidArgument;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kAlreadyExists;
    case 412:
      return StatusCode::kFailedPrecondition;
    case 413:
    case 429:
      return StatusCode::kResourceExhausted;
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kTimeout;
    case 507:
      return StatusCode::kNoSpace;
    default:
      return StatusCode::kIoError;
  }
}

// The JSON body's "message" (or its "error" code when no message), else empty.
std::string JsonMessage(const std::string& body) {
  if (body.empty() || body.front() != '{') return {};
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return {};
  for (const char* field : {"message", "error"}) {
    const auto it = doc.find(field);
    if (it != doc.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      return it->get<std::string>();
    }
  }
  return {};
}

}  // namespace

Status StatusFromReply(const HttpReply& reply) {
  NDS_CHECK(reply.status < 200 || reply.status >= 300, "status {}", reply.status);
  std::string message = JsonMessage(reply.body);
  if (message.empty() && !reply.body.empty()) {
    const std::string_view first_line =
        std::string_view(reply.body).substr(0, reply.body.find_first_of("\r\n"));
    message = EscapeForMessage(first_line, kPlainMessageBytesMax);
  }
  if (message.empty()) message = fmt::format("HTTP {}", reply.status);
  return Status(CodeForHttp(reply.status), std::move(message));
}

std::optional<std::chrono::seconds> RetryAfter(const HttpReply& reply) {
  const std::string_view text = reply.Header("retry-after");
  if (text.empty()) return std::nullopt;
  uint32_t seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return std::chrono::seconds(seconds);
}

}  // namespace nds::client
