// The key space and the server: SCAN KEYS DBSIZE FLUSHDB FLUSHALL INFO ROLE.
//
// SCAN walks the keys in byte order from one engine view per page and resumes after the last key
// a page reached (its cursor stands for that key: scan_cursors.h). So a key present for the whole
// scan is returned exactly once, whatever is written meanwhile; keys written during the scan may
// or may not be returned.
#include <charconv>

#include "resp/protocol.h"
#include "resp/service.h"
#include "store/keyspace.h"
#include "store/scanner.h"

namespace nds::resp {
namespace {

constexpr size_t kScanCountDefault = 10;

// The literal bytes a glob pattern starts with: every matching key starts with them, so the scan
// can seek to them instead of reading every key.
std::string LiteralPrefix(std::string_view pattern) {
  size_t n = pattern.find_first_of("*?[\\");
  return std::string(pattern.substr(0, n));
}

std::string HostOf(std::string_view address) {
  size_t colon = address.rfind(':');
  return std::string(address.substr(0, colon));
}

int64_t PortOf(std::string_view address) {
  size_t colon = address.rfind(':');
  int64_t port = 0;
  if (colon == std::string_view::npos) return 0;
  std::from_chars(address.data() + colon + 1, address.data() + address.size(), port);
  return port;
}

}  // namespace

void RespService::Scan(Session* session, Args& args, ReplyCallback& done) {
  uint64_t cursor = 0;
  auto [p, ec] = std::from_chars(args[1].data(), args[1].data() + args[1].size(), cursor);
  if (ec != std::errc() || p != args[1].data() + args[1].size()) {
    return done(ErrorReply("ERR invalid cursor"));
  }
  std::optional<std::string> after;
  if (cursor != 0) {
    after = cursors_.Find(cursor);
    if (!after) {
      return done(
          ErrorReply("ERR invalid cursor: this node does not know it (cursors belong to "
                     "the node that made them and are forgotten on restart)"));
    }
  }
  std::string pattern = "*";
  size_t count = kScanCountDefault;
  bool strings = true;
  for (size_t i = 2; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return done(ErrorReply("ERR syntax error"));
    std::string opt = Lower(args[i]);
    if (opt == "match") {
      pattern = args[i + 1];
    } else if (opt == "count") {
      auto n = store::ParseDecimalInt64(args[i + 1]);
      if (!n) return done(ErrorReply("ERR value is not an integer or out of range"));
      if (*n < 1) return done(ErrorReply("ERR syntax error"));
      count = static_cast<size_t>(std::min<int64_t>(*n, kListLimitMax));
    } else if (opt == "type") {
      strings = Lower(args[i + 1]) == "string";  // every nds value is a string
    } else {
      return done(ErrorReply("ERR syntax error"));
    }
  }
  Read(session, done,
       [this, after = std::move(after), pattern = std::move(pattern), count, strings] {
         store::ScanOptions opts;
         opts.prefix = LiteralPrefix(pattern);
         opts.after = after;
         opts.limit = count;
         store::Scanner scanner(node_->engine().NewView(), opts);
         std::vector<std::string> keys;
         std::string last;
         for (;;) {
           auto more = scanner.Next();
           if (!more.ok()) return StatusReply(more.status());
           if (!*more) break;
           last.assign(scanner.key());
           if (strings && GlobMatch(pattern, scanner.key())) keys.push_back(last);
         }
         uint64_t next = scanner.more() ? cursors_.Make(std::move(last)) : 0;
         Reply r;
         AppendArrayHeader(&r.bytes, 2);
         AppendBulk(&r.bytes, std::to_string(next));
         AppendArrayHeader(&r.bytes, keys.size());
         for (const std::string& k : keys) AppendBulk(&r.bytes, k);
         return r;
       });
}

void RespService::Keys(Session* session, Args& args, ReplyCallback& done) {
  Read(session, done, [this, pattern = std::move(args[1])] {
    store::ScanOptions opts;
    opts.prefix = LiteralPrefix(pattern);
    store::Scanner scanner(node_->engine().NewView(), opts);
    std::vector<std::string> keys;
    for (;;) {
      auto more = scanner.Next();
      if (!more.ok()) return StatusReply(more.status());
      if (!*more) break;
      if (!GlobMatch(pattern, scanner.key())) continue;
      if (keys.size() == options_.limits.resp_keys_max) {
        return ErrorReply("ERR KEYS would return more than --resp-max-keys=" +
                          std::to_string(options_.limits.resp_keys_max) + " keys; use SCAN");
      }
      keys.emplace_back(scanner.key());
    }
    Reply r;
    AppendArrayHeader(&r.bytes, keys.size());
    for (const std::string& k : keys) AppendBulk(&r.bytes, k);
    return r;
  });
}

void RespService::DbSize(Session* session, Args&, ReplyCallback& done) {
  // Counts the keys of one view: linear in the number of keys (nds keeps no count).
  Read(session, done, [this] {
    store::Scanner scanner(node_->engine().NewView(), store::ScanOptions{});
    int64_t n = 0;
    for (;;) {
      auto more = scanner.Next();
      if (!more.ok()) return StatusReply(more.status());
      if (!*more) break;
      ++n;
    }
    return IntegerReply(n);
  });
}

void RespService::FlushDb(Session* session, Args& args, ReplyCallback& done) {
  if (args.size() > 2) return done(ErrorReply("ERR syntax error"));
  if (args.size() == 2) {
    std::string mode = Lower(args[1]);
    if (mode != "async" && mode != "sync") return done(ErrorReply("ERR syntax error"));
  }
  // The same single log entry as /clear: every key of the shared key space, atomically.
  Submit(session, store::ClearCommand(), done, [](const store::ApplyResult& r) {
    return r.status.ok() ? OkReply() : StatusReply(r.status);
  });
}

void RespService::Info(Session* session, Args&, ReplyCallback& done) {
  node::NodeStatus st = node_->GetStatus();
  engine::EngineStats stats = node_->engine().Stats();
  bool leader = st.role == node::Role::kLeader;
  std::string text =
      "# Server\r\nredis_version:7.0.0\r\nnds_version:" + options_.version +
      "\r\nredis_mode:standalone\r\nnds_node_id:" + std::to_string(st.id) +
      "\r\nnds_node_name:" + st.name + "\r\nnds_cluster_id:" + st.cluster_id +
      "\r\n\r\n# Clients\r\nclient_id:" + std::to_string(session->id) +
      "\r\n\r\n# Replication\r\nrole:" + (leader ? "master" : "slave") +
      "\r\nnds_role:" + std::string(node::RoleName(st.role)) +
      "\r\nnds_term:" + std::to_string(st.term) +
      "\r\nnds_leader_id:" + std::to_string(st.leader_id) +
      "\r\nnds_commit_index:" + std::to_string(st.commit_index) +
      "\r\nnds_applied_index:" + std::to_string(st.applied_index) +
      "\r\n\r\n# Persistence\r\naof_enabled:1\r\nnds_engine:" + st.engine +
      "\r\n\r\n# Keyspace\r\ndb0:keys_estimate=" + std::to_string(stats.keys_estimate) + "\r\n";
  done(BulkReply(text));
}

void RespService::Role(Session*, Args&, ReplyCallback& done) {
  node::NodeStatus st = node_->GetStatus();
  Reply r;
  if (st.role == node::Role::kLeader) {
    AppendArrayHeader(&r.bytes, 3);
    AppendBulk(&r.bytes, "master");
    AppendInteger(&r.bytes, static_cast<int64_t>(st.applied_index));
    AppendArrayHeader(&r.bytes, 0);
    return done(std::move(r));
  }
  // Nodes know each other's HTTP API addresses, not their RESP ones: the leader is named by
  // its API address (docs/resp.md).
  std::string leader_api;
  for (const node::MemberInfo& m : node_->Members()) {
    if (m.id == st.leader_id) leader_api = m.api_address;
  }
  AppendArrayHeader(&r.bytes, 5);
  AppendBulk(&r.bytes, "slave");
  AppendBulk(&r.bytes, HostOf(leader_api));
  AppendInteger(&r.bytes, PortOf(leader_api));
  AppendBulk(&r.bytes, st.leader_id != 0 && st.ready ? "connected" : "connecting");
  AppendInteger(&r.bytes, static_cast<int64_t>(st.applied_index));
  done(std::move(r));
}

}  // namespace nds::resp
