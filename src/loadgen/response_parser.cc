// Incremental HTTP/1.1 response parsing (see response_parser.h).
#include "loadgen/response_parser.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "util/ascii.h"

namespace nds::loadgen {
namespace {

constexpr size_t kChunkLineBytesMax = 1024;  // size, extensions and CRLF
constexpr size_t kTrailerBytesMax = 16 << 10;

bool ContainsTokenIgnoreCase(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (EqualsIgnoreCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

ResponseParser::ResponseParser(ResponseLimits limits) : limits_(std::move(limits)) {}

void ResponseParser::Reset(ResponseLimits limits) {
  limits_ = std::move(limits);
  state_ = State::kHeader;
  line_.clear();
  remaining_bytes_ = 0;
  trailer_bytes_ = 0;
  response_ = Response{};
}

Result<size_t> ResponseParser::Feed(std::string_view data) {
  size_t used = 0;
  while (used < data.size() && state_ != State::kDone) {
    std::string_view rest = data.substr(used);
    switch (state_) {
      case State::kHeader: {
        // Search from a little before the old end: the blank line may straddle two reads.
        const size_t search_from = line_.size() >= 3 ? line_.size() - 3 : 0;
        const size_t room =
            limits_.header_bytes_max - std::min(limits_.header_bytes_max, line_.size());
        const size_t take = std::min(rest.size(), room + 4);
        line_.append(rest.substr(0, take));
        const size_t end = line_.find("\r\n\r\n", search_from);
        if (end == std::string::npos) {
          if (line_.size() > limits_.header_bytes_max) {
            return ResourceExhausted(
                fmt::format("response header longer than {} bytes", limits_.header_bytes_max));
          }
          used += take;
          break;
        }
        const size_t head_bytes = end + 4;
        if (head_bytes > limits_.header_bytes_max) {
          return ResourceExhausted(
              fmt::format("response header longer than {} bytes", limits_.header_bytes_max));
        }
        used += take - (line_.size() - head_bytes);
        const std::string head = line_.substr(0, head_bytes);
        line_.clear();
        NDS_RETURN_IF_ERROR(ParseHead(head));
        break;
      }
      case State::kBodyLength: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(rest.size(), remaining_bytes_));
        NDS_RETURN_IF_ERROR(TakeBody(rest.substr(0, take)));
        remaining_bytes_ -= take;
        used += take;
        if (remaining_bytes_ == 0) state_ = State::kDone;
        break;
      }
      case State::kBodyUntilClose:
        NDS_RETURN_IF_ERROR(TakeBody(rest));
        used += rest.size();
        break;
      case State::kChunkSize: {
        bool complete = false;
        NDS_ASSIGN_OR_RETURN(const size_t n, TakeLine(rest, kChunkLineBytesMax, &complete));
        used += n;
        if (complete) NDS_RETURN_IF_ERROR(OnChunkSizeLine());
        break;
      }
      case State::kChunkData: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(rest.size(), remaining_bytes_));
        NDS_RETURN_IF_ERROR(TakeBody(rest.substr(0, take)));
        remaining_bytes_ -= take;
        used += take;
        if (remaining_bytes_ == 0) state_ = State::kChunkDataEnd;
        break;
      }
      case State::kChunkDataEnd: {
        bool complete = false;
        NDS_ASSIGN_OR_RETURN(const size_t n, TakeLine(rest, 2, &complete));
        used += n;
        if (complete) {
          if (!line_.empty()) return IoError("chunk data not followed by CRLF");
          state_ = State::kChunkSize;
        }
        break;
      }
      case State::kTrailers: {
        bool complete = false;
        NDS_ASSIGN_OR_RETURN(const size_t n, TakeLine(rest, kTrailerBytesMax, &complete));
        used += n;
        trailer_bytes_ += n;
        if (trailer_bytes_ > kTrailerBytesMax) {
          return ResourceExhausted(fmt::format("trailers longer than {} bytes", kTrailerBytesMax));
        }
        if (complete) {
          if (line_.empty()) state_ = State::kDone;  // the blank line ends the message
          line_.clear();
        }
        break;
      }
      case State::kDone:
        break;
    }
  }
  return used;
}

Status ResponseParser::FeedEof() {
  if (state_ == State::kBodyUntilClose) {
    state_ = State::kDone;
    return Status::Ok();
  }
  if (state_ == State::kDone) return Status::Ok();
  if (state_ == State::kHeader) {
    return Unavailable(
        fmt::format("connection closed after {} bytes of a response header", line_.size()));
  }
  return Unavailable(
      fmt::format("connection closed after {} bytes of a response body", response_.body_bytes));
}

