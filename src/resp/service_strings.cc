// The string commands: GET SET SETNX GETSET DEL UNLINK EXISTS MGET MSET INCR INCRBY DECR DECRBY
// APPEND STRLEN (the expiry commands are in service_expiry.cc).
//
// Writes are store commands decided in the log (store/applier_resp.cc); reads wait for the node's
// linearizable read point, exactly as HTTP reads do. A key nds cannot hold (empty, or longer
// than 1024 bytes) is an error on a write and simply absent on a read.
#include "resp/protocol.h"
#include "resp/service.h"
#include "store/keyspace.h"

namespace nds::resp {
namespace {

constexpr std::string_view kSyntax = "ERR syntax error";
constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";

// The value under `key` after the read point: nullopt when absent (or impossible as a key).
Result<std::optional<std::string>> ReadValue(const engine::Engine& engine, std::string_view key) {
  if (CheckKey(key)) return std::optional<std::string>();
  NDS_ASSIGN_OR_RETURN(std::optional<std::string> bytes, engine.Get(store::DataKey(key)));
  if (!bytes) return std::optional<std::string>();
  NDS_ASSIGN_OR_RETURN(store::RecordView rec, store::DecodeRecord(*bytes));
  return std::optional<std::string>(std::string(rec.value));
}

bool IsPreconditionFailure(const Status& s) {
  return s.code() == StatusCode::kAlreadyExists || s.code() == StatusCode::kNotFound;
}

// SET without GET: OK, or nil when NX or XX kept the write from happening.
Reply SetReply(const store::ApplyResult& r) {
  if (r.status.ok()) return OkReply();
  return IsPreconditionFailure(r.status) ? NullReply() : StatusReply(r.status);
}

// SET ... GET: the old value, as Redis 7 answers also when NX or XX kept the write from happening.
Reply SetGetReply(const store::ApplyResult& r) {
  if (!r.status.ok() && !IsPreconditionFailure(r.status)) return StatusReply(r.status);
  return r.old_value ? BulkReply(*r.old_value) : NullReply();
}

}  // namespace

void RespService::Get(Session* session, Args& args, ReplyCallback& done) {
  Read(session, done, [this, key = std::move(args[1])] {
    auto value = ReadValue(node_->engine(), key);
    if (!value.ok()) return StatusReply(value.status());
    return *value ? BulkReply(**value) : NullReply();
  });
}

void RespService::Set(Session* session, Args& args, ReplyCallback& done) {
  if (auto bad = CheckKey(args[1])) return done(std::move(*bad));
  store::Precondition pre = store::Precondition::kNone;
  bool get = false;
  bool keep_ttl = false;
  std::optional<int64_t> ttl_ms;  // EX PX EXAT PXAT
  for (size_t i = 3; i < args.size(); ++i) {
    std::string opt = Lower(args[i]);
    if (opt == "nx" || opt == "xx") {
      if (pre != store::Precondition::kNone) return done(ErrorReply(kSyntax));
      pre = opt == "nx" ? store::Precondition::kMustNotExist : store::Precondition::kMustExist;
    } else if (opt == "get") {
      get = true;
    } else if (opt == "keepttl") {
      if (ttl_ms) return done(ErrorReply(kSyntax));
      keep_ttl = true;
    } else if (opt == "ex" || opt == "px" || opt == "exat" || opt == "pxat") {
      if (ttl_ms || keep_ttl || i + 1 == args.size()) return done(ErrorReply(kSyntax));
      auto parsed = ParseExpiry(args[++i], opt[0] == 'e' ? 1000 : 1, opt.size() == 4, "set");
      if (auto* bad = std::get_if<Reply>(&parsed)) return done(std::move(*bad));
      // A time already passed: the key is set and expires at the keeper's next look.
      ttl_ms = std::max<int64_t>(std::get<int64_t>(parsed), 1);
    } else {
      return done(ErrorReply(kSyntax));
    }
  }
  store::Command cmd;
  if (ttl_ms || keep_ttl) {
    cmd = store::PutExpiringCommand(std::move(args[1]), std::move(args[2]), pre,
                                    ttl_ms ? static_cast<uint64_t>(*ttl_ms) : 0, get,
                                    options_.limits.leases_max);
  } else if (get) {
    cmd = store::PutReturnOldCommand(std::move(args[1]), std::move(args[2]), pre);
  } else {
    cmd = store::PutCommand(std::move(args[1]), std::move(args[2]), "", pre);
  }
  Submit(session, std::move(cmd), done, get ? SetGetReply : SetReply);
}

void RespService::SetNx(Session* session, Args& args, ReplyCallback& done) {
  if (auto bad = CheckKey(args[1])) return done(std::move(*bad));
  Submit(session,
         store::PutCommand(std::move(args[1]), std::move(args[2]), "",
                           store::Precondition::kMustNotExist),
         done, [](const store::ApplyResult& r) {
           if (r.status.ok()) return IntegerReply(1);
           return IsPreconditionFailure(r.status) ? IntegerReply(0) : StatusReply(r.status);
         });
}

void RespService::GetSet(Session* session, Args& args, ReplyCallback& done) {
  if (auto bad = CheckKey(args[1])) return done(std::move(*bad));
  Submit(session,
         store::PutReturnOldCommand(std::move(args[1]), std::move(args[2]),
                                    store::Precondition::kNone),
         done, [](const store::ApplyResult& r) {
           if (!r.status.ok()) return StatusReply(r.status);
           return r.old_value ? BulkReply(*r.old_value) : NullReply();
         });
}

void RespService::Del(Session* session, Args& args, ReplyCallback& done) {
  std::vector<std::string> keys;
  size_t bytes = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    if (auto bad = CheckKey(args[i])) return done(std::move(*bad));
    bytes += args[i].size();
    keys.push_back(std::move(args[i]));
  }
  // One log entry, so it must fit where one value fits.
  if (bytes > options_.limits.value_bytes_max) {
    return done(ErrorReply("ERR the keys of one DEL add up to more than --max-value-bytes"));
  }
  Submit(session, store::DeleteManyCommand(keys), done, [](const store::ApplyResult& r) {
    return r.status.ok() ? IntegerReply(r.integer) : StatusReply(r.status);
  });
}

