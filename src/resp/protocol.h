// RESP2, the Redis serialisation protocol, as the RESP front (docs/resp.md) speaks it: a parser
// of client commands (multibulk arrays of bulk strings, and inline commands typed by hand) with
// limits on every size, and the writer of replies.
//
// The parser never trusts a length: a bulk longer than bulk_bytes_max, an array longer than
// array_elements_max, a line longer than inline_bytes_max or a command whose bytes exceed
// command_bytes_max is a protocol error, reported in Redis's own words ("Protocol error: ..."),
// after which the connection must be closed. It keeps no state between calls: the caller keeps
// the unparsed bytes and calls again when more arrive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace nds::resp {

struct ParserLimits {
  size_t bulk_bytes_max = 16 << 20;
  size_t array_elements_max = 1 << 20;
  size_t inline_bytes_max = 64 << 10;
  // Every byte of one command, headers included: what a connection buffers at most.
  size_t command_bytes_max = 32 << 20;
};

// One parsed command: its arguments (the command name first), or none for an empty line or an
// empty array, which Redis skips without a reply.
struct ParsedCommand {
  size_t consumed_bytes = 0;  // 0: the input holds no complete command yet
  std::vector<std::string> args;
};

// Parses the first command of `in`. Returns consumed_bytes == 0 while the command is incomplete
// (and within the limits), else the command and its size. kInvalidArgument with the message to
// send after "-ERR " for malformed input or a broken limit; the stream cannot be resynchronised.
Result<ParsedCommand> ParseCommand(std::string_view in, const ParserLimits& limits);

// Reply writers: each appends one RESP2 value to `out`. Simple strings and errors cannot carry
// CR or LF; the writer turns them into spaces.
void AppendSimpleString(std::string* out, std::string_view s);
// `message` starts with the error code: "ERR ...", "WRONGTYPE ...", "NOAUTH ...".
void AppendError(std::string* out, std::string_view message);
void AppendInteger(std::string* out, int64_t n);
void AppendBulk(std::string* out, std::string_view s);
void AppendNullBulk(std::string* out);
void AppendArrayHeader(std::string* out, size_t count);

// Redis's glob-style pattern match (KEYS, SCAN MATCH): * ? [abc] [^a-z] and \ escapes. Runs in
// time bounded by |pattern| * |s| (no backtracking blow-up).
bool GlobMatch(std::string_view pattern, std::string_view s);

}  // namespace nds::resp
