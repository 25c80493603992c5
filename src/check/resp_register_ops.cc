// The register operations over the Redis protocol (see register_ops.h): `nds check --protocol
// resp`. A small blocking RESP2 client: one connection per node, each call bounded by the request
// timeout, the connection dropped after any failure (its replies could no longer be matched).
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>
#include <vector>

#include <sys/socket.h>

#include "check/register_ops.h"

namespace nds::check {
namespace {

using Clock = std::chrono::steady_clock;

// Longest reply line or value taken: the workload's values are short.
constexpr size_t kReplyBytesMax = 1 << 20;

// One reply: a simple string ('+'), an error ('-'), an integer (':') or a bulk string ('$', null
// when absent).
struct RespReply {
  char type = 0;
  std::string text;
  bool null = false;
};

// Why a call failed: kUnavailable when nothing was sent (the operation surely did not run), else
// kTimeout or kIoError (it may have).
class RespLink {
 public:
  RespLink(std::string address, std::chrono::milliseconds timeout, std::string token)
      : address_(std::move(address)), timeout_(timeout), token_(std::move(token)) {}
  ~RespLink() { Close(); }
  RespLink(const RespLink&) = delete;
  RespLink& operator=(const RespLink&) = delete;

  Result<RespReply> Call(const std::vector<std::string_view>& args) {
    auto deadline = Clock::now() + timeout_;
    if (fd_ < 0) {
      Status s = Open(deadline);
      if (!s.ok()) {
        Close();
        return Unavailable("cannot reach " + address_ + ": " + s.message());
      }
    }
    Result<RespReply> r = Exchange(args, deadline);
    if (!r.ok()) Close();
    return r;
  }

 private:
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    in_.clear();
  }

  Status Open(Clock::time_point deadline) {
    size_t colon = address_.rfind(':');
    if (colon == std::string::npos) return InvalidArgument("not host:port: " + address_);
    std::string host = address_.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);  // an IPv6 address
    }
    std::string port = address_.substr(colon + 1);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
      return Unavailable(std::string("cannot resolve: ") + ::gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);
    fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return IoError(std::string("socket: ") + std::strerror(errno));
    if (::connect(fd_, found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS) {
      return Unavailable(std::strerror(errno));
    }
    NDS_RETURN_IF_ERROR(WaitFor(POLLOUT, deadline));
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Unavailable(std::strerror(err));
    if (token_.empty()) return Status::Ok();
    // Nothing of the operation has been sent yet: a failure here is "cannot reach" too.
    NDS_ASSIGN_OR_RETURN(RespReply auth, Exchange({"AUTH", token_}, deadline));
    if (auth.type != '+') return Unavailable("AUTH refused: " + auth.text);
    return Status::Ok();
  }

  Status WaitFor(short events, Clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return Timeout("no answer from " + address_ + " in time");
      pollfd p{fd_, events, 0};
      int rc = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
      if (rc > 0) return Status::Ok();
      if (rc < 0 && errno != EINTR) return IoError(std::string("poll: ") + std::strerror(errno));
    }
  }

  Result<RespReply> Exchange(const std::vector<std::string_view>& args,
                             Clock::time_point deadline) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (std::string_view a : args) {
      out += "$" + std::to_string(a.size()) + "\r\n";
      out.append(a);
      out += "\r\n";
    }
    for (size_t sent = 0; sent < out.size();) {
      ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        NDS_RETURN_IF_ERROR(WaitFor(POLLOUT, deadline));
      } else {
        return IoError(std::string("send: ") + std::strerror(errno));
      }
    }
    for (;;) {
      if (auto reply = TakeReply(); reply.ok() && reply->has_value())
        return std::move(**reply);
      else if (!reply.ok())
        return reply.status();
      if (in_.size() > kReplyBytesMax) return IoError("reply too long from " + address_);
      NDS_RETURN_IF_ERROR(WaitFor(POLLIN, deadline));
      char buf[16 << 10];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
      } else if (n == 0) {
        return IoError("connection closed by " + address_);
      } else if (errno != EAGAIN && errno != EINTR) {
        return IoError(std::string("recv: ") + std::strerror(errno));
      }
    }
  }

  // One whole reply from in_, nullopt while it is incomplete.
  Result<std::optional<RespReply>> TakeReply() {
    size_t eol = in_.find("\r\n");
    if (eol == std::string::npos) return std::optional<RespReply>();
    RespReply r;
    r.type = in_.empty() ? 0 : in_[0];
    std::string_view line(in_.data() + 1, eol - 1);
    if (r.type == '+' || r.type == '-' || r.type == ':') {
      r.text = line;
      in_.erase(0, eol + 2);
      return std::optional<RespReply>(std::move(r));
    }
    if (r.type != '$') return IoError("unexpected reply type from " + address_);
    int64_t len = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), len);
    if (ec != std::errc() || end != line.data() + line.size() || len < -1 ||
        len > static_cast<int64_t>(kReplyBytesMax)) {
      return IoError("bad bulk length from " + address_);
    }
    if (len == -1) {
      r.null = true;
      in_.erase(0, eol + 2);
      return std::optional<RespReply>(std::move(r));
    }
    size_t need = eol + 2 + static_cast<size_t>(len) + 2;
    if (in_.size() < need) return std::optional<RespReply>();
    r.text = in_.substr(eol + 2, static_cast<size_t>(len));
    in_.erase(0, need);
    return std::optional<RespReply>(std::move(r));
  }

  std::string address_;
  std::chrono::milliseconds timeout_;
  std::string token_;
  int fd_ = -1;
  std::string in_;
};

