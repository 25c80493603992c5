// RespService: the commands of the RESP front (docs/resp.md) on top of node::Node and nothing
// below it, beside the HTTP front (api/). It checks each command's arguments, builds the same
// store commands as HTTP (new atomic ones for INCR, APPEND, SET ... GET, MSET and DEL) or reads
// the engine after a linearizable read point, and answers in Redis's own words.
//
// Thread-safe: Execute() runs on any io thread; completions from the node run on its threads.
// A Session belongs to one connection and is read or changed only inside Execute, before it
// returns. Owns the SCAN cursors; the node outlives it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "node/node.h"
#include "resp/scan_cursors.h"
#include "resp/token_gate.h"
#include "util/limits.h"

namespace nds::resp {

struct RespOptions {
  Limits limits;
  std::string version = NDS_VERSION;
  // A replacement for the cluster's tokens (tests). Unset: the cluster's tokens decide
  // (token_gate.h): in a cluster made without --auth, AUTH answers that no password is configured
  // and every command is allowed; with --auth, a connection must AUTH with a token before any
  // command but AUTH, HELLO and QUIT, and each command is checked against the token's role.
  // Set: a connection must AUTH (or HELLO ... AUTH) before any command but AUTH, HELLO and QUIT;
  // the function gets the user name ("default" when none was given) and the password, and
  // returns ok or why not. Called on an io thread: it must not block.
  std::function<Status(std::string_view user, std::string_view password)> authenticate;
  // The time lease `id` has left by this node's lease keeper (api::LeaseKeeper::Remaining), for
  // TTL and PTTL; unset or std::nullopt: the lease's whole TTL is answered.
  std::function<std::optional<std::chrono::milliseconds>(uint64_t id)> lease_remaining;
};

// What a connection remembers between commands. Owned by the connection; not thread-safe.
struct Session {
  uint64_t id = 0;
  std::string name;                 // CLIENT SETNAME
  bool authenticated = false;       // through RespOptions::authenticate
  std::optional<TokenGrant> grant;  // through the cluster's tokens (token_gate.h)
  // Set by the connection while it runs reads after a read point it waited for itself, for a
  // batch of pipelined reads (server.cc): the reads then read at once instead of each waiting
  // for a read point of its own.
  bool at_read_point = false;
};

struct Reply {
  std::string bytes;   // one or more encoded RESP values
  bool close = false;  // close the connection once the reply is written (QUIT)
};
using ReplyCallback = std::function<void(Reply)>;

// What a command does to the store. A connection runs its commands in the order sent: reads
// after the writes sent before them have completed, writes after the reads sent before them have
// read (server.cc), while commands of one kind in a row are in flight together (pipelining).
enum class CommandKind {
  kLocal,  // touches no key (PING, CLIENT, INFO, unknown commands ...)
  kRead,   // reads keys after a read point
  kWrite,  // one store command in the log
};

class RespService {
 public:
  // `node` must outlive the service.
  RespService(node::Node* node, RespOptions options);

  // Runs one command (args[0] is its name, any case; args is not empty). `done` runs exactly
  // once, from this thread or a node thread, with the reply.
  void Execute(Session* session, std::vector<std::string> args, ReplyCallback done);

  // The node's read point (node::Node::WaitForReadPoint), for a connection that batches reads.
  void WaitForReadPoint(node::ReadCallback done) { node_->WaitForReadPoint(std::move(done)); }

  const RespOptions& options() const { return options_; }

  // The kind of the command `name` (any case); kLocal for an unknown one.
  static CommandKind KindOf(std::string_view name);

 private:
  using Args = std::vector<std::string>;
  using Handler = void (RespService::*)(Session*, Args&, ReplyCallback&);
  struct CommandSpec {
    std::string_view name;
    // Redis's arity: n > 0 exactly n arguments with the name; n < 0 at least -n.
    int arity;
    CommandKind kind;
    Handler handler;
  };
  static const CommandSpec* FindCommand(std::string_view lower_name);

  // Runs `then` on the engine once every write acknowledged before is visible, and answers with
  // what it returns; an error reply when no read point could be had. At once, on this thread,
  // when `session` is at a read point already (Session::at_read_point).
  void Read(const Session* session, ReplyCallback& done, std::function<Reply()> then);
  // Submits `cmd` and answers with what `on_result` makes of its outcome. A user write of a
  // session with a token carries the token (store::Command::authorized_by).
  void Submit(const Session* session, store::Command cmd, ReplyCallback& done,
              std::function<Reply(const store::ApplyResult&)> on_result);

