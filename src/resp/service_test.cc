// Goal: every RESP command maps onto the store as docs/resp.md says (same key space, atomic
// writes decided in the log, Redis's replies and error words), SCAN returns each key present
// for the whole scan exactly once while others are written, the auth seam guards commands when
// set, and the server answers pipelined commands in order and closes on a protocol error.
// Method: RespService driven directly over a one-node RaftNode (a Raft log in a fresh temporary
// directory, the memory engine); the server over a loopback socket with blocking reads.
#include "resp/service.h"

#include <filesystem>
#include <future>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "crypto/access_token.h"
#include "engine/memory_engine.h"
#include "node/lone_node_for_test.h"
#include "node/raft_node.h"
#include "resp/server.h"
#include "store/auth_state.h"
#include "store/keyspace.h"

namespace nds::resp {
namespace {

class RespServiceTest : public ::testing::Test {
 protected:
  // `seed` is recorded before the cluster's first member (RaftNodeOptions::seed_commands): the
  // auth seed makes a cluster that requires tokens.
  explicit RespServiceTest(std::vector<store::Command> seed = {})
      : lone_("resp_test_", std::string(32, 's'), std::move(seed),
              // The cluster's first entries applied: the auth mode is known from them.
              [](node::RaftNode* n) {
                auto mode = ReadAuthMode(n->engine());
                return mode.ok() && *mode != AuthMode::kUnknown;
              }),
        node_(lone_.node()) {
    EXPECT_TRUE(lone_.ok()) << lone_.open_error();
    if (!lone_.ok()) return;
    MakeService(nullptr);
  }
  ~RespServiceTest() override {
    service_.reset();
    lone_.Close();
  }

  void MakeService(std::function<Status(std::string_view, std::string_view)> auth) {
    RespOptions o;
    o.limits.value_bytes_max = 64;
    o.limits.resp_command_bytes_max = 64 + 2048;
    o.limits.resp_keys_max = 5;
    o.authenticate = std::move(auth);
    service_ = std::make_unique<RespService>(node_, o);
  }

  Reply Run(std::vector<std::string> args) {
    auto promise = std::make_shared<std::promise<Reply>>();
    auto future = promise->get_future();
    service_->Execute(&session_, std::move(args),
                      [promise](Reply r) { promise->set_value(std::move(r)); });
    EXPECT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return future.get();
  }
  std::string R(std::vector<std::string> args) { return Run(std::move(args)).bytes; }