// Error replies that refuse a command without running it.
bool IsRefusal(const RespReply& r) {
  return r.text.starts_with("NOAUTH") || r.text.starts_with("NOPERM") ||
         r.text.starts_with("WRONGPASS");
}

WriteVerdict ClassifyRespWrite(const Result<RespReply>& reply, bool conditional) {
  if (!reply.ok()) {
    return {reply.status().code() == StatusCode::kUnavailable ? sim::OpOutcome::kFailed
                                                              : sim::OpOutcome::kIndeterminate,
            false};
  }
  if (reply->type == '+') return {sim::OpOutcome::kOk, true};
  // SET ... NX answers nil when the key exists: a definite "not swapped".
  if (reply->type == '$' && reply->null && conditional) return {sim::OpOutcome::kOk, false};
  if (reply->type == '-' && IsRefusal(*reply)) return {sim::OpOutcome::kFailed, false};
  // -TRYAGAIN (it may still take effect) and anything unexpected.
  return {sim::OpOutcome::kIndeterminate, false};
}

class RespRegisterOps final : public RegisterOps {
 public:
  explicit RespRegisterOps(const RegisterOpsOptions& o) : options_(o) {}

  ReadVerdict Read(const std::string& address, const std::string& key) override {
    ReadVerdict v;
    Result<RespReply> reply = CallOn(address, {"GET", key});
    if (!reply.ok()) {
      if (reply.status().code() == StatusCode::kUnavailable) v.outcome = sim::OpOutcome::kFailed;
      return v;
    }
    if (reply->type != '$') return v;  // an error reply observed nothing
    v.outcome = sim::OpOutcome::kOk;
    if (!reply->null) v.value = reply->text;
    return v;
  }

  WriteVerdict Write(const std::string& address, const std::string& key,
                     const std::string& value) override {
    return ClassifyRespWrite(CallOn(address, {"SET", key, value}), false);
  }

  // Redis compares nothing but presence: SET ... NX is a cas from the absent register only.
  bool CanCas(const SeenValue& seen) const override { return !seen.value; }

  WriteVerdict Cas(const std::string& address, const std::string& key, const std::string& value,
                   const SeenValue&) override {
    return ClassifyRespWrite(CallOn(address, {"SET", key, value, "NX"}), true);
  }

 private:
  // Sends `args` on the connection to the RESP address of the node at API address `address`;
  // kUnavailable (nothing sent) for a node whose RESP address is unknown.
  Result<RespReply> CallOn(const std::string& address, const std::vector<std::string_view>& args) {
    auto it = links_.find(address);
    if (it == links_.end()) {
      const std::map<std::string, std::string>* known = options_.resp_addresses;
      auto found = known != nullptr ? known->find(address)
                                    : std::map<std::string, std::string>::const_iterator();
      if (known == nullptr || found == known->end()) {
        return Unavailable("no RESP address is known for the node at " + address);
      }
      auto link =
          std::make_unique<RespLink>(found->second, options_.request_timeout, options_.auth_token);
      it = links_.emplace(address, std::move(link)).first;
    }
    return it->second->Call(args);
  }

  RegisterOpsOptions options_;
  std::map<std::string, std::unique_ptr<RespLink>> links_;  // by API address
};

}  // namespace

std::unique_ptr<RegisterOps> MakeRespRegisterOps(const RegisterOpsOptions& options) {
  return std::make_unique<RespRegisterOps>(options);
}

}  // namespace nds::check
