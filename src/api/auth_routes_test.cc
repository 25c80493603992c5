// Goal: with --auth every route but the open ones checks its token and role, refusals change
// nothing, and tokens are created, listed and revoked as docs/api.md says. Method: ApiService
// driven directly over a one-node cluster seeded with a known root token (ServiceTest).
#include <filesystem>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/access.h"
#include "api/service_for_test.h"
#include "crypto/access_token.h"
#include "crypto/join_token.h"
#include "engine/memory_engine.h"
#include "node/temp_dir_for_test.h"
#include "store/auth_state.h"
#include "store/image_format.h"
#include "store/keyspace.h"
#include "store/lease_state.h"

namespace nds::api {
namespace {

using store::TokenRole;

// A one-node cluster made with --auth: the root token is known to the test.
class AuthTest : public ServiceTest {
 protected:
  AuthTest() : ServiceTest(store::AuthSeedCommands(crypto::HashAccessToken(Root()))) {
    EXPECT_EQ(Put("/store/a/x", "va", Root()).status, 201);
    EXPECT_EQ(Put("/store/b/x", "vb", Root()).status, 201);
  }
  static const std::string& Root() {
    static const std::string token = crypto::GenerateAccessToken("root");
    return token;
  }
  net::HttpResponse As(const std::string& token, std::string method, std::string target,
                       std::string body = {}) {
    return Call(std::move(method), std::move(target), std::move(body),
                {{"authorization", "Bearer " + token}});
  }
  net::HttpResponse Put(std::string target, std::string body, const std::string& token) {
    return As(token, "PUT", std::move(target), std::move(body));
  }
  // Creates a token through the API with the root token; its text, or "" on failure.
  std::string Create(std::string_view name, std::string_view role, std::string_view prefix) {
    auto r = As(Root(), "POST", "/auth/tokens",
                nlohmann::json{{"name", name}, {"role", role}, {"prefix", prefix}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return "";
    return nlohmann::json::parse(r.body)["token"].get<std::string>();
  }
  // Everything a refused request could have changed, as the root token reads it.
  std::string World() {
    return As(Root(), "GET", "/getAll").body + As(Root(), "GET", "/auth/tokens").body +
           As(Root(), "GET", "/cluster/members").body +
           std::to_string(node_->GetStatus().leader_id);
  }
};

// Every route but the open ones, with a body where it matters.
struct RouteCase {
  const char* method;
  const char* target;
  const char* body;
};
constexpr RouteCase kRoutes[] = {
    {"GET", "/store/a/x", ""},
    {"HEAD", "/store/a/x", ""},
    {"PUT", "/store/a/x", "new"},
    {"POST", "/store/a/new", "new"},
    {"DELETE", "/store/a/x", ""},
    {"GET", "/keys", ""},
    {"GET", "/set?k=a/x&v=new", ""},
    {"GET", "/get?k=a/x", ""},
    {"GET", "/is?k=a/x", ""},
    {"GET", "/rm?k=a/x", ""},
    {"GET", "/clear", ""},
    {"GET", "/getKeys", ""},
    {"GET", "/getValues", ""},
    {"GET", "/getAll", ""},
    {"POST", "/secrets/a/s", "plain"},
    {"GET", "/secrets/a/s", ""},
    {"GET", "/status", ""},
    {"GET", "/cluster/members", ""},
    {"DELETE", "/cluster/members/1", ""},
    {"POST", "/cluster/leader", R"({"to": 1})"},
    {"GET", "/auth/tokens", ""},
    {"GET", "/snapshot", ""},
    {"POST", "/auth/tokens", R"({"name": "evil", "role": "admin"})"},
    {"DELETE", "/auth/tokens/root", ""},
    {"POST", "/txn", R"({"success": [{"put": {"key": "a/x", "value": "txn"}}]})"},
    {"GET", "/ui/data", ""},
    {"GET", "/unknown", ""},
};

TEST_F(AuthTest, EveryRouteRefusesMissingUnknownAndMalformedTokensAndChangesNothing) {
  const std::string before = World();
  const std::string unknown = crypto::GenerateAccessToken("root");  // right name, wrong secret
  const std::string nobody = crypto::GenerateAccessToken("nobody");
  for (const RouteCase& rc : kRoutes) {
    std::vector<std::vector<std::pair<std::string, std::string>>> header_sets = {
        {},
        {{"authorization", "Bearer " + unknown}},
        {{"authorization", "Bearer " + nobody}},
        {{"authorization", "Bearer garbage"}},
        {{"authorization", "Basic " + Root()}},
    };
    for (const auto& headers : header_sets) {
      auto r = Call(rc.method, rc.target, rc.body, headers);
      EXPECT_EQ(r.status, 401) << rc.method << " " << rc.target;
      EXPECT_EQ(Header(r, "WWW-Authenticate"), "Bearer") << rc.target;
      EXPECT_EQ(nlohmann::json::parse(r.body, nullptr, false)["error"], "unauthenticated");
    }
  }
  EXPECT_EQ(World(), before);
  for (const char* open : {"/healthz", "/readyz", "/role", "/metrics"}) {
    EXPECT_EQ(Call("GET", open).status, 200) << open;
  }
}

TEST_F(AuthTest, RolesAreEnforcedOnEveryRoute) {
  const std::string reader = Create("reader", "read", "");
  const std::string writer = Create("writer", "write", "");
  for (const RouteCase& rc : kRoutes) {
    AccessNeed need = NeedFor(rc.method, *ParseTarget(rc.target));
    for (const auto& [token, role] :
         {std::pair{reader, TokenRole::kRead}, std::pair{writer, TokenRole::kWrite}}) {
      auto r = As(token, rc.method, rc.target, rc.body);
      if (role < need.role) {
        EXPECT_EQ(r.status, 403) << store::TokenRoleName(role) << " " << rc.target;
        EXPECT_EQ(nlohmann::json::parse(r.body, nullptr, false)["error"], "permission_denied");
      } else {
        EXPECT_NE(r.status, 401) << rc.target;
        EXPECT_NE(r.status, 403) << rc.target;
      }
    }
  }
  // Only admin routes could have changed the cluster or the tokens, and none was allowed.
  EXPECT_EQ(As(reader, "GET", "/store/b/x").body, "vb");
  EXPECT_EQ(As(Root(), "GET", "/auth/tokens").body.find("evil"), std::string::npos);
  EXPECT_EQ(StoredMemberNames(), std::vector<std::string>{"n1"});
}

TEST_F(AuthTest, OnlyAnAdminTakesASnapshotAndItCarriesKeysAndTokenRecords) {
  EXPECT_EQ(As(Create("w", "write", ""), "GET", "/snapshot").status, 403);
  auto r = As(Root(), "GET", "/snapshot");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Header(r, "X-Revision"), std::to_string(node_->engine().AppliedIndex().value));
  size_t pos = 0;
  store::ImageReader reader([&](char* buf, size_t n) -> Result<size_t> {
    size_t k = std::min(n, r.body.size() - pos);
    std::copy_n(r.body.data() + pos, k, buf);
    pos += k;
    return k;
  });
  ASSERT_TRUE(reader.ReadHeader().ok());
  std::vector<std::string> data;
  store::ImageRecord rec;
  for (int i = 0; i < 100; ++i) {
    auto more = reader.Next(&rec);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    if (rec.kind == store::ImageRecordKind::kData) data.push_back(rec.key + "=" + rec.value);
  }
  EXPECT_EQ(data, (std::vector<std::string>{"a/x=va", "b/x=vb"}));
  EXPECT_EQ(reader.totals().auth_records, 3u);  // the mode, root and w
  EXPECT_EQ(Call("POST", "/snapshot", "", {{"authorization", "Bearer " + Root()}}).status, 405);
}

TEST_F(AuthTest, AReadTokenChangesNothingAnywhere) {
  const std::string reader = Create("reader", "read", "");
  const std::string before = World();
  for (const RouteCase& rc : kRoutes) As(reader, rc.method, rc.target, rc.body);
  EXPECT_EQ(World(), before);
}

TEST_F(AuthTest, PrefixedTokensReachOnlyTheirKeys) {
  const std::string a = Create("a-writer", "write", "a/");
  const std::string before = World();
  for (const char* target : {"/store/b/x", "/store/b/new"}) {
    for (const char* method : {"GET", "HEAD", "PUT", "POST", "DELETE"}) {
      EXPECT_EQ(As(a, method, target, "x").status, 403) << method << " " << target;
    }
  }
  for (const char* target : {"/set?k=b/x&v=1", "/get?k=b/x", "/is?k=b/x", "/rm?k=b/x", "/set?v=1",
                             "/clear", "/keys?prefix=b/", "/keys?prefix=", "/getAll?prefix=b",
                             "/getKeys?prefix=", "/getValues?prefix=%00"}) {
    EXPECT_EQ(As(a, "GET", target).status, 403) << target;
  }
  EXPECT_EQ(As(a, "POST", "/secrets/b/s", "x").status, 403);
  // A transaction may name only keys under the prefix, in its compares as in its ops.
  EXPECT_EQ(As(a, "POST", "/txn", R"({"success": [{"put": {"key": "b/x", "value": "1"}}]})").status,
            403);
  EXPECT_EQ(As(a, "POST", "/txn",
               R"({"compare": [{"key": "b/x", "exists": true}],
                   "success": [{"put": {"key": "a/t", "value": "1"}}]})")
                .status,
            403);
  EXPECT_EQ(World(), before);
  // Within the prefix everything works, and listings without a prefix list only the token's keys.
  EXPECT_EQ(Put("/store/a/y", "vy", a).status, 201);
  EXPECT_EQ(As(a, "GET", "/store/a/x").body, "va");
  EXPECT_EQ(As(a, "GET", "/set?k=a/z&v=1").status, 200);
  auto keys = nlohmann::json::parse(As(a, "GET", "/keys").body)["keys"];
  EXPECT_EQ(keys, (nlohmann::json{"a/x", "a/y", "a/z"}));
  auto all = nlohmann::json::parse(As(a, "GET", "/getAll").body);
  EXPECT_EQ(all.size(), 3u);
  EXPECT_FALSE(all.contains("b/x"));
  EXPECT_EQ(As(a, "POST", "/secrets/a/s", "plain").status, 201);
  EXPECT_EQ(As(a, "POST", "/txn", R"({"success": [{"put": {"key": "a/t", "value": "1"}}]})").status,
            200);
  EXPECT_EQ(As(Root(), "GET", "/store/b/x").body, "vb");
}

TEST_F(AuthTest, APrefixedTokenKeepsAliveOnlyItsOwnLeasesInABatch) {
  const std::string a = Create("a-writer", "write", "a/");
  auto grant = [this](const std::string& token) {
    auto r = As(token, "POST", "/leases", R"({"ttl_ms": 60000})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? nlohmann::json::parse(r.body)["id"].get<uint64_t>() : 0;
  };
  const uint64_t mine = grant(a);
  const uint64_t roots = grant(Root());  // for every key: outside a/
  ASSERT_NE(mine, 0u);
  ASSERT_NE(roots, 0u);
  auto keepalive_index = [this](uint64_t id) {
    auto lease = store::ReadLease(*node_->engine().NewView(), id);
    EXPECT_TRUE(lease.ok() && lease->has_value());
    return lease.ok() && lease->has_value() ? (*lease)->keepalive_index : 0;
  };
  const uint64_t mine_before = keepalive_index(mine), roots_before = keepalive_index(roots);
  auto r =
      As(a, "POST", "/leases/keepalive", nlohmann::json{{"ids", {roots, mine, 999999}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  // The lease outside the prefix is refused; one that does not exist is not found, as the single
  // route answers (403 and 404).
  EXPECT_EQ(nlohmann::json::parse(r.body),
            (nlohmann::json{{"leases",
                             {{{"id", roots}, {"error", "permission_denied"}},
                              {{"id", mine}, {"ttl_ms", 60000}},
                              {{"id", 999999}, {"error", "not_found"}}}}}))
      << r.body;
  EXPECT_EQ(As(a, "POST", "/leases/" + std::to_string(roots) + "/keepalive").status, 403);
  EXPECT_EQ(As(a, "POST", "/leases/999999/keepalive").status, 404);
  EXPECT_GT(keepalive_index(mine), mine_before);
  EXPECT_EQ(keepalive_index(roots), roots_before);  // not kept alive
  // A read token may not keep leases alive at all (the write role, as the single keepalive).
  const uint64_t mine_after = keepalive_index(mine);
  const std::string reader = Create("reader", "read", "");
  EXPECT_EQ(
      As(reader, "POST", "/leases/keepalive", "{\"ids\": [" + std::to_string(mine) + "]}").status,
      403);
  EXPECT_EQ(keepalive_index(mine), mine_after);
}

TEST_F(AuthTest, ConcurrentCreatesOfOneNameLetExactlyOneSucceed) {
  // All are handed to the service before any is answered, so they pass the name check at the
  // read point together; the command's must-not-exist condition decides in log order.
  constexpr int kCreates = 4;
  std::vector<std::future<net::HttpResponse>> answers;
  for (int i = 0; i < kCreates; ++i) {
    net::HttpRequest req;
    req.method = "POST";
    req.target = "/auth/tokens";
    req.body = R"({"name":"dup","role":"read"})";
    req.headers = {{"authorization", "Bearer " + Root()}};
    auto promise = std::make_shared<std::promise<net::HttpResponse>>();
    answers.push_back(promise->get_future());
    api_->Handle(std::move(req),
                 [promise](net::HttpResponse r) { promise->set_value(std::move(r)); });
  }
  int created = 0;
  std::string token;
  for (auto& answer : answers) {
    ASSERT_EQ(answer.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    net::HttpResponse r = answer.get();
    if (r.status == 201) {
      ++created;
      token = nlohmann::json::parse(r.body)["token"];
    } else {
      EXPECT_EQ(r.status, 409) << r.body;
    }
  }
  EXPECT_EQ(created, 1);
  // The one token handed out is the one stored.
  EXPECT_EQ(As(token, "GET", "/keys").status, 200);
}

TEST_F(AuthTest, TokensAreCreatedListedAndRevoked) {
  auto created = As(Root(), "POST", "/auth/tokens", R"({"name":"ci","role":"read","prefix":"p/"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Header(created, "Cache-Control"), "no-store");
  const std::string ci = nlohmann::json::parse(created.body)["token"];
  EXPECT_EQ(nlohmann::json::parse(created.body)["name"], "ci");
  EXPECT_EQ(*crypto::AccessTokenName(ci), "ci");
  auto list = As(Root(), "GET", "/auth/tokens");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(nlohmann::json::parse(list.body)["tokens"],
            nlohmann::json::parse(R"([{"name":"ci","role":"read","prefix":"p/"},
                                      {"name":"root","role":"admin","prefix":""}])"));
  // Neither a secret nor a hash is ever listed.
  EXPECT_EQ(list.body.find(ci.substr(3)), std::string::npos);
  EXPECT_EQ(As(ci, "GET", "/keys").status, 200);
  EXPECT_EQ(As(Root(), "POST", "/auth/tokens", R"({"name":"ci","role":"write"})").status, 409);
  for (const char* bad :
       {"", "[]", R"({"role":"read"})", R"({"name":"a.b","role":"read"})",
        R"({"name":"","role":"read"})", R"({"name":"x","role":"root"})",
        R"({"name":"x","role":"admin","prefix":"p"})", R"({"name":"x","role":"read","prefix":7})",
        R"({"name":"x","role":"read","extra":1})"}) {
    auto r = As(Root(), "POST", "/auth/tokens", bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(nlohmann::json::parse(r.body, nullptr, false)["error"], "invalid_argument") << bad;
  }
  EXPECT_EQ(As(Root(), "DELETE", "/auth/tokens/ci").status, 204);
  auto revoked = As(ci, "GET", "/keys");
  EXPECT_EQ(revoked.status, 401);
  EXPECT_EQ(Header(revoked, "WWW-Authenticate"), "Bearer");
  EXPECT_EQ(As(Root(), "DELETE", "/auth/tokens/ci").status, 404);
  EXPECT_EQ(As(Root(), "DELETE", "/auth/tokens/a.b").status, 400);
  EXPECT_EQ(As(Root(), "PUT", "/auth/tokens/ci").status, 405);
  // A new token of the old name does not bring the old secret back.
  const std::string again = Create("ci", "read", "");
  EXPECT_EQ(As(ci, "GET", "/keys").status, 401);
  EXPECT_EQ(As(again, "GET", "/keys").status, 200);
}

// A node may accept a write (its token checked against its applied state) before it applies a
// revocation that the log orders ahead of the write. Simulated on one node by submitting the write,
// wrapped as SubmitThen wraps it, right behind the revocation: it is refused when applied and
// writes nothing, while the same token's writes before the revocation applied.
TEST_F(AuthTest, AWriteOrderedAfterARevocationIsRefusedWhenApplied) {
  const std::string w = Create("w", "write", "");
  auto record = node_->engine().Get(store::SystemKey(store::TokenKeyName("w")));
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ(Put("/store/w/before", "v", w).status, 201);
  auto submit = [this](store::Command c) {
    auto done = std::make_shared<std::promise<store::ApplyResult>>();
    auto future = done->get_future();
    node_->Submit(std::move(c), [done](store::ApplyResult r) { done->set_value(std::move(r)); });
    return future;
  };
  store::Command late = store::PutCommand("w/after", "v");
  late.authorized_by = store::Command::Authorization{"w", store::TokenRecordDigest(**record)};
  store::Command root_write = store::PutCommand("w/root", "v");
  auto root_record = node_->engine().Get(store::SystemKey(store::TokenKeyName("root")));
  ASSERT_TRUE(root_record.ok() && root_record->has_value());
  root_write.authorized_by =
      store::Command::Authorization{"root", store::TokenRecordDigest(**root_record)};
  auto revoked = submit(store::DeleteSystemCommand(store::TokenKeyName("w")));
  auto refused = submit(late);
  auto allowed = submit(root_write);
  for (auto* f : {&revoked, &refused, &allowed}) {
    ASSERT_EQ(f->wait_for(std::chrono::seconds(10)), std::future_status::ready);
  }
  EXPECT_TRUE(revoked.get().status.ok());
  store::ApplyResult r = refused.get();
  EXPECT_TRUE(r.token_refused);
  EXPECT_FALSE(r.status.ok());
  EXPECT_TRUE(allowed.get().status.ok()) << "another token's write is not affected";
  EXPECT_EQ(As(Root(), "GET", "/store/w/after").status, 404);
  EXPECT_EQ(As(Root(), "GET", "/store/w/before").status, 200);
  EXPECT_EQ(As(Root(), "GET", "/store/w/root").status, 200);
  auto after = Put("/store/w/after", "v", w);
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(Header(after, "WWW-Authenticate"), "Bearer");
}

TEST_F(AuthTest, JoinStillTakesTheJoinTokenAlone) {
  auto done = std::make_shared<std::promise<store::ApplyResult>>();
  auto future = done->get_future();
  node_->Submit(store::PutSystemCommand(std::string(store::kJoinTokenHashKey),
                                        crypto::HashJoinToken("join-secret")),
                [done](store::ApplyResult r) { done->set_value(std::move(r)); });
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const std::string body =
      nlohmann::json{{"name", "n2"}, {"peer_address", "h:1"}, {"api_address", "h:2"}}.dump();
  EXPECT_EQ(As(Root(), "POST", "/cluster/members", body).status, 403);  // not the join token
  EXPECT_EQ(Call("POST", "/cluster/members", body).status, 401);
  EXPECT_EQ(As("join-secret", "POST", "/cluster/members", body).status, 201);
}

// A node that has applied nothing yet (a joiner catching up) cannot tell whether the cluster
// requires tokens: it refuses all but the open routes with 503 instead of serving unchecked.
TEST(AuthMode, ANodeThatHasAppliedNothingAnswers503) {
  const std::string dir = node::NewTempDir("api_test_unseeded_");
  node::RaftNodeOptions o;
  o.id = 2;
  o.data_dir = dir;
  o.cluster_secret = std::string(32, 's');
  o.bootstrap = false;  // no log and no configuration: it waits for a leader that never comes
  auto node = node::RaftNode::Open(engine::NewMemoryEngine(), o);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  ApiService api(node->get(), ApiOptions{});
  auto call = [&api](std::string method, std::string target) {
    net::HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    auto promise = std::make_shared<std::promise<net::HttpResponse>>();
    auto future = promise->get_future();
    api.Handle(std::move(req),
               [promise](net::HttpResponse r) { promise->set_value(std::move(r)); });
    EXPECT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return future.get();
  };
  for (const char* target : {"/store/k", "/keys", "/set?k=a&v=1", "/clear", "/auth/tokens"}) {
    auto r = call("GET", target);
    EXPECT_EQ(r.status, 503) << target;
    EXPECT_EQ(nlohmann::json::parse(r.body, nullptr, false)["error"], "not_ready") << target;
  }
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  EXPECT_EQ(node->get()->engine().Get(store::DataKey("a"))->has_value(), false);
  node->reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

TEST_F(AuthTest, TheTokenLimitIsEnforced) {
  ApiOptions o;
  o.auth_tokens_max = 2;  // root + one
  api_ = std::make_unique<ApiService>(node_, o);
  Create("one", "read", "");
  auto r = As(Root(), "POST", "/auth/tokens", R"({"name":"two","role":"read"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "too_many_tokens");
}

}  // namespace
}  // namespace nds::api