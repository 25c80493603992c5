// The RESP2 command parser, the reply writers and Redis's glob match (protocol.h).
#include "resp/protocol.h"

#include <charconv>

#include "util/hex.h"

namespace nds::resp {
namespace {

// Reads a decimal integer line body; nullopt unless it is all digits with an optional '-'.
std::optional<int64_t> LineInteger(std::string_view s) {
  int64_t v = 0;
  if (s.empty() || s.size() > 20) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Status ProtocolError(std::string_view what) {
  return InvalidArgument("Protocol error: " + std::string(what));
}

// The line starting at `pos` (without its CRLF) and the position after the CRLF; end == npos
// while the CRLF has not arrived. A line longer than `line_max` is an error.
struct Line {
  std::string_view text;
  size_t next = std::string_view::npos;
};

Result<Line> ReadLine(std::string_view in, size_t pos, size_t line_max, std::string_view what) {
  size_t cr = in.find("\r\n", pos);
  if (cr == std::string_view::npos) {
    if (in.size() - pos > line_max) return ProtocolError("too big " + std::string(what));
    return Line{};
  }
  if (cr - pos > line_max) return ProtocolError("too big " + std::string(what));
  return Line{in.substr(pos, cr - pos), cr + 2};
}

// Header lines ("*3", "$5") are short; a longer one is garbage, not a slow header.
constexpr size_t kHeaderLineBytesMax = 32;

Result<ParsedCommand> ParseMultibulk(std::string_view in, const ParserLimits& limits) {
  ParsedCommand out;
  NDS_ASSIGN_OR_RETURN(Line head, ReadLine(in, 1, kHeaderLineBytesMax, "mbulk count string"));
  if (head.next == std::string_view::npos) return out;
  std::optional<int64_t> count = LineInteger(head.text);
  if (!count || *count > static_cast<int64_t>(limits.array_elements_max)) {
    return ProtocolError("invalid multibulk length");
  }
  if (*count <= 0) {
    out.consumed_bytes = head.next;
    return out;
  }
  std::vector<std::string_view> views;
  views.reserve(static_cast<size_t>(std::min<int64_t>(*count, 1024)));
  size_t pos = head.next;
  for (int64_t i = 0; i < *count; ++i) {
    if (pos >= in.size()) return out;
    if (in[pos] != '$') {
      return ProtocolError(std::string("expected '$', got '") + in[pos] + "'");
    }
    NDS_ASSIGN_OR_RETURN(Line bulk, ReadLine(in, pos + 1, kHeaderLineBytesMax, "bulk length"));
    if (bulk.next == std::string_view::npos) return out;
    std::optional<int64_t> len = LineInteger(bulk.text);
    if (!len || *len < 0 || static_cast<uint64_t>(*len) > limits.bulk_bytes_max) {
      return ProtocolError("invalid bulk length");
    }
    size_t end = bulk.next + static_cast<size_t>(*len);
    if (end + 2 > limits.command_bytes_max) {
      return ProtocolError("command longer than " + std::to_string(limits.command_bytes_max) +
                           " bytes");
    }
    if (end + 2 > in.size()) return out;
    if (in[end] != '\r' || in[end + 1] != '\n') {
      return ProtocolError("bulk string not terminated by CRLF");
    }
    views.push_back(in.substr(bulk.next, static_cast<size_t>(*len)));
    pos = end + 2;
  }
  out.args.assign(views.begin(), views.end());
  out.consumed_bytes = pos;
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'; }

// Splits an inline command the way redis-cli and telnet users expect: words separated by
// spaces, "double quotes" with \n \r \t \b \a \\ \" \xHH escapes, 'single quotes' with \'.
Result<std::vector<std::string>> SplitInline(std::string_view line) {
  std::vector<std::string> args;
  size_t i = 0;
  auto unbalanced = [] { return ProtocolError("unbalanced quotes in request"); };
  for (;;) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    if (i == line.size()) return args;
    std::string arg;
    char quote = 0;
    for (;;) {
      if (i == line.size()) {
        if (quote) return unbalanced();
        break;
      }
      char c = line[i];
      if (quote == '"') {
        if (c == '\\' && i + 3 < line.size() && line[i + 1] == 'x' &&
            HexDigitValue(line[i + 2]) >= 0 && HexDigitValue(line[i + 3]) >= 0) {
          arg.push_back(
              static_cast<char>(HexDigitValue(line[i + 2]) * 16 + HexDigitValue(line[i + 3])));
          i += 4;
          continue;
        }
        if (c == '\\' && i + 1 < line.size()) {
          char e = line[i + 1];
          arg.push_back(e == 'n'   ? '\n'
                        : e == 'r' ? '\r'
                        : e == 't' ? '\t'
                        : e == 'b' ? '\b'
                        : e == 'a' ? '\a'
                                   : e);
          i += 2;
          continue;
        }
        if (c == '"') {
          ++i;
          if (i < line.size() && !IsSpace(line[i])) return unbalanced();
          break;
        }
        arg.push_back(c);
        ++i;
      } else if (quote == '\'') {
        if (c == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
          arg.push_back('\'');
          i += 2;
          continue;
        }
        if (c == '\'') {
          ++i;
          if (i < line.size() && !IsSpace(line[i])) return unbalanced();
          break;
        }
        arg.push_back(c);
        ++i;
      } else {
        if (IsSpace(c)) break;
        if ((c == '"' || c == '\'') && arg.empty()) {
          quote = c;
          ++i;
          continue;
        }
        arg.push_back(c);
        ++i;
      }
    }
    args.push_back(std::move(arg));
  }
}

Result<ParsedCommand> ParseInline(std::string_view in, const ParserLimits& limits) {
  ParsedCommand out;
  size_t nl = in.find('\n');
  if (nl == std::string_view::npos) {
    if (in.size() > limits.inline_bytes_max) return ProtocolError("too big inline request");
    return out;
  }
  if (nl > limits.inline_bytes_max) return ProtocolError("too big inline request");
  std::string_view line = in.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  NDS_ASSIGN_OR_RETURN(out.args, SplitInline(line));
  if (out.args.size() > limits.array_elements_max) {
    return ProtocolError("invalid multibulk length");
  }
  out.consumed_bytes = nl + 1;
  return out;
}

void AppendLine(std::string* out, char type, std::string_view s) {
  out->push_back(type);
  size_t start = out->size();
  out->append(s);
  for (size_t i = start; i < out->size(); ++i) {
    if ((*out)[i] == '\r' || (*out)[i] == '\n') (*out)[i] = ' ';
  }
  out->append("\r\n");
}

// One element of a glob pattern at `p`: whether it matches `c`; sets *width to its length.
bool ElementMatches(std::string_view pat, size_t p, char c, size_t* width) {
  if (pat[p] == '?') {
    *width = 1;
    return true;
  }
  if (pat[p] == '\\' && p + 1 < pat.size()) {
    *width = 2;
    return pat[p + 1] == c;
  }
  if (pat[p] != '[') {
    *width = 1;
    return pat[p] == c;
  }
  size_t i = p + 1;
  bool negate = i < pat.size() && pat[i] == '^';
  if (negate) ++i;
  bool hit = false;
  while (i < pat.size() && pat[i] != ']') {
    if (pat[i] == '\\' && i + 1 < pat.size()) {
      hit |= pat[i + 1] == c;
      i += 2;
    } else if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
      auto lo = static_cast<unsigned char>(pat[i]);
      auto hi = static_cast<unsigned char>(pat[i + 2]);
      if (lo > hi) std::swap(lo, hi);
      auto uc = static_cast<unsigned char>(c);
      hit |= uc >= lo && uc <= hi;
      i += 3;
    } else {
      hit |= pat[i] == c;
      ++i;
    }
  }
  *width = (i < pat.size() ? i + 1 : i) - p;  // an unclosed class ends with the pattern
  return hit != negate;
}

}  // namespace

Result<ParsedCommand> ParseCommand(std::string_view in, const ParserLimits& limits) {
  if (in.empty()) return ParsedCommand{};
  if (in.front() == '*') return ParseMultibulk(in, limits);
  return ParseInline(in, limits);
}

void AppendSimpleString(std::string* out, std::string_view s) { AppendLine(out, '+', s); }

void AppendError(std::string* out, std::string_view message) { AppendLine(out, '-', message); }

void AppendInteger(std::string* out, int64_t n) {
  out->push_back(':');
  out->append(std::to_string(n));
  out->append("\r\n");
}

void AppendBulk(std::string* out, std::string_view s) {
  out->push_back('$');
  out->append(std::to_string(s.size()));
  out->append("\r\n");
  out->append(s);
  out->append("\r\n");
}

void AppendNullBulk(std::string* out) { out->append("$-1\r\n"); }

void AppendArrayHeader(std::string* out, size_t count) {
  out->push_back('*');
  out->append(std::to_string(count));
  out->append("\r\n");
}

bool GlobMatch(std::string_view pat, std::string_view s) {
  // Greedy matching with one remembered star: each other element consumes exactly one byte, so
  // retrying from the last star is enough and the work is O(|pat| * |s|).
  size_t p = 0;
  size_t i = 0;
  size_t star_p = std::string_view::npos;
  size_t star_i = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == '*') {
      while (p < pat.size() && pat[p] == '*') ++p;
      star_p = p;
      star_i = i;
      continue;
    }
    size_t width = 0;
    if (p < pat.size() && ElementMatches(pat, p, s[i], &width)) {
      p += width;
      ++i;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    i = ++star_i;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace nds::resp
