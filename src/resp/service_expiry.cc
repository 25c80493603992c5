// Key expiry on leases (docs/resp.md "Expiry"): TTL PTTL EXPIRETIME PEXPIRETIME PERSIST EXPIRE
// PEXPIRE EXPIREAT PEXPIREAT SETEX PSETEX. Each expiring key has a lease of its own, decided in
// the log (store/applier_expiry.cc), so every node agrees on when a key goes: the leader's lease
// keeper expires it once it has watched the lease for its whole TTL. What TTL answers is this
// node's estimate of that time (its keeper's clock), as Redis's own TTL is an estimate.
#include <chrono>
#include <limits>

#include "resp/protocol.h"
#include "resp/service.h"
#include "store/keyspace.h"
#include "store/lease_state.h"

namespace nds::resp {
namespace {

int64_t UnixNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::variant<int64_t, Reply> RespService::ParseExpiry(std::string_view text, int64_t unit_ms,
                                                      bool at, std::string_view command) const {
  std::optional<int64_t> n = store::ParseDecimalInt64(text);
  if (!n) return ErrorReply("ERR value is not an integer or out of range");
  const std::string invalid = "ERR invalid expire time in '" + std::string(command) + "' command";
  if (*n > std::numeric_limits<int64_t>::max() / unit_ms ||
      *n < std::numeric_limits<int64_t>::min() / unit_ms) {
    return ErrorReply(invalid);
  }
  int64_t ms = *n * unit_ms;
  if (at) {
    ms = ms - UnixNowMs();
  } else if (ms <= 0 && command != "expire" && command != "pexpire") {
    return ErrorReply(invalid);  // SET EX 0, SETEX k 0 v
  }
  const int64_t ttl_max_ms = options_.limits.lease_ttl_max.count();
  if (ms > ttl_max_ms) {
    return ErrorReply(invalid + ": nds keeps a key at most --max-lease-ttl-ms=" +
                      std::to_string(ttl_max_ms) + " ms before it expires");
  }
  return ms;
}

void RespService::Ttl(Session* session, Args& args, ReplyCallback& done) {
  const std::string& name = args[0];
  const bool ms = name[0] == 'p';
  const bool absolute = name.ends_with("expiretime");
  Read(session, done, [this, ms, absolute, key = std::move(args[1])] {
    if (CheckKey(key)) return IntegerReply(-2);
    std::unique_ptr<engine::View> view = node_->engine().NewView();
    auto bytes = view->Get(store::DataKey(key));
    if (!bytes.ok()) return StatusReply(bytes.status());
    if (!*bytes) return IntegerReply(-2);
    auto rec = store::DecodeRecord(**bytes);
    if (!rec.ok()) return StatusReply(rec.status());
    if (rec->lease_id == 0) return IntegerReply(-1);
    auto lease = store::ReadLease(*view, rec->lease_id);
    if (!lease.ok()) return StatusReply(lease.status());
    // The record names a lease only while the lease holds it; a missing one is gone this instant.
    int64_t left_ms = *lease ? static_cast<int64_t>((*lease)->ttl_ms) : 0;
    if (options_.lease_remaining) {
      if (auto remaining = options_.lease_remaining(rec->lease_id)) left_ms = remaining->count();
    }
    if (absolute) {
      int64_t at_ms = UnixNowMs() + left_ms;
      return IntegerReply(ms ? at_ms : (at_ms + 500) / 1000);
    }
    return IntegerReply(ms ? left_ms : (left_ms + 500) / 1000);
  });
}

void RespService::Persist(Session* session, Args& args, ReplyCallback& done) {
  if (CheckKey(args[1])) return done(IntegerReply(0));
  Submit(session,
         store::ExpireCommand(std::move(args[1]), 0, store::Precondition::kNone,
                              options_.limits.leases_max),
         done, [](const store::ApplyResult& r) {
           return r.status.ok() ? IntegerReply(r.integer) : StatusReply(r.status);
         });
}

void RespService::Expire(Session* session, Args& args, ReplyCallback& done) {
  const std::string name = args[0];
  store::Precondition pre = store::Precondition::kNone;
  for (size_t i = 3; i < args.size(); ++i) {
    std::string opt = Lower(args[i]);
    if ((opt == "nx" || opt == "xx") && pre == store::Precondition::kNone) {
      pre = opt == "nx" ? store::Precondition::kMustNotExist : store::Precondition::kMustExist;
    } else if (opt == "gt" || opt == "lt") {
      // They compare with the time left, which only the leader's keeper knows, and only
      // roughly: no decision in the log may depend on it.
      return done(ErrorReply("ERR EXPIRE GT and LT are not supported by nds: only NX and XX"));
    } else if (opt == "nx" || opt == "xx") {
      return done(ErrorReply("ERR NX and XX options at the same time are not compatible"));
    } else {
      return done(ErrorReply("ERR Unsupported option " + args[i].substr(0, 64)));
    }
  }
  const bool at = name.ends_with("at");
  auto parsed = ParseExpiry(args[2], name[0] == 'p' ? 1 : 1000, at, name);
  if (auto* bad = std::get_if<Reply>(&parsed)) return done(std::move(*bad));
  const int64_t ttl_ms = std::get<int64_t>(parsed);
  if (CheckKey(args[1])) return done(IntegerReply(0));
  auto integer = [](const store::ApplyResult& r) {
    return r.status.ok() ? IntegerReply(r.integer) : StatusReply(r.status);
  };
  if (ttl_ms <= 0) {
    // Redis deletes a key given a time to live not above zero (or a time already passed).
    return Submit(session, store::DeleteManyCommand({std::move(args[1])}), done, integer);
  }
  Submit(session,
         store::ExpireCommand(std::move(args[1]), static_cast<uint64_t>(ttl_ms), pre,
                              options_.limits.leases_max),
         done, integer);
}

void RespService::SetEx(Session* session, Args& args, ReplyCallback& done) {
  const std::string name = args[0];
  if (auto bad = CheckKey(args[1])) return done(std::move(*bad));
  auto parsed = ParseExpiry(args[2], name == "psetex" ? 1 : 1000, false, name);
  if (auto* bad = std::get_if<Reply>(&parsed)) return done(std::move(*bad));
  Submit(session,
         store::PutExpiringCommand(
             std::move(args[1]), std::move(args[3]), store::Precondition::kNone,
             static_cast<uint64_t>(std::get<int64_t>(parsed)), false, options_.limits.leases_max),
         done, [](const store::ApplyResult& r) {
           return r.status.ok() ? OkReply() : StatusReply(r.status);
         });
}

}  // namespace nds::resp