  // service.cc: the connection commands.
  void Ping(Session*, Args&, ReplyCallback&);
  void Echo(Session*, Args&, ReplyCallback&);
  void Quit(Session*, Args&, ReplyCallback&);
  void Select(Session*, Args&, ReplyCallback&);
  void Hello(Session*, Args&, ReplyCallback&);
  Reply HelloAt(Session* session, const Args& args);  // HELLO at its read point
  void Auth(Session*, Args&, ReplyCallback&);
  void Client(Session*, Args&, ReplyCallback&);
  void Config(Session*, Args&, ReplyCallback&);
  void Command(Session*, Args&, ReplyCallback&);
  // service_strings.cc: the string commands.
  void Get(Session*, Args&, ReplyCallback&);
  void Set(Session*, Args&, ReplyCallback&);
  void SetNx(Session*, Args&, ReplyCallback&);
  void GetSet(Session*, Args&, ReplyCallback&);
  void Del(Session*, Args&, ReplyCallback&);
  void Exists(Session*, Args&, ReplyCallback&);
  void MGet(Session*, Args&, ReplyCallback&);
  void MSet(Session*, Args&, ReplyCallback&);
  void Incr(Session*, Args&, ReplyCallback&);
  void Append(Session*, Args&, ReplyCallback&);
  void StrLen(Session*, Args&, ReplyCallback&);
  // service_expiry.cc: key expiry on leases (TTL PTTL EXPIRETIME PEXPIRETIME PERSIST EXPIRE
  // PEXPIRE EXPIREAT PEXPIREAT SETEX PSETEX; SET's EX PX EXAT PXAT KEEPTTL).
  void Ttl(Session*, Args&, ReplyCallback&);
  void Persist(Session*, Args&, ReplyCallback&);
  void Expire(Session*, Args&, ReplyCallback&);
  void SetEx(Session*, Args&, ReplyCallback&);
  // Parses an expiry in `unit_ms` (1000 for seconds, 1 for ms), absolute when `at` (a Unix time):
  // the TTL in ms from now (at most 0 for an absolute time passed), or the error reply for a value
  // that is not an integer, is not positive (relative), or is above --max-lease-ttl-ms.
  std::variant<int64_t, Reply> ParseExpiry(std::string_view text, int64_t unit_ms, bool at,
                                           std::string_view command) const;
  // service_keys.cc: the key space and the server.
  void Scan(Session*, Args&, ReplyCallback&);
  void Keys(Session*, Args&, ReplyCallback&);
  void DbSize(Session*, Args&, ReplyCallback&);
  void FlushDb(Session*, Args&, ReplyCallback&);
  void Info(Session*, Args&, ReplyCallback&);
  void Role(Session*, Args&, ReplyCallback&);

  // auth.cc: who may run what.
  // Empty when `session` may run command `name` of `kind`; else the error reply.
  std::string Refusal(Session* session, std::string_view name, CommandKind kind);
  // Authenticates `session` with `password` (and `user`, ignored by the cluster's tokens): ok;
  // kNotFound for a wrong one (WRONGPASS); kFailedPrecondition when no password is configured
  // (a cluster made without --auth) or the token cannot be used over RESP, with the reason.
  Status Authenticate(Session* session, std::string_view user, std::string_view password);
  // The cluster's mode, cached once known (it never changes after the cluster's first entry).
  Result<AuthMode> Mode();

  node::Node* node_;
  const RespOptions options_;
  ScanCursors cursors_;
  // -1 unknown yet, else an AuthMode (kOn or kOff). Any thread.
  std::atomic<int> mode_cache_{-1};
};

// Reply helpers shared by the command files.
Reply OkReply();
Reply ErrorReply(std::string_view message);  // message starts with its code: "ERR ..."
Reply IntegerReply(int64_t n);
Reply BulkReply(std::string_view s);
Reply NullReply();
// A failed Status in Redis's words: -TRYAGAIN when the cluster cannot answer now, else -ERR.
Reply StatusReply(const Status& s);
// A key nds cannot store (empty, or longer than kKeyBytesMax): the error reply, else nullopt.
std::optional<Reply> CheckKey(std::string_view key);
// ASCII lower case of a command or option name.
std::string Lower(std::string_view s);

}  // namespace nds::resp
