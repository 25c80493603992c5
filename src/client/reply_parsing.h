// Parsers for the JSON and header values of the server's replies (docs/api.md): revisions from
// X-Revision and ETag, the /keys page, /status, /cluster/members and the secret store reply.
// Pure functions over untrusted bytes: every malformed input is a kIoError naming the reply,
// never a crash. Any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/client.h"
#include "util/status.h"

namespace nds::client {

// Decimal digits only (no sign, no spaces) that fit in 64 bits, else nullopt.
std::optional<uint64_t> ParseDecimal(std::string_view text);

// A revision written as decimal digits, bare (X-Revision: 17) or as an entity tag ("17", with an
// optional W/ prefix). nullopt for anything else.
std::optional<uint64_t> ParseRevision(std::string_view text);

// {"keys": [base64...], "next": base64?} as sent for ?encoding=base64.
Result<ListPage> ParseKeysPage(std::string_view body);

// The /status object. Fields missing or of another type keep their defaults; ids and numbers may
// be JSON numbers or decimal strings. kIoError when the body is not a JSON object.
Result<NodeStatus> ParseNodeStatus(std::string_view body);

// The /cluster/members list (a JSON array, or an object holding it under "members"). Accepts
// "voter": bool, "learner": bool or a "role"/"suffrage" of "voter"/"learner"; "peer_address" or
// "peer"; "api_address" or "api"; "behind", "behind_entries" or "lag" for how far behind.
Result<std::vector<MemberInfo>> ParseMembers(std::string_view body);

// The POST /cluster/members reply {"id": N, "cluster_id": "...", "members": [...]}; kIoError
// when it is not an object or has no non-zero id.
Result<JoinReply> ParseJoinReply(std::string_view body);

// The key of a POST /secrets reply {"id": ..., "key": "..."}.
Result<std::string> ParseSecretKey(std::string_view body);

}  // namespace nds::client