Result<size_t> ResponseParser::TakeLine(std::string_view data, size_t line_bytes_max,
                                        bool* complete) {
  *complete = false;
  const size_t newline = data.find('\n');
  const size_t take = newline == std::string_view::npos ? data.size() : newline + 1;
  if (line_.size() + take > line_bytes_max + 2) {
    return ResourceExhausted(
        fmt::format("chunk framing line longer than {} bytes", line_bytes_max));
  }
  line_.append(data.substr(0, take));
  if (newline == std::string_view::npos) return take;
  if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
    return IoError("chunk framing line not ended by CRLF");
  }
  line_.resize(line_.size() - 2);
  *complete = true;
  return take;
}

Status ResponseParser::OnChunkSizeLine() {
  std::string_view text = line_;
  text = Trim(text.substr(0, text.find(';')));
  uint64_t size = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size, 16);
  if (text.empty() || text.size() > 15 || ec != std::errc() || end != text.data() + text.size()) {
    return IoError("malformed chunk size line");
  }
  line_.clear();
  if (size == 0) {
    state_ = State::kTrailers;
    return Status::Ok();
  }
  if (response_.body_bytes + size > limits_.body_bytes_max) {
    return ResourceExhausted(
        fmt::format("response body longer than {} bytes", limits_.body_bytes_max));
  }
  remaining_bytes_ = size;
  state_ = State::kChunkData;
  return Status::Ok();
}

Status ResponseParser::TakeBody(std::string_view bytes) {
  if (response_.body_bytes + bytes.size() > limits_.body_bytes_max) {
    return ResourceExhausted(
        fmt::format("response body longer than {} bytes", limits_.body_bytes_max));
  }
  response_.body_bytes += bytes.size();
  if (limits_.keep_body) response_.body.append(bytes);
  if (limits_.on_body && !bytes.empty()) limits_.on_body(bytes);
  return Status::Ok();
}

Status ResponseParser::ParseHead(std::string_view head) {
  // Status line: HTTP/1.x SP 3DIGIT [SP reason] CRLF
  const size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") || status_line[8] != ' ' ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    return IoError("malformed response status line");
  }
  const std::optional<uint64_t> code = ParseDecimal(status_line.substr(9, 3));
  if (!code || *code < 100 || *code > 599) return IoError("malformed response status code");
  response_ = Response{};
  response_.status_code = static_cast<int>(*code);
  response_.connection_close = status_line[7] == '0';  // HTTP/1.0 closes unless told otherwise

  bool chunked = false;
  std::optional<uint64_t> content_length;
  std::string_view rest = head.substr(line_end + 2);
  while (!rest.empty() && !rest.starts_with("\r\n")) {
    const size_t end = rest.find("\r\n");
    NDS_RETURN_IF_ERROR(ParseHeaderLine(rest.substr(0, end), &chunked, &content_length));
    rest.remove_prefix(end + 2);
  }

  if (response_.status_code < 200) {  // interim: the real response follows
    state_ = State::kHeader;
    return Status::Ok();
  }
  if (response_.status_code == 204 || response_.status_code == 304) {
    state_ = State::kDone;
  } else if (chunked) {
    state_ = State::kChunkSize;
  } else if (content_length) {
    if (*content_length > limits_.body_bytes_max) {
      return ResourceExhausted(
          fmt::format("response body of {} bytes is over the limit of {} bytes", *content_length,
                      limits_.body_bytes_max));
    }
    remaining_bytes_ = *content_length;
    state_ = remaining_bytes_ == 0 ? State::kDone : State::kBodyLength;
  } else {
    response_.connection_close = true;
    state_ = State::kBodyUntilClose;
  }
  return Status::Ok();
}

Status ResponseParser::ParseHeaderLine(std::string_view line, bool* chunked,
                                       std::optional<uint64_t>* content_length) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return IoError("malformed response header");
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = Trim(line.substr(colon + 1));
  if (EqualsIgnoreCase(name, "content-length")) {
    const std::optional<uint64_t> n = ParseDecimal(value);
    if (!n || (content_length->has_value() && **content_length != *n)) {
      return IoError("malformed or conflicting Content-Length");
    }
    *content_length = n;
  } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
    *chunked = ContainsTokenIgnoreCase(value, "chunked");
    if (!*chunked) return IoError("unsupported Transfer-Encoding");
  } else if (EqualsIgnoreCase(name, "connection")) {
    if (ContainsTokenIgnoreCase(value, "close")) response_.connection_close = true;
    if (ContainsTokenIgnoreCase(value, "keep-alive")) response_.connection_close = false;
  } else if (EqualsIgnoreCase(name, "x-revision")) {
    response_.revision = ParseDecimal(value);
  } else if (EqualsIgnoreCase(name, "etag") && !response_.revision) {
    if (value.size() >= 3 && value.front() == '"' && value.back() == '"') {
      response_.revision = ParseDecimal(value.substr(1, value.size() - 2));
    }
  }
  return Status::Ok();
}

}  // namespace nds::loadgen