void RespService::Exists(Session* session, Args& args, ReplyCallback& done) {
  Read(session, done, [this, args = std::move(args)] {
    int64_t n = 0;
    for (size_t i = 1; i < args.size(); ++i) {
      auto value = ReadValue(node_->engine(), args[i]);
      if (!value.ok()) return StatusReply(value.status());
      if (*value) ++n;  // Redis counts a key named twice twice
    }
    return IntegerReply(n);
  });
}

void RespService::MGet(Session* session, Args& args, ReplyCallback& done) {
  Read(session, done, [this, args = std::move(args)] {
    // One engine view: every value from the same point in time.
    std::unique_ptr<engine::View> view = node_->engine().NewView();
    Reply r;
    AppendArrayHeader(&r.bytes, args.size() - 1);
    for (size_t i = 1; i < args.size(); ++i) {
      std::optional<std::string> bytes;
      if (!CheckKey(args[i])) {
        auto got = view->Get(store::DataKey(args[i]));
        if (!got.ok()) return StatusReply(got.status());
        bytes = std::move(*got);
      }
      if (!bytes) {
        AppendNullBulk(&r.bytes);
        continue;
      }
      auto rec = store::DecodeRecord(*bytes);
      if (!rec.ok()) return StatusReply(rec.status());
      AppendBulk(&r.bytes, rec->value);
      if (r.bytes.size() > options_.limits.resp_command_bytes_max) {
        return ErrorReply("ERR the MGET reply would be longer than --resp-max-command-bytes");
      }
    }
    return r;
  });
}

void RespService::MSet(Session* session, Args& args, ReplyCallback& done) {
  if (args.size() % 2 != 1) {
    return done(ErrorReply("ERR wrong number of arguments for 'mset' command"));
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t bytes = 0;
  for (size_t i = 1; i + 1 < args.size(); i += 2) {
    if (auto bad = CheckKey(args[i])) return done(std::move(*bad));
    bytes += args[i].size() + args[i + 1].size();
    pairs.emplace_back(std::move(args[i]), std::move(args[i + 1]));
  }
  // One log entry (all or nothing), so it must fit where one value fits.
  if (bytes > options_.limits.value_bytes_max) {
    return done(
        ErrorReply("ERR the keys and values of one MSET add up to more than "
                   "--max-value-bytes; split it"));
  }
  Submit(session, store::PutManyCommand(pairs), done, [](const store::ApplyResult& r) {
    return r.status.ok() ? OkReply() : StatusReply(r.status);
  });
}

void RespService::Incr(Session* session, Args& args, ReplyCallback& done) {
  if (auto bad = CheckKey(args[1])) return done(std::move(*bad));
  const std::string& name = args[0];
  int64_t delta = 1;
  if (args.size() == 3) {
    auto parsed = store::ParseDecimalInt64(args[2]);
    if (!parsed) return done(ErrorReply(kNotInteger));
    delta = *parsed;
  }
  if (name == "decr" || name == "decrby") {
    if (delta == INT64_MIN) return done(ErrorReply("ERR decrement would overflow"));
    delta = -delta;
  }
  Submit(session, store::IncrementByCommand(std::move(args[1]), delta), done,
         [](const store::ApplyResult& r) {
           return r.status.ok() ? IntegerReply(r.integer) : StatusReply(r.status);
         });
}

void RespService::Append(Session* session, Args& args, ReplyCallback& done) {
  if (auto bad = CheckKey(args[1])) return done(std::move(*bad));
  Submit(
      session,
      store::AppendCommand(std::move(args[1]), std::move(args[2]), options_.limits.value_bytes_max),
      done, [](const store::ApplyResult& r) {
        return r.status.ok() ? IntegerReply(r.integer) : StatusReply(r.status);
      });
}

void RespService::StrLen(Session* session, Args& args, ReplyCallback& done) {
  Read(session, done, [this, key = std::move(args[1])] {
    auto value = ReadValue(node_->engine(), key);
    if (!value.ok()) return StatusReply(value.status());
    return IntegerReply(*value ? static_cast<int64_t>((*value)->size()) : 0);
  });
}

}  // namespace nds::resp
