// Maps a server's HTTP error reply to a typed Status (docs/api.md "Errors"): the code from the
// status line, the message from the JSON body's "message". Pure functions: any thread.
#pragma once

#include <chrono>
#include <optional>

#include "client/http_types.h"
#include "util/status.h"

namespace nds::client {

// Precondition: reply.status is not 2xx. 400/401/403/405/414/431 -> kInvalidArgument, 404 ->
// kNotFound, 409 -> kAlreadyExists, 412 -> kFailedPrecondition, 413/429 -> kResourceExhausted,
// 503 -> kUnavailable, 504 -> kTimeout, 507 -> kNoSpace, anything else -> kIoError. The message is
// the body's JSON "message" when there is one, else the body's first line (bounded), else
// "HTTP <code>".
Status StatusFromReply(const HttpReply& reply);

// The wait a 503's Retry-After asks for (delta-seconds only), or nullopt when it is absent or
// not a number of seconds.
std::optional<std::chrono::seconds> RetryAfter(const HttpReply& reply);

}  // namespace nds::client
