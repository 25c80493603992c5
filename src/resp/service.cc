// Command dispatch, the reply helpers, the Status mapping and the connection commands (PING,
// ECHO, QUIT, SELECT, HELLO, AUTH, CLIENT, CONFIG GET, COMMAND).
#include "resp/service.h"

#include <algorithm>
#include <array>

#include "resp/protocol.h"

namespace nds::resp {
namespace {

// The only database: SELECT 0 works, any other index is refused as Redis refuses one out of range.
constexpr std::string_view kNoSuchDb = "ERR DB index is out of range";

}  // namespace

// A wrong password in Redis's words; kFailedPrecondition (no password configured, a token with
// a prefix) with its reason; other errors (the engine, no read point) as StatusReply does.
static Reply AuthRefusal(const Status& s) {
  if (s.code() == StatusCode::kNotFound) {
    return ErrorReply("WRONGPASS invalid username-password pair or user is disabled.");
  }
  if (s.code() == StatusCode::kFailedPrecondition) return ErrorReply("ERR " + s.message());
  return StatusReply(s);
}

Reply OkReply() { return Reply{"+OK\r\n", false}; }

Reply ErrorReply(std::string_view message) {
  Reply r;
  AppendError(&r.bytes, message);
  return r;
}

Reply IntegerReply(int64_t n) {
  Reply r;
  AppendInteger(&r.bytes, n);
  return r;
}

Reply BulkReply(std::string_view s) {
  Reply r;
  AppendBulk(&r.bytes, s);
  return r;
}

Reply NullReply() { return Reply{"$-1\r\n", false}; }

Reply StatusReply(const Status& s) {
  switch (s.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kTimeout:
    case StatusCode::kNotLeader:
    case StatusCode::kCancelled:
    case StatusCode::kNoQuorum:
    case StatusCode::kRemoved:
      // Redis's code for "this cannot be done right now, try again": the write may still take
      // effect later when it timed out (docs/resp.md).
      return ErrorReply("TRYAGAIN " + s.message());
    case StatusCode::kNoSpace:
      return ErrorReply("ERR no space left on the data disk: " + s.message());
    default:
      return ErrorReply("ERR " + s.message());
  }
}

std::optional<Reply> CheckKey(std::string_view key) {
  if (key.empty()) return ErrorReply("ERR empty keys are not supported: a key is 1 to 1024 bytes");
  if (key.size() > kKeyBytesMax) {
    return ErrorReply("ERR key of " + std::to_string(key.size()) + " bytes is longer than " +
                      std::to_string(kKeyBytesMax) + " bytes");
  }
  return std::nullopt;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

CommandKind RespService::KindOf(std::string_view name) {
  const CommandSpec* spec = FindCommand(Lower(name));
  return spec == nullptr ? CommandKind::kLocal : spec->kind;
}

RespService::RespService(node::Node* node, RespOptions options)
    : node_(node), options_(std::move(options)), cursors_(options_.limits.resp_scan_cursors_max) {}

const RespService::CommandSpec* RespService::FindCommand(std::string_view lower_name) {
  static constexpr std::array<CommandSpec, 42> kCommands = {{
      {"append", 3, CommandKind::kWrite, &RespService::Append},
      // AUTH and HELLO run at a read point, as reads do: a token created on another node a moment
      // ago is then found (docs/security.md).
      {"auth", -2, CommandKind::kRead, &RespService::Auth},
      {"client", -2, CommandKind::kLocal, &RespService::Client},
      {"command", -1, CommandKind::kLocal, &RespService::Command},
      {"config", -2, CommandKind::kLocal, &RespService::Config},
      {"dbsize", 1, CommandKind::kRead, &RespService::DbSize},
      {"decr", 2, CommandKind::kWrite, &RespService::Incr},
      {"decrby", 3, CommandKind::kWrite, &RespService::Incr},
      {"del", -2, CommandKind::kWrite, &RespService::Del},
      {"echo", 2, CommandKind::kLocal, &RespService::Echo},
      {"exists", -2, CommandKind::kRead, &RespService::Exists},
      {"expire", -3, CommandKind::kWrite, &RespService::Expire},
      {"expireat", -3, CommandKind::kWrite, &RespService::Expire},
      {"flushall", -1, CommandKind::kWrite, &RespService::FlushDb},
      {"flushdb", -1, CommandKind::kWrite, &RespService::FlushDb},
      {"get", 2, CommandKind::kRead, &RespService::Get},
      {"getset", 3, CommandKind::kWrite, &RespService::GetSet},
      {"hello", -1, CommandKind::kRead, &RespService::Hello},
      {"incr", 2, CommandKind::kWrite, &RespService::Incr},
      {"incrby", 3, CommandKind::kWrite, &RespService::Incr},
      {"info", -1, CommandKind::kLocal, &RespService::Info},
      {"keys", 2, CommandKind::kRead, &RespService::Keys},
      {"mget", -2, CommandKind::kRead, &RespService::MGet},
      {"mset", -3, CommandKind::kWrite, &RespService::MSet},
      {"persist", 2, CommandKind::kWrite, &RespService::Persist},
      {"pexpire", -3, CommandKind::kWrite, &RespService::Expire},
      {"pexpireat", -3, CommandKind::kWrite, &RespService::Expire},
      {"ping", -1, CommandKind::kLocal, &RespService::Ping},
      {"psetex", 4, CommandKind::kWrite, &RespService::SetEx},
      {"pttl", 2, CommandKind::kRead, &RespService::Ttl},
      {"quit", -1, CommandKind::kLocal, &RespService::Quit},
      {"role", 1, CommandKind::kLocal, &RespService::Role},
      {"scan", -2, CommandKind::kRead, &RespService::Scan},
      {"select", 2, CommandKind::kLocal, &RespService::Select},
      {"set", -3, CommandKind::kWrite, &RespService::Set},
      {"setex", 4, CommandKind::kWrite, &RespService::SetEx},
      {"setnx", 3, CommandKind::kWrite, &RespService::SetNx},
      {"strlen", 2, CommandKind::kRead, &RespService::StrLen},
      {"ttl", 2, CommandKind::kRead, &RespService::Ttl},
      {"unlink", -2, CommandKind::kWrite, &RespService::Del},
      {"expiretime", 2, CommandKind::kRead, &RespService::Ttl},
      {"pexpiretime", 2, CommandKind::kRead, &RespService::Ttl},
  }};
  for (const CommandSpec& c : kCommands) {
    if (c.name == lower_name) return &c;
  }
  return nullptr;
}

void RespService::Execute(Session* session, std::vector<std::string> args, ReplyCallback done) {
  std::string name = Lower(args.front());
  const CommandSpec* spec = FindCommand(name);
  if (spec == nullptr) {
    // Redis's words: the name and the first arguments, each cut short.
    std::string message =
        "ERR unknown command '" + args.front().substr(0, 128) + "', with args beginning with: ";
    for (size_t i = 1; i < args.size() && message.size() < 256; ++i) {
      message += "'" + args[i].substr(0, 64) + "' ";
    }
    return done(ErrorReply(message));
  }
  int n = static_cast<int>(std::min<size_t>(args.size(), 1 << 30));
  if ((spec->arity > 0 && n != spec->arity) || (spec->arity < 0 && n < -spec->arity)) {
    return done(ErrorReply("ERR wrong number of arguments for '" + name + "' command"));
  }
  if (std::string refused = Refusal(session, name, spec->kind); !refused.empty()) {
    return done(ErrorReply(refused));
  }
  args.front() = std::move(name);
  (this->*(spec->handler))(session, args, done);
}

void RespService::Read(const Session* session, ReplyCallback& done, std::function<Reply()> then) {
  if (session->at_read_point) return done(then());
  node_->WaitForReadPoint([done = std::move(done), then = std::move(then)](const Status& s) {
    done(s.ok() ? then() : StatusReply(s));
  });
}

void RespService::Submit(const Session* session, store::Command cmd, ReplyCallback& done,
                         std::function<Reply(const store::ApplyResult&)> on_result) {
  // As over HTTP: applied only while the session's token is unchanged (docs/security.md).
  if (session->grant && store::IsUserWrite(cmd.type)) {
    cmd.authorized_by = store::Command::Authorization{
        session->grant->name, store::TokenRecordDigest(session->grant->stored)};
  }
  node_->Submit(std::move(cmd), [done = std::move(done),
                                 on_result = std::move(on_result)](const store::ApplyResult& r) {
    done(r.token_refused ? ErrorReply("NOAUTH the token was revoked; AUTH with another")
                         : on_result(r));
  });
}

void RespService::Ping(Session*, Args& args, ReplyCallback& done) {
  if (args.size() > 2) return done(ErrorReply("ERR wrong number of arguments for 'ping' command"));
  if (args.size() == 2) return done(BulkReply(args[1]));
  done(Reply{"+PONG\r\n", false});
}

void RespService::Echo(Session*, Args& args, ReplyCallback& done) { done(BulkReply(args[1])); }

void RespService::Quit(Session*, Args&, ReplyCallback& done) {
  Reply r = OkReply();
  r.close = true;
  done(std::move(r));
}

void RespService::Select(Session*, Args& args, ReplyCallback& done) {
  if (args[1] != "0") {
    auto n = store::ParseDecimalInt64(args[1]);
    return done(ErrorReply(n ? kNoSuchDb : "ERR value is not an integer or out of range"));
  }
  done(OkReply());
}

void RespService::Auth(Session* session, Args& args, ReplyCallback& done) {
  if (args.size() > 3) return done(ErrorReply("ERR syntax error"));
  std::string user = args.size() == 3 ? std::move(args[1]) : "default";
  // Looked up after a read point: every token the cluster had committed when AUTH arrived is
  // known, wherever it was created. The session changes here, on the connection's strand: the
  // server runs AUTH as a read, at a read point it already holds.
  Read(session, done, [this, session, user = std::move(user), password = std::move(args.back())] {
    Status s = Authenticate(session, user, password);
    return s.ok() ? OkReply() : AuthRefusal(s);
  });
}

void RespService::Hello(Session* session, Args& args, ReplyCallback& done) {
  Read(session, done, [this, session, args = std::move(args)] { return HelloAt(session, args); });
}

Reply RespService::HelloAt(Session* session, const Args& args) {
  size_t i = 1;
  if (args.size() > 1) {
    auto version = store::ParseDecimalInt64(args[1]);
    if (!version) return ErrorReply("ERR Protocol version is not an integer or out of range");
    // RESP3 is not spoken: Redis's own answer makes clients fall back to RESP2.
    if (*version != 2) return ErrorReply("NOPROTO unsupported protocol version");
    i = 2;
  }
  for (; i < args.size(); ++i) {
    std::string opt = Lower(args[i]);
    if (opt == "auth" && i + 2 < args.size()) {
      Status s = Authenticate(session, args[i + 1], args[i + 2]);
      if (!s.ok()) return AuthRefusal(s);
      i += 2;
    } else if (opt == "setname" && i + 1 < args.size()) {
      session->name = args[++i];
    } else {
      return ErrorReply("ERR Syntax error in HELLO option '" + args[i].substr(0, 64) + "'");
    }
  }
  if (std::string refused = Refusal(session, "hello-reply", CommandKind::kLocal);
      !refused.empty()) {
    return ErrorReply(
        "NOAUTH HELLO must be called with the client already authenticated, "
        "otherwise the HELLO <proto> AUTH <user> <pass> option can be used");
  }
  node::NodeStatus st = node_->GetStatus();
  Reply r;
  AppendArrayHeader(&r.bytes, 14);
  AppendBulk(&r.bytes, "server");
  AppendBulk(&r.bytes, "nds");
  AppendBulk(&r.bytes, "version");
  AppendBulk(&r.bytes, options_.version);
  AppendBulk(&r.bytes, "proto");
  AppendInteger(&r.bytes, 2);
  AppendBulk(&r.bytes, "id");
  AppendInteger(&r.bytes, static_cast<int64_t>(session->id));
  AppendBulk(&r.bytes, "mode");
  AppendBulk(&r.bytes, "standalone");
  AppendBulk(&r.bytes, "role");
  AppendBulk(&r.bytes, st.role == node::Role::kLeader ? "master" : "replica");
  AppendBulk(&r.bytes, "modules");
  AppendArrayHeader(&r.bytes, 0);
  return r;
}

void RespService::Client(Session* session, Args& args, ReplyCallback& done) {
  std::string sub = Lower(args[1]);
  if (sub == "setname" && args.size() == 3) {
    if (std::any_of(args[2].begin(), args[2].end(), [](char c) { return c <= ' ' || c > '~'; })) {
      return done(
          ErrorReply("ERR Client names cannot contain spaces, newlines or special "
                     "characters."));
    }
    session->name = args[2].substr(0, 256);
    return done(OkReply());
  }
  if (sub == "getname" && args.size() == 2) {
    return done(session->name.empty() ? NullReply() : BulkReply(session->name));
  }
  if (sub == "id" && args.size() == 2) return done(IntegerReply(static_cast<int64_t>(session->id)));
  // Client libraries announce themselves on connect; there is nothing to record.
  if (sub == "setinfo" && args.size() == 4) return done(OkReply());
  done(ErrorReply("ERR unknown subcommand or wrong number of arguments for '" +
                  args[1].substr(0, 64) + "'. Try CLIENT SETNAME, GETNAME, ID."));
}

void RespService::Config(Session*, Args& args, ReplyCallback& done) {
  if (Lower(args[1]) != "get" || args.size() != 3) {
    return done(ErrorReply("ERR CONFIG supports only GET here: nds is configured by its flags"));
  }
  // What redis-benchmark asks at start. Every write is in the fsynced Raft log of a quorum
  // before it is acknowledged (like appendfsync always); there are no RDB saves.
  std::string param = Lower(args[2]);
  Reply r;
  if (param == "appendonly" || param == "save") {
    AppendArrayHeader(&r.bytes, 2);
    AppendBulk(&r.bytes, param);
    AppendBulk(&r.bytes, param == "appendonly" ? "yes" : "");
  } else {
    AppendArrayHeader(&r.bytes, 0);
  }
  done(std::move(r));
}

void RespService::Command(Session*, Args& args, ReplyCallback& done) {
  // redis-cli asks COMMAND DOCS for its hints; an empty answer means "no hints".
  if (args.size() >= 2 && Lower(args[1]) == "count") return done(IntegerReply(42));
  Reply r;
  AppendArrayHeader(&r.bytes, 0);
  done(std::move(r));
}

}  // namespace nds::resp