  node::LoneNodeForTest lone_;
  node::RaftNode* node_;
  std::unique_ptr<RespService> service_;
  Session session_;
};

TEST_F(RespServiceTest, SetAndGetShareTheStoreKeySpace) {
  EXPECT_EQ(R({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(R({"get", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(R({"GET", "missing"}), "$-1\r\n");
  // What HTTP wrote (a store put with a content type) reads back over RESP, and the other way.
  auto bytes = node_->engine().Get(store::DataKey("k"));
  ASSERT_TRUE(bytes.ok() && bytes->has_value());
  EXPECT_EQ(store::DecodeRecord(**bytes)->value, "v");
  std::promise<store::ApplyResult> put;
  node_->Submit(store::PutCommand("http", "blob", "text/plain"),
                [&put](store::ApplyResult r) { put.set_value(std::move(r)); });
  ASSERT_TRUE(put.get_future().get().status.ok());
  EXPECT_EQ(R({"GET", "http"}), "$4\r\nblob\r\n");
}

TEST_F(RespServiceTest, SetOptionsAreDecidedInTheLog) {
  EXPECT_EQ(R({"SET", "k", "1", "XX"}), "$-1\r\n");
  EXPECT_EQ(R({"SET", "k", "1", "NX"}), "+OK\r\n");
  EXPECT_EQ(R({"SET", "k", "2", "nx"}), "$-1\r\n");
  EXPECT_EQ(R({"SET", "k", "3", "GET"}), "$1\r\n1\r\n");
  EXPECT_EQ(R({"SET", "k", "4", "NX", "GET"}), "$1\r\n3\r\n");  // not set; old value
  EXPECT_EQ(R({"GET", "k"}), "$1\r\n3\r\n");
  EXPECT_EQ(R({"SET", "new", "x", "GET"}), "$-1\r\n");
  EXPECT_EQ(R({"SET", "k", "v", "NX", "XX"}), "-ERR syntax error\r\n");
  EXPECT_EQ(R({"SET", "k", "v", "BOGUS"}), "-ERR syntax error\r\n");
  EXPECT_EQ(R({"SET", "k", "v", "EX", "10", "KEEPTTL"}), "-ERR syntax error\r\n");
  EXPECT_EQ(R({"SET", "k", "v", "EX"}), "-ERR syntax error\r\n");
  EXPECT_EQ(R({"SET", "k", "v", "EX", "0"}), "-ERR invalid expire time in 'set' command\r\n");
  EXPECT_EQ(R({"SET", "k", "v", "PX", "x"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(R({"SETNX", "k", "v"}), ":0\r\n");
  EXPECT_EQ(R({"SETNX", "k2", "v"}), ":1\r\n");
  EXPECT_EQ(R({"GETSET", "k2", "w"}), "$1\r\nv\r\n");
  EXPECT_TRUE(R({"SET", "", "v"}).starts_with("-ERR empty keys are not supported"));
  EXPECT_TRUE(R({"SET", std::string(1025, 'k'), "v"}).starts_with("-ERR key of 1025 bytes"));
}

TEST_F(RespServiceTest, CountersAndAppendAreAtomicCommands) {
  EXPECT_EQ(R({"INCR", "n"}), ":1\r\n");
  EXPECT_EQ(R({"INCRBY", "n", "10"}), ":11\r\n");
  EXPECT_EQ(R({"DECR", "n"}), ":10\r\n");
  EXPECT_EQ(R({"DECRBY", "n", "-5"}), ":15\r\n");
  EXPECT_EQ(R({"INCRBY", "n", "x"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(R({"DECRBY", "n", "-9223372036854775808"}), "-ERR decrement would overflow\r\n");
  R({"SET", "s", "abc"});
  EXPECT_EQ(R({"INCR", "s"}), "-ERR value is not an integer or out of range\r\n");
  R({"SET", "max", "9223372036854775807"});
  EXPECT_EQ(R({"INCR", "max"}), "-ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(R({"APPEND", "s", "de"}), ":5\r\n");
  EXPECT_EQ(R({"STRLEN", "s"}), ":5\r\n");
  EXPECT_EQ(R({"STRLEN", "none"}), ":0\r\n");
  EXPECT_TRUE(R({"APPEND", "s", std::string(60, 'x')}).starts_with("-ERR string exceeds"));

  // Concurrent increments from many callers lose nothing: each is one log entry.
  std::vector<std::future<Reply>> pending;
  for (int i = 0; i < 50; ++i) {
    auto p = std::make_shared<std::promise<Reply>>();
    pending.push_back(p->get_future());
    service_->Execute(&session_, {"INCR", "c"}, [p](Reply r) { p->set_value(std::move(r)); });
  }
  std::set<std::string> seen;
  for (auto& f : pending) seen.insert(f.get().bytes);
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(R({"GET", "c"}), "$2\r\n50\r\n");
}

TEST_F(RespServiceTest, MultiKeyCommands) {
  EXPECT_EQ(R({"MSET", "a", "1", "b", "2"}), "+OK\r\n");
  EXPECT_EQ(R({"MSET", "a", "1", "b"}), "-ERR wrong number of arguments for 'mset' command\r\n");
  EXPECT_EQ(R({"MGET", "a", "zz", "b", ""}), "*4\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n$-1\r\n");
  EXPECT_EQ(R({"EXISTS", "a", "a", "zz"}), ":2\r\n");
  EXPECT_EQ(R({"DEL", "a", "zz", "a"}), ":1\r\n");
  EXPECT_EQ(R({"UNLINK", "b"}), ":1\r\n");
  EXPECT_TRUE(R({"MSET", "a", std::string(40, 'x'), "b", std::string(40, 'y')})
                  .starts_with("-ERR the keys and values of one MSET"));
}

TEST_F(RespServiceTest, ExpiryIsSetReadAndRemovedAsRedisDoes) {
  R({"SET", "k", "v"});
  EXPECT_EQ(R({"TTL", "k"}), ":-1\r\n");
  EXPECT_EQ(R({"PTTL", "missing"}), ":-2\r\n");
  EXPECT_EQ(R({"PERSIST", "k"}), ":0\r\n");
  EXPECT_EQ(R({"EXPIRE", "missing", "10"}), ":0\r\n");
  EXPECT_EQ(R({"EXPIRE", "k", "10"}), ":1\r\n");
  // Without a keeper's estimate, the whole TTL.
  EXPECT_EQ(R({"TTL", "k"}), ":10\r\n");
  EXPECT_EQ(R({"PTTL", "k"}), ":10000\r\n");
  EXPECT_EQ(R({"EXPIRE", "k", "20", "NX"}), ":0\r\n");
  EXPECT_EQ(R({"PEXPIRE", "k", "2500", "XX"}), ":1\r\n");
  EXPECT_EQ(R({"PTTL", "k"}), ":2500\r\n");
  EXPECT_EQ(R({"TTL", "k"}), ":3\r\n");  // rounded as Redis rounds
  EXPECT_EQ(R({"GET", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(R({"INCR", "k"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(R({"APPEND", "k", "w"}), ":2\r\n");
  EXPECT_EQ(R({"PTTL", "k"}), ":2500\r\n");  // APPEND keeps it
  EXPECT_EQ(R({"SET", "k", "x", "KEEPTTL"}), "+OK\r\n");
  EXPECT_EQ(R({"PTTL", "k"}), ":2500\r\n");
  EXPECT_EQ(R({"PERSIST", "k"}), ":1\r\n");
  EXPECT_EQ(R({"TTL", "k"}), ":-1\r\n");
  EXPECT_EQ(R({"SETEX", "s", "7", "v"}), "+OK\r\n");
  EXPECT_EQ(R({"TTL", "s"}), ":7\r\n");
  EXPECT_EQ(R({"SET", "s", "w"}), "+OK\r\n");  // a plain SET discards the expiry
  EXPECT_EQ(R({"TTL", "s"}), ":-1\r\n");
  EXPECT_EQ(R({"PSETEX", "p", "1500", "v"}), "+OK\r\n");
  EXPECT_EQ(R({"PTTL", "p"}), ":1500\r\n");
  EXPECT_EQ(R({"SET", "p", "v2", "PX", "900", "GET"}), "$1\r\nv\r\n");
  EXPECT_EQ(R({"PTTL", "p"}), ":900\r\n");
  EXPECT_EQ(R({"SET", "p", "v3", "EX", "5", "NX"}), "$-1\r\n");
  // A time to live not above zero deletes the key, as in Redis.
  EXPECT_EQ(R({"EXPIRE", "p", "-1"}), ":1\r\n");
  EXPECT_EQ(R({"EXISTS", "p"}), ":0\r\n");
  EXPECT_EQ(R({"EXPIREAT", "k", "1"}), ":1\r\n");  // 1970: passed
  EXPECT_EQ(R({"EXISTS", "k"}), ":0\r\n");
  EXPECT_EQ(R({"SETEX", "s", "0", "v"}), "-ERR invalid expire time in 'setex' command\r\n");
  EXPECT_TRUE(R({"EXPIRE", "s", "999999999"})
                  .starts_with("-ERR invalid expire time in 'expire' "
                               "command: nds keeps a key at most"));
  EXPECT_TRUE(
      R({"EXPIRE", "s", "10", "GT"}).starts_with("-ERR EXPIRE GT and LT are not supported"));
  EXPECT_EQ(R({"EXPIRE", "s", "10", "NX", "XX"}),
            "-ERR NX and XX options at the same time are not compatible\r\n");
}

TEST_F(RespServiceTest, TtlAnswersTheKeepersEstimate) {
  RespOptions o;
  o.lease_remaining = [](uint64_t) { return std::chrono::milliseconds(1499); };
  service_ = std::make_unique<RespService>(node_, o);
  EXPECT_EQ(R({"SET", "k", "v", "EX", "100"}), "+OK\r\n");
  EXPECT_EQ(R({"PTTL", "k"}), ":1499\r\n");
  EXPECT_EQ(R({"TTL", "k"}), ":1\r\n");
  std::string at = R({"PEXPIRETIME", "k"});
  ASSERT_TRUE(at.starts_with(":"));
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t answered = std::stoll(at.substr(1));
  EXPECT_GT(answered, now_ms - 60'000);
  EXPECT_LE(answered, now_ms + 1499);
}

TEST_F(RespServiceTest, ScanReturnsEveryKeyPresentThroughoutExactlyOnce) {
  std::set<std::string> stable;
  for (int i = 0; i < 30; ++i) {
    std::string k = "key" + std::to_string(100 + i);
    stable.insert(k);
    R({"SET", k, "v"});
  }
  std::multiset<std::string> seen;
  std::string cursor = "0";
  for (int page = 0; page < 100; ++page) {
    Reply r = Run({"SCAN", cursor, "COUNT", "4", "MATCH", "key*"});
    // Parse *2 $n cursor *m ($k key)...
    std::string_view b = r.bytes;
    ASSERT_TRUE(b.starts_with("*2\r\n$")) << b;
    size_t p = b.find("\r\n", 5);
    size_t len = std::stoul(std::string(b.substr(5, p - 5)));
    cursor = std::string(b.substr(p + 2, len));
    p = p + 2 + len + 2;
    ASSERT_EQ(b[p], '*');
    size_t q = b.find("\r\n", p);
    size_t n = std::stoul(std::string(b.substr(p + 1, q - p - 1)));
    p = q + 2;
    for (size_t i = 0; i < n; ++i) {
      q = b.find("\r\n", p);
      size_t klen = std::stoul(std::string(b.substr(p + 1, q - p - 1)));
      seen.insert(std::string(b.substr(q + 2, klen)));
      p = q + 2 + klen + 2;
    }
    // Writes between pages: new keys before and after the position, and deletions of others.
    R({"SET", "key0" + std::to_string(page), "x"});
    R({"SET", "key9" + std::to_string(page), "x"});
    R({"DEL", "key0" + std::to_string(page)});
    if (cursor == "0") break;
  }
  EXPECT_EQ(cursor, "0");
  for (const std::string& k : stable) EXPECT_EQ(seen.count(k), 1u) << k;
  EXPECT_EQ(R({"SCAN", "12345"}).substr(0, 18), "-ERR invalid curso");
  EXPECT_EQ(R({"SCAN", "abc"}), "-ERR invalid cursor\r\n");
  EXPECT_EQ(R({"SCAN", "0", "COUNT", "0"}), "-ERR syntax error\r\n");
}

TEST_F(RespServiceTest, KeysDbSizeAndFlush) {
  R({"MSET", "user:1", "a", "user:2", "b", "other", "c"});
  EXPECT_EQ(R({"KEYS", "user:*"}), "*2\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n");
  EXPECT_EQ(R({"DBSIZE"}), ":3\r\n");
  R({"MSET", "x1", "1", "x2", "2", "x3", "3"});
  EXPECT_TRUE(R({"KEYS", "*"}).starts_with("-ERR KEYS would return more than --resp-max-keys=5"));
  EXPECT_EQ(R({"FLUSHDB"}), "+OK\r\n");
  EXPECT_EQ(R({"DBSIZE"}), ":0\r\n");
  EXPECT_EQ(R({"FLUSHALL", "ASYNC"}), "+OK\r\n");
}

TEST_F(RespServiceTest, ConnectionCommandsAndErrorsInRedisWords) {
  EXPECT_EQ(R({"PING"}), "+PONG\r\n");
  EXPECT_EQ(R({"PING", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(R({"ECHO", "x"}), "$1\r\nx\r\n");
  EXPECT_EQ(R({"SELECT", "0"}), "+OK\r\n");
  EXPECT_EQ(R({"SELECT", "1"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(R({"CLIENT", "GETNAME"}), "$-1\r\n");
  EXPECT_EQ(R({"CLIENT", "SETNAME", "app"}), "+OK\r\n");
  EXPECT_EQ(R({"CLIENT", "GETNAME"}), "$3\r\napp\r\n");
  EXPECT_TRUE(R({"HELLO", "2"}).starts_with("*14\r\n$6\r\nserver\r\n$3\r\nnds\r\n"));
  EXPECT_EQ(R({"HELLO", "3"}), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_TRUE(R({"AUTH", "secret"}).starts_with("-ERR AUTH <password> called without any"));
  EXPECT_EQ(R({"FOO", "a"}), "-ERR unknown command 'FOO', with args beginning with: 'a' \r\n");
  EXPECT_EQ(R({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_TRUE(R({"ROLE"}).starts_with("*3\r\n$6\r\nmaster\r\n"));
  EXPECT_NE(R({"INFO"}).find("role:master"), std::string::npos);
  Reply quit = Run({"QUIT"});
  EXPECT_EQ(quit.bytes, "+OK\r\n");
  EXPECT_TRUE(quit.close);
}

TEST_F(RespServiceTest, WithAnAuthenticatorCommandsWaitForAuth) {
  MakeService([](std::string_view user, std::string_view password) {
    return user == "default" && password == "right" ? Status::Ok()
                                                    : InvalidArgument("no such token");
  });
  EXPECT_EQ(R({"GET", "k"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_TRUE(R({"AUTH", "wrong"}).starts_with("-WRONGPASS"));
  EXPECT_EQ(R({"AUTH", "right"}), "+OK\r\n");
  EXPECT_EQ(R({"GET", "k"}), "$-1\r\n");
}

// A blocking loopback client of the real server.
class RawClient {
 public:
  explicit RawClient(uint16_t port) : socket_(ioc_) {
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port);
    socket_.connect(ep);
  }
  void Send(std::string_view bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes)); }
  // Reads until `n` bytes arrived or the server closed; returns what came.
  std::string ReadBytes(size_t n) {
    std::string out(n, '\0');
    boost::system::error_code ec;
    size_t got = boost::asio::read(socket_, boost::asio::buffer(out), ec);
    out.resize(got);
    return out;
  }
  bool ClosedByPeer() {
    char c;
    boost::system::error_code ec;
    socket_.read_some(boost::asio::buffer(&c, 1), ec);
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
};

TEST_F(RespServiceTest, ServerAnswersPipelinedCommandsInOrderAndClosesOnProtocolError) {
  RespServerOptions o;
  o.port = 0;
  o.threads = 2;
  o.parser.bulk_bytes_max = 64;
  o.pipelined_commands_max = 4;
  o.connections_max = 2;
  auto server = RespServer::Start(o, service_.get());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  {
    RawClient c((*server)->port());
    // Writes (through the log) and reads (through a read point) complete out of order inside;
    // the replies still come in the order sent. Ten commands with a pipelining limit of four.
    c.Send(
        "SET a 1\r\nGET a\r\nINCR n\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\nPING\r\nGET a\r\n"
        "APPEND a 2\r\nGET a\r\nECHO \"x y\"\r\nDBSIZE\r\n");
    const std::string want =
        "+OK\r\n$1\r\n1\r\n:1\r\n:2\r\n+PONG\r\n$1\r\n1\r\n:2\r\n$2\r\n12\r\n"
        "$3\r\nx y\r\n:2\r\n";
    EXPECT_EQ(c.ReadBytes(want.size()), want);
    c.Send("PING\r\n*1\r\n$999\r\n");
    const std::string error = "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n";
    EXPECT_EQ(c.ReadBytes(error.size()), error);
    EXPECT_TRUE(c.ClosedByPeer());
  }
  {
    RawClient a((*server)->port());
    RawClient b((*server)->port());
    a.Send("PING\r\n");
    EXPECT_EQ(a.ReadBytes(7), "+PONG\r\n");
    b.Send("PING\r\n");
    EXPECT_EQ(b.ReadBytes(7), "+PONG\r\n");
    RawClient third((*server)->port());  // over connections_max
    EXPECT_EQ(third.ReadBytes(36), "-ERR max number of clients reached\r\n");
    a.Send("QUIT\r\nSET after-quit x\r\n");
    EXPECT_EQ(a.ReadBytes(5), "+OK\r\n");
    EXPECT_TRUE(a.ClosedByPeer());
    EXPECT_EQ(R({"EXISTS", "after-quit"}), ":0\r\n");  // nothing after QUIT ran
  }
  (*server)->Stop();
}

// A cluster made with --auth: RESP connections need a token too, each command is checked against
// the token's role, and a revocation stops the connection's next command.
class RespAuthTest : public RespServiceTest {
 protected:
  RespAuthTest() : RespServiceTest(store::AuthSeedCommands(crypto::HashAccessToken(Root()))) {}
  static const std::string& Root() {
    static const std::string token = crypto::GenerateAccessToken("root");
    return token;
  }
  // Stores a token `name` with `role` (and `prefix`) and returns it.
  std::string MakeToken(const std::string& name, store::TokenRole role,
                        const std::string& prefix = "") {
    std::string token = crypto::GenerateAccessToken(name);
    store::TokenRecord record{role, prefix, crypto::HashAccessToken(token)};
    EXPECT_TRUE(Commit(
        store::PutSystemCommand(store::TokenKeyName(name), store::EncodeTokenRecord(record))));
    return token;
  }
  bool Commit(store::Command cmd) {
    std::promise<store::ApplyResult> done;
    node_->Submit(std::move(cmd), [&done](store::ApplyResult r) { done.set_value(std::move(r)); });
    return done.get_future().get().status.ok();
  }
};

TEST_F(RespAuthTest, CommandsNeedATokenWhoseRoleAllowsThem) {
  EXPECT_EQ(R({"GET", "k"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(R({"SET", "k", "v"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(R({"PING"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_TRUE(R({"AUTH", crypto::GenerateAccessToken("root")}).starts_with("-WRONGPASS"));
  EXPECT_TRUE(R({"AUTH", "not a token"}).starts_with("-WRONGPASS"));
  EXPECT_TRUE(R({"AUTH", "nobody." + std::string(43, 'a')}).starts_with("-WRONGPASS"));
  EXPECT_EQ(R({"GET", "k"}), "-NOAUTH Authentication required.\r\n");  // still refused

  const std::string reader = MakeToken("reader", store::TokenRole::kRead);
  EXPECT_EQ(R({"AUTH", "someone", reader}), "+OK\r\n");  // the user name is ignored
  EXPECT_EQ(R({"GET", "k"}), "$-1\r\n");
  EXPECT_TRUE(R({"SET", "k", "v"}).starts_with("-NOPERM"));
  EXPECT_TRUE(R({"INCR", "n"}).starts_with("-NOPERM"));
  EXPECT_TRUE(node_->engine().Get(store::DataKey("k"))->value_or("").empty());

  const std::string writer = MakeToken("writer", store::TokenRole::kWrite);
  EXPECT_EQ(R({"AUTH", writer}), "+OK\r\n");
  EXPECT_EQ(R({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_TRUE(R({"FLUSHDB"}).starts_with("-NOPERM"));  // wiping the store needs admin
  EXPECT_EQ(R({"GET", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(R({"AUTH", Root()}), "+OK\r\n");
  EXPECT_EQ(R({"FLUSHDB"}), "+OK\r\n");
  EXPECT_EQ(R({"GET", "k"}), "$-1\r\n");
}

TEST_F(RespAuthTest, ARevokedTokenStopsAtTheNextCommand) {
  const std::string writer = MakeToken("writer", store::TokenRole::kWrite);
  EXPECT_EQ(R({"HELLO", "2", "AUTH", "default", writer}).substr(0, 1), "*");
  EXPECT_EQ(R({"SET", "k", "v"}), "+OK\r\n");
  ASSERT_TRUE(Commit(store::DeleteSystemCommand(store::TokenKeyName("writer"))));
  EXPECT_TRUE(R({"SET", "k", "w"}).starts_with("-NOAUTH"));
  EXPECT_TRUE(R({"GET", "k"}).starts_with("-NOAUTH"));
  EXPECT_TRUE(R({"AUTH", writer}).starts_with("-WRONGPASS"));
}

// Pipelined reads wait for one read point together and only then run; an AUTH sent after them
// must not let them through.
TEST_F(RespAuthTest, APipelinedAuthDoesNotReachTheReadsSentBeforeIt) {
  RespServerOptions o;
  o.port = 0;
  o.threads = 2;
  auto server = RespServer::Start(o, service_.get());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  {
    RawClient c((*server)->port());
    c.Send("GET k\r\nEXISTS k\r\nAUTH " + Root() + "\r\nGET k\r\nPING\r\n");
    const std::string want =
        "-NOAUTH Authentication required.\r\n-NOAUTH Authentication required.\r\n+OK\r\n"
        "$-1\r\n+PONG\r\n";
    EXPECT_EQ(c.ReadBytes(want.size()), want);
  }
  (*server)->Stop();
}

// A write that passed the token check while a revocation ordered ahead of it in the log was not
// yet applied is refused when it is applied: either way it answers -NOAUTH and changes nothing.
TEST_F(RespAuthTest, AWriteOrderedAfterARevocationNeverApplies) {
  const std::string writer = MakeToken("writer", store::TokenRole::kWrite);
  EXPECT_EQ(R({"AUTH", writer}), "+OK\r\n");
  EXPECT_EQ(R({"SET", "k", "v"}), "+OK\r\n");
  auto revoked = std::make_shared<std::promise<store::ApplyResult>>();
  auto revoked_future = revoked->get_future();
  node_->Submit(store::DeleteSystemCommand(store::TokenKeyName("writer")),
                [revoked](store::ApplyResult r) { revoked->set_value(std::move(r)); });
  for (const std::vector<std::string>& write :
       {std::vector<std::string>{"SET", "k", "w"}, {"INCR", "n"}, {"MSET", "k", "x", "m", "y"}}) {
    std::string reply = R(write);
    EXPECT_TRUE(reply.starts_with("-NOAUTH")) << reply;
  }
  ASSERT_EQ(revoked_future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(revoked_future.get().status.ok());
  EXPECT_EQ(R({"AUTH", Root()}), "+OK\r\n");
  EXPECT_EQ(R({"GET", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(R({"EXISTS", "n", "m"}), ":0\r\n");
}

TEST_F(RespAuthTest, TokensWithAPrefixAreRefusedOverResp) {
  const std::string scoped = MakeToken("scoped", store::TokenRole::kWrite, "app/");
  std::string reply = R({"AUTH", scoped});
  EXPECT_TRUE(reply.starts_with("-ERR tokens with a key prefix")) << reply;
  EXPECT_EQ(R({"GET", "app/k"}), "-NOAUTH Authentication required.\r\n");
}

TEST_F(RespServiceTest, WithoutAuthAuthSaysNoPasswordIsConfigured) {
  EXPECT_TRUE(R({"AUTH", "x"}).starts_with("-ERR AUTH <password> called without any password"));
  EXPECT_EQ(R({"SET", "k", "v"}), "+OK\r\n");
}

}  // namespace
}  // namespace nds::resp
