// Goal: the API layer's pure pieces and its routes behave as docs/api.md says, without sockets.
// Method: table tests of the Status→HTTP mapping, URI decoding, JSON text and listing parameters;
// ApiService driven directly (Handle → captured response) over a one-node RaftNode (a Raft log
// in a fresh temporary directory, the memory engine).
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/access.h"
#include "api/http_errors.h"
#include "api/json_text.h"
#include "api/listing.h"
#include "api/service.h"
#include "api/uri.h"
#include "crypto/access_token.h"
#include "crypto/base64url.h"
#include "crypto/join_token.h"
#include "engine/memory_engine.h"
#include "node/lone_node_for_test.h"
#include "node/raft_node.h"
#include "store/auth_state.h"
#include "store/image_format.h"
#include "store/keyspace.h"
#include "store/membership.h"

namespace nds::api {
namespace {

TEST(HttpErrors, EveryStatusCodeMapsToItsHttpStatus) {
  const std::pair<StatusCode, int> table[] = {
      {StatusCode::kOk, 200},
      {StatusCode::kInvalidArgument, 400},
      {StatusCode::kNotFound, 404},
      {StatusCode::kAlreadyExists, 409},
      {StatusCode::kFailedPrecondition, 412},
      {StatusCode::kResourceExhausted, 413},
      {StatusCode::kNoSpace, 507},
      {StatusCode::kIoError, 500},
      {StatusCode::kCorruption, 500},
      {StatusCode::kNotLeader, 503},
      {StatusCode::kUnavailable, 503},
      {StatusCode::kTimeout, 503},
      {StatusCode::kCancelled, 503},
  };
  for (const auto& [code, http] : table)
    EXPECT_EQ(HttpStatusFor(code), http) << StatusCodeName(code);
}

TEST(HttpErrors, BodiesAreJsonAnd503CarriesRetryAfter) {
  net::HttpResponse r = ErrorResponse(Unavailable("no \"quorum\""));
  EXPECT_EQ(r.status, 503);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"], "unavailable");
  EXPECT_EQ(j["message"], "no \"quorum\"");
  bool retry_after = false;
  for (const auto& [k, v] : r.headers) retry_after |= k == "Retry-After";
  EXPECT_TRUE(retry_after);
}

TEST(Uri, PercentDecodingIsExactAndRejectsBadEscapes) {
  EXPECT_EQ(*PercentDecode("a%2Fb%00%ff", false), std::string("a/b\0\xff", 5));
  EXPECT_EQ(*PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
  EXPECT_FALSE(PercentDecode("%", false).ok());
  EXPECT_FALSE(PercentDecode("%4", false).ok());
  EXPECT_FALSE(PercentDecode("%zz", false).ok());
  EXPECT_EQ(PercentEncodePath(std::string("a/b c\0", 6)), "a/b%20c%00");
}

TEST(Uri, TargetsSplitIntoPathAndDecodedQuery) {
  auto t = ParseTarget("/set?k=a%26b&v=x+y&flag&=empty");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/set");
  EXPECT_EQ(*t->Param("k"), "a&b");
  EXPECT_EQ(*t->Param("v"), "x y");
  EXPECT_EQ(*t->Param("flag"), "");
  EXPECT_FALSE(t->Param("missing").has_value());
  EXPECT_FALSE(ParseTarget("http://host/x").ok());
  EXPECT_FALSE(ParseTarget("/x?k=%G1").ok());
}

TEST(JsonText, EscapesControlsAndReplacesInvalidUtf8PerByte) {
  std::string out;
  AppendJsonString(&out, std::string("a\"\\\n\x01\xe2\x9c\x93\xff\xc0\xaf", 11),
                   StringEncoding::kLossyUtf8);
  EXPECT_EQ(out, "\"a\\\"\\\\\\n\\u0001\xe2\x9c\x93\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_FALSE(nlohmann::json::parse(out, nullptr, false).is_discarded());
  std::string surrogate;
  AppendJsonString(&surrogate, "\xed\xa0\x80", StringEncoding::kLossyUtf8);
  EXPECT_EQ(surrogate, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(JsonText, Base64MatchesRfc4648Vectors) {
  const std::pair<const char*, const char*> v[] = {
      {"", ""},        {"f", "Zg=="},        {"fo", "Zm8="},
      {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [in, want] : v) EXPECT_EQ(Base64Encode(in), want);
}

TEST(JsonText, CodePointsCountCharactersNotBytes) {
  EXPECT_EQ(CodePointCount("abc"), 3u);
  EXPECT_EQ(CodePointCount("\xe2\x9c\x93\xf0\x9f\xa6\xa2"), 2u);
  EXPECT_EQ(CodePointCount("\xff\xfe"), 2u);
}

TEST(Listing, LimitsAreCheckedAndEncodingsKnown) {
  EXPECT_EQ(ParseListing(*ParseTarget("/keys?limit=10000"))->scan.limit, 10000u);
  for (const char* bad : {"/keys?limit=0", "/keys?limit=10001", "/keys?limit=-1", "/keys?limit=1x",
                          "/keys?encoding=hex"}) {
    EXPECT_FALSE(ParseListing(*ParseTarget(bad)).ok()) << bad;
  }
  auto o = ParseListing(*ParseTarget("/keys?prefix=a&after=ab&encoding=base64"));
  EXPECT_EQ(o->scan.prefix, "a");
  EXPECT_EQ(*o->scan.after, "ab");
  EXPECT_EQ(o->encoding, StringEncoding::kBase64);
}

// The secret of the test cluster (no NUL: it is also searched for as text).
const std::string kClusterSecret(32, 'Z');

// Drives ApiService directly and waits for each answer (bounded).
class ServiceTest : public ::testing::Test {
 protected:
  // Node 1 ("n1") of a new one-node cluster, leading with its lease and its member record
  // applied; `seed` is recorded before the member record (RaftNodeOptions::seed_commands).
  explicit ServiceTest(std::vector<store::Command> seed = {})
      : lone_("api_test_", kClusterSecret, std::move(seed),
              [](node::RaftNode* n) { return MemberNames(n).size() == 1; }),
        node_(lone_.node()) {
    EXPECT_TRUE(lone_.ok()) << lone_.open_error();
    if (!lone_.ok()) return;
    EXPECT_EQ(StoredMemberNames(), std::vector<std::string>{"n1"});
    ApiOptions api_options;
    api_options.cluster_secret = kClusterSecret;
    api_ = std::make_unique<ApiService>(node_, api_options);
  }
  ~ServiceTest() override {
    api_.reset();
    lone_.Close();
  }

  static std::vector<std::string> MemberNames(node::RaftNode* n) {
    std::vector<std::string> names;
    auto members = store::ReadMembers(n->engine());
    EXPECT_TRUE(members.ok());
    if (members.ok()) {
      for (const auto& m : *members) names.push_back(m.name);
    }
    return names;
  }
  std::vector<std::string> StoredMemberNames() { return MemberNames(node_); }

  net::HttpResponse Call(std::string method, std::string target, std::string body = {},
                         std::vector<std::pair<std::string, std::string>> headers = {}) {
    net::HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    req.headers = std::move(headers);
    auto promise = std::make_shared<std::promise<net::HttpResponse>>();
    auto future = promise->get_future();
    api_->Handle(std::move(req),
                 [promise](net::HttpResponse r) { promise->set_value(std::move(r)); });
    EXPECT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    net::HttpResponse r = future.get();
    if (r.stream) {  // drain a streamed body
      for (;;) {
        auto more = r.stream(&r.body);
        EXPECT_TRUE(more.ok());
        if (!more.ok() || !*more) break;
      }
    }
    return r;
  }
  static std::string Header(const net::HttpResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return {};
  }

  node::LoneNodeForTest lone_;
  node::RaftNode* node_;
  std::unique_ptr<ApiService> api_;
};

TEST_F(ServiceTest, BlobLifecycleWithRevisions) {
  auto put = Call("PUT", "/store/a%2Fb", "v1", {{"content-type", "text/plain"}});
  EXPECT_EQ(put.status, 201);
  const std::string revision = Header(put, "X-Revision");  // the log index of the write
  ASSERT_FALSE(revision.empty());
  EXPECT_EQ(Call("GET", "/store/a/b").body, "v1");
  EXPECT_EQ(Call("PUT", "/store/a/b", "v2", {{"if-match", "\"" + revision + "\""}}).status, 204);
  EXPECT_EQ(Call("PUT", "/store/a/b", "v3", {{"if-match", "\"" + revision + "\""}}).status, 412);
  auto head = Call("HEAD", "/store/a/b");
  EXPECT_EQ(head.head_content_length, 2u);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(Call("DELETE", "/store/a/b").status, 204);
  EXPECT_EQ(Call("DELETE", "/store/a/b").status, 404);
}

TEST_F(ServiceTest, DashboardFilesComeFromTheBinaryWithAStrictPolicyAndDataIsLive) {
  auto page = Call("GET", "/ui/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(Header(page, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<script src=\"app.js\""), std::string::npos);
  EXPECT_NE(Header(page, "Content-Security-Policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_EQ(Header(page, "X-Content-Type-Options"), "nosniff");
  auto script = Call("GET", "/ui/app.js");
  EXPECT_EQ(Header(script, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(script.body.find("/ui/data"), std::string::npos);
  EXPECT_EQ(Header(Call("GET", "/ui"), "Location"), "/ui/");
  EXPECT_EQ(Call("GET", "/ui/../secrets").status, 404);
  EXPECT_EQ(Call("GET", "/ui/nope.js").status, 404);
  EXPECT_EQ(Call("POST", "/ui/").status, 405);

  auto before = nlohmann::json::parse(Call("GET", "/ui/data").body);
  Call("GET", "/set?k=ui&v=1");
  auto after = nlohmann::json::parse(Call("GET", "/ui/data").body);
  EXPECT_EQ(after["status"]["role"], "leader");
  EXPECT_GT(after["status"]["commit_index"], before["status"]["commit_index"]);
  EXPECT_GE(after["requests_total"].get<uint64_t>(), before["requests_total"].get<uint64_t>() + 2);
}

TEST_F(ServiceTest, TxnComparesThenAppliesOneBranchAtOneRevision) {
  auto put = Call("PUT", "/store/acct/a", "10");
  const std::string rev = Header(put, "X-Revision");
  const std::string cas = R"({"compare": [{"key": "acct/a", "revision": )" + rev +
                          R"(}], "success": [{"put": {"key": "acct/a", "value": "7"}},
      {"put": {"key": "acct/b", "value": "3", "content_type": "text/plain"}},
      {"get": {"key": "acct/b"}}], "failure": [{"get": {"key": "acct/a"}}]})";
  auto won = Call("POST", "/txn", cas);
  ASSERT_EQ(won.status, 200) << won.body;
  auto j = nlohmann::json::parse(won.body);
  EXPECT_EQ(j["succeeded"], true);
  const uint64_t revision = j["revision"];
  EXPECT_EQ(Header(won, "X-Revision"), std::to_string(revision));
  EXPECT_EQ(j["results"][0]["put"]["revision"], revision);
  EXPECT_EQ(j["results"][2]["get"]["value"], "3");
  EXPECT_EQ(j["results"][2]["get"]["content_type"], "text/plain");
  EXPECT_EQ(Call("GET", "/store/acct/a").body, "7");
  EXPECT_EQ(Header(Call("GET", "/store/acct/b"), "ETag"), "\"" + std::to_string(revision) + "\"");

  auto lost = Call("POST", "/txn", cas);  // the same compare-and-swap again: the revision moved
  ASSERT_EQ(lost.status, 200);
  auto l = nlohmann::json::parse(lost.body);
  EXPECT_EQ(l["succeeded"], false);
  EXPECT_EQ(l["results"][0]["get"]["value"], "7");
  EXPECT_EQ(Call("GET", "/store/acct/a").body, "7");

  auto b64 = Call("POST", "/txn?encoding=base64",
                  R"({"compare": [{"key": "YWNjdC9h", "exists": true}],
                      "success": [{"delete": {"key": "YWNjdC9i"}}, {"get": {"key": "YWNjdC9h"}}]})");
  ASSERT_EQ(b64.status, 200) << b64.body;
  auto b = nlohmann::json::parse(b64.body);
  EXPECT_EQ(b["results"][0]["delete"]["deleted"], true);
  EXPECT_EQ(b["results"][1]["get"]["value"], "Nw==");
  EXPECT_EQ(Call("GET", "/store/acct/b").status, 404);
}

TEST_F(ServiceTest, LeaseRoutesGrantAttachShowAndRevoke) {
  EXPECT_EQ(Call("POST", "/leases", R"({"ttl_ms": 5})").status, 400);  // under the minimum
  EXPECT_EQ(Call("POST", "/leases", R"({"ttl": 5000})").status, 400);
  EXPECT_EQ(Call("POST", "/leases", "not json").status, 400);
  auto granted = Call("POST", "/leases", R"({"ttl_ms": 60000})");
  ASSERT_EQ(granted.status, 201) << granted.body;
  const auto id = nlohmann::json::parse(granted.body)["id"].get<uint64_t>();
  const std::string lease = "/leases/" + std::to_string(id);
  EXPECT_EQ(Call("PUT", "/store/a?lease=" + std::to_string(id), "v").status, 201);
  EXPECT_EQ(Call("GET", "/set?k=b&v=w&lease=" + std::to_string(id)).status, 200);
  EXPECT_EQ(Call("PUT", "/store/c?lease=999999", "v").status, 400);
  EXPECT_EQ(Call("PUT", "/store/c?lease=x", "v").status, 400);
  EXPECT_EQ(Call("GET", "/store/c").status, 404);
  auto kept = Call("POST", lease + "/keepalive");
  ASSERT_EQ(kept.status, 200) << kept.body;
  EXPECT_EQ(nlohmann::json::parse(kept.body)["ttl_ms"], 60000);
  auto shown = Call("GET", lease);
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_EQ(nlohmann::json::parse(shown.body)["keys"], nlohmann::json::array({"a", "b"}));
  EXPECT_EQ(Call("DELETE", lease).status, 204);
  EXPECT_EQ(Call("GET", "/store/a").status, 404);
  EXPECT_EQ(Call("GET", "/store/b").status, 404);
  EXPECT_EQ(Call("GET", lease).status, 404);
  EXPECT_EQ(Call("POST", lease + "/keepalive").status, 404);
  EXPECT_EQ(Call("DELETE", lease).status, 404);
  EXPECT_EQ(Call("GET", "/leases/0").status, 400);
  EXPECT_EQ(Call("PUT", lease).status, 405);
}

TEST_F(ServiceTest, TxnRefusesMalformedBodiesWithoutWriting) {
  const uint64_t before = node_->GetStatus().commit_index;
  for (const char* bad : {
           "not json",
           "[]",
           R"({"compare": {}})",
           R"({"extra": []})",
           R"({"compare": [{"key": "a"}]})",
           R"({"compare": [{"key": "a", "revision": 1, "exists": true}]})",
           R"({"compare": [{"key": "a", "revision": -1}]})",
           R"({"success": [{"put": {"key": "a"}}]})",
           R"({"success": [{"put": {"key": "a", "value": "v", "lease": 0}}]})",
           R"({"success": [{"put": {"key": "", "value": "v"}}]})",
           R"({"success": [{"patch": {"key": "a"}}]})",
           R"({"success": [{"get": {"key": "a"}, "put": {"key": "b", "value": "v"}}]})",
       }) {
    auto r = Call("POST", "/txn", bad);
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "invalid_argument") << bad;
  }
  EXPECT_EQ(Call("POST", "/txn?encoding=base64", R"({"success": [{"get": {"key": "!!"}}]})").status,
            400);
  std::string many = R"({"success": [)";
  for (int i = 0; i < 129; ++i) many += std::string(i ? "," : "") + R"({"get": {"key": "k"}})";
  many += "]}";
  EXPECT_EQ(Call("POST", "/txn", many).status, 400);  // over --max-txn-ops (128)
  EXPECT_EQ(Call("GET", "/txn").status, 405);
  EXPECT_EQ(node_->GetStatus().commit_index, before);  // nothing was proposed
}

TEST_F(ServiceTest, StreamedBulkAnswersAreValidJsonAcrossChunks) {
  for (int i = 0; i < 50; ++i)
    Call("GET", "/set?k=k" + std::to_string(100 + i) + "&v=" + std::string(200, 'x'));
  auto all = Call("GET", "/getAll");
  ASSERT_TRUE(all.stream != nullptr);
  auto j = nlohmann::json::parse(all.body);
  EXPECT_EQ(j.size(), 50u);
  EXPECT_EQ(j["k149"], std::string(200, 'x'));
}

TEST_F(ServiceTest, RoleStatusAndUnknownRoutes) {
  EXPECT_EQ(Call("GET", "/role").body, "goose");
  EXPECT_EQ(nlohmann::json::parse(Call("GET", "/status").body)["role"], "leader");
  EXPECT_EQ(Call("GET", "/unknown").status, 404);
  EXPECT_EQ(Call("DELETE", "/keys").status, 405);
  EXPECT_EQ(Call("POST", "/cluster/leader", "{\"to\": 1}").status, 200);
  EXPECT_EQ(Call("POST", "/cluster/leader", "{\"to\": 7}").status, 404);
  EXPECT_EQ(Call("POST", "/cluster/leader", "not json").status, 400);
  EXPECT_EQ(Call("DELETE", "/cluster/members/99").status, 404);
}

// The cluster routes over the one-node cluster: joins add learners at made-up addresses (they
// never catch up, so the node stays the only voter).
class ClusterRoutesTest : public ServiceTest {
 protected:
  ClusterRoutesTest() {
    EXPECT_TRUE(SubmitAndWait(store::PutSystemCommand(std::string(store::kJoinTokenHashKey),
                                                      crypto::HashJoinToken(kToken)))
                    .ok());
  }

  Status SubmitAndWait(store::Command cmd) {
    auto done = std::make_shared<std::promise<store::ApplyResult>>();
    auto future = done->get_future();
    node_->Submit(std::move(cmd), [done](store::ApplyResult r) { done->set_value(std::move(r)); });
    if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      return Timeout("the node did not apply the command");
    }
    return future.get().status;
  }

  net::HttpResponse Join(std::string body, std::string token = kToken) {
    return Call("POST", "/cluster/members", std::move(body),
                {{"authorization", "Bearer " + token}});
  }
  static std::string JoinBody(std::string_view name, std::string_view peer,
                              std::string_view api = "127.0.0.1:7777") {
    return nlohmann::json{{"name", name}, {"peer_address", peer}, {"api_address", api}}.dump();
  }
  static constexpr const char* kToken = "s3cret-join-token";
};

TEST_F(ClusterRoutesTest, JoinAddsAMemberWhoseIdIsItsLogIndex) {
  auto r = Join(JoinBody("n2", "10.0.0.2:7000", "10.0.0.2:7777"));
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = nlohmann::json::parse(r.body);
  const uint64_t id = j["id"];
  EXPECT_TRUE(j["cluster_id"].is_string());
  ASSERT_TRUE(j["members"].is_array());
  EXPECT_EQ(j["members"][0]["id"], 1u);  // as node_->Members() lists them
  EXPECT_EQ(Header(r, "Location"), "/cluster/members/" + std::to_string(id));
  auto members = store::ReadMembers(node_->engine());
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[1], (store::MemberRecord{id, "n2", "10.0.0.2:7000", "10.0.0.2:7777"}));
  // The id is the log index of the entry that added it: the revision of the next write is past it.
  auto next = Call("PUT", "/store/after-join", "v");
  EXPECT_GT(std::stoull(Header(next, "X-Revision")), id);
}

// The cluster secret is handed out only in the answer to a join whose token checked out.
TEST_F(ClusterRoutesTest, OnlyAJoinWithTheRightTokenIsToldTheClusterSecret) {
  const std::string encoded = crypto::Base64UrlEncode(kClusterSecret);
  auto wrong = Join(JoinBody("n2", "h:1"), "not-the-token");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.body.find(encoded), std::string::npos);
  for (const char* path : {"/status", "/metrics", "/cluster/members", "/role"}) {
    auto r = Call("GET", path, "");
    EXPECT_EQ(r.body.find(encoded), std::string::npos) << path;
    EXPECT_EQ(r.body.find(kClusterSecret), std::string::npos) << path;
  }
  auto r = Join(JoinBody("n2", "10.0.0.2:7000", "10.0.0.2:7777"));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["cluster_secret"], encoded);
}

TEST_F(ClusterRoutesTest, JoinNeedsTheRightToken) {
  const std::string body = JoinBody("n2", "h:1");
  auto missing = Call("POST", "/cluster/members", body);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(Header(missing, "WWW-Authenticate"), "Bearer");
  EXPECT_EQ(nlohmann::json::parse(missing.body)["error"], "unauthenticated");
  EXPECT_EQ(Call("POST", "/cluster/members", body, {{"authorization", "Basic abc"}}).status, 401);
  EXPECT_EQ(Call("POST", "/cluster/members", body, {{"authorization", "Bearer "}}).status, 401);
  auto wrong = Join(body, "not-the-token");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(nlohmann::json::parse(wrong.body)["error"], "permission_denied");
  EXPECT_EQ(Join(body, std::string(kToken) + "x").status, 403);
  EXPECT_EQ(StoredMemberNames(), std::vector<std::string>{"n1"});
  EXPECT_EQ(Call("POST", "/cluster/members", body, {{"authorization", "bearer  s3cret-join-token"}})
                .status,
            201);
}

TEST_F(ClusterRoutesTest, JoinWithoutAStoredTokenHashIsRefused) {
  ASSERT_TRUE(
      SubmitAndWait(store::DeleteSystemCommand(std::string(store::kJoinTokenHashKey))).ok());
  EXPECT_EQ(Join(JoinBody("n2", "h:1")).status, 403);
  EXPECT_EQ(StoredMemberNames(), std::vector<std::string>{"n1"});
}

TEST_F(ClusterRoutesTest, JoinValidatesTheBody) {
  const std::string long_name(store::kMemberNameBytesMax + 1, 'n');
  const std::string long_host(store::kMemberAddressBytesMax, 'h');
  for (const std::string& bad :
       {std::string("not json"), std::string("[]"), std::string(R"({"name":"n"})"),
        std::string(R"({"name":1,"peer_address":"h:1","api_address":"h:2"})"), JoinBody("", "h:1"),
        JoinBody(long_name, "h:1"), JoinBody("n", "nohostport"), JoinBody("n", "h:0"),
        JoinBody("n", "h:65536"), JoinBody("n", ":80"), JoinBody("n", "h:8x"),
        JoinBody("n", "a b:80"), JoinBody("n", "h:1", "h:"), JoinBody("n", long_host + ":1"),
        JoinBody("n", "[::1:80")}) {
    auto r = Join(bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(nlohmann::json::parse(r.body, nullptr, false)["error"], "invalid_argument") << bad;
  }
  EXPECT_EQ(Join(JoinBody("n4", "[::1]:7000", "node-4.example:7777")).status, 201);
  EXPECT_EQ(StoredMemberNames(), (std::vector<std::string>{"n1", "n4"}));
}

TEST_F(ClusterRoutesTest, JoinRefusesATakenNameOrPeerAddressWith409) {
  auto first = Join(JoinBody("n2", "h:1"));
  ASSERT_EQ(first.status, 201);
  const std::string id = std::to_string(nlohmann::json::parse(first.body)["id"].get<uint64_t>());
  auto same_name = Join(JoinBody("n2", "h:2"));
  EXPECT_EQ(same_name.status, 409);
  EXPECT_NE(
      nlohmann::json::parse(same_name.body)["message"].get<std::string>().find("member " + id),
      std::string::npos);
  EXPECT_EQ(Join(JoinBody("n3", "h:1")).status, 409);
  EXPECT_EQ(StoredMemberNames(), (std::vector<std::string>{"n1", "n2"}));
}

TEST_F(ClusterRoutesTest, LeaveRemovesAMemberButNeverTheLast) {
  auto id_of = [](const net::HttpResponse& r) {
    return std::to_string(nlohmann::json::parse(r.body)["id"].get<uint64_t>());
  };
  auto n2 = Join(JoinBody("n2", "h:1"));
  ASSERT_EQ(n2.status, 201);
  auto n3 = Join(JoinBody("n3", "h:2"));
  ASSERT_EQ(n3.status, 201);
  EXPECT_EQ(Call("DELETE", "/cluster/members/" + id_of(n2)).status, 204);
  EXPECT_EQ(StoredMemberNames(), (std::vector<std::string>{"n1", "n3"}));
  EXPECT_EQ(Call("DELETE", "/cluster/members/" + id_of(n2)).status, 404);
  EXPECT_EQ(Call("DELETE", "/cluster/members/" + id_of(n3)).status, 204);
  auto last = Call("DELETE", "/cluster/members/1");
  EXPECT_EQ(last.status, 409);
  EXPECT_EQ(nlohmann::json::parse(last.body)["error"], "failed_precondition");
  for (const char* bad : {"/cluster/members/x", "/cluster/members/-1", "/cluster/members/+3",
                          "/cluster/members/", "/cluster/members/99999999999999999999"}) {
    EXPECT_EQ(Call("DELETE", bad).status, 400) << bad;
  }
  EXPECT_EQ(Call("PUT", "/cluster/members/1").status, 405);
  EXPECT_EQ(StoredMemberNames(), std::vector<std::string>{"n1"});
}

TEST_F(ClusterRoutesTest, LeaderTransferAnswersTheNewLeader) {
  auto ok = Call("POST", "/cluster/leader", R"({"to": 1})");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(nlohmann::json::parse(ok.body)["leader_id"], 1u);
  EXPECT_EQ(Call("POST", "/cluster/leader", R"({"to": 2})").status, 404);
  EXPECT_EQ(Call("POST", "/cluster/leader", R"({"to": -1})").status, 400);
  EXPECT_EQ(Call("GET", "/cluster/leader").status, 405);
}

}  // namespace
}  // namespace nds::api

namespace nds::api {
namespace {

using store::TokenRole;

TEST(Access, RoutesNeedTheRolesOfTheTable) {
  struct Row {
    const char* method;
    const char* target;
    bool open;
    TokenRole role;
  };
  const Row rows[] = {
      {"GET", "/healthz", true, TokenRole::kRead},
      {"GET", "/readyz", true, TokenRole::kRead},
      {"GET", "/role", true, TokenRole::kRead},
      {"GET", "/metrics", true, TokenRole::kRead},
      {"POST", "/cluster/members", true, TokenRole::kRead},
      {"GET", "/store/k", false, TokenRole::kRead},
      {"HEAD", "/store/k", false, TokenRole::kRead},
      {"PUT", "/store/k", false, TokenRole::kWrite},
      {"POST", "/store/k", false, TokenRole::kWrite},
      {"DELETE", "/store/k", false, TokenRole::kWrite},
      {"PATCH", "/store/k", false, TokenRole::kWrite},
      {"GET", "/keys", false, TokenRole::kRead},
      {"GET", "/getAll", false, TokenRole::kRead},
      {"GET", "/get?k=a", false, TokenRole::kRead},
      {"GET", "/is?k=a", false, TokenRole::kRead},
      {"GET", "/set?k=a&v=1", false, TokenRole::kWrite},
      {"GET", "/rm?k=a", false, TokenRole::kWrite},
      {"GET", "/clear", false, TokenRole::kAdmin},
      {"GET", "/secrets/s", false, TokenRole::kWrite},
      {"POST", "/secrets/s", false, TokenRole::kWrite},
      {"GET", "/status", false, TokenRole::kRead},
      {"GET", "/cluster/members", false, TokenRole::kRead},
      {"DELETE", "/cluster/members/2", false, TokenRole::kAdmin},
      {"POST", "/cluster/leader", false, TokenRole::kAdmin},
      {"GET", "/auth/tokens", false, TokenRole::kAdmin},
      {"POST", "/auth/tokens", false, TokenRole::kAdmin},
      {"DELETE", "/auth/tokens/x", false, TokenRole::kAdmin},
      {"GET", "/snapshot", false, TokenRole::kAdmin},
      {"GET", "/ui/", true, TokenRole::kRead},
      {"GET", "/ui/app.js", true, TokenRole::kRead},
      {"GET", "/ui/data", false, TokenRole::kRead},
      {"POST", "/txn", false, TokenRole::kWrite},
      {"POST", "/ui/", false, TokenRole::kAdmin},
      {"GET", "/unknown", false, TokenRole::kRead},
      {"POST", "/unknown", false, TokenRole::kAdmin},
  };
  for (const Row& r : rows) {
    AccessNeed need = NeedFor(r.method, *ParseTarget(r.target));
    EXPECT_EQ(need.open, r.open) << r.method << " " << r.target;
    if (!r.open) {
      EXPECT_EQ(need.role, r.role) << r.method << " " << r.target;
    }
  }
  EXPECT_EQ(*NeedFor("GET", *ParseTarget("/store/a%2Fb")).key, "a/b");
  EXPECT_EQ(*NeedFor("GET", *ParseTarget("/set?k=a+b&v=1")).key, "a b");
  EXPECT_FALSE(NeedFor("GET", *ParseTarget("/store/%zz")).key.has_value());
  EXPECT_TRUE(NeedFor("GET", *ParseTarget("/getKeys")).listing);
}

TEST(Access, PrefixedTokensTouchOnlyTheirKeys) {
  store::TokenRecord writer{TokenRole::kWrite, "a/", std::string(32, 'h')};
  auto need = [](const char* method, const char* target) {
    return NeedFor(method, *ParseTarget(target));
  };
  EXPECT_EQ(Forbidden(writer, need("PUT", "/store/a/x"), std::nullopt), "");
  EXPECT_NE(Forbidden(writer, need("PUT", "/store/b/x"), std::nullopt), "");
  EXPECT_NE(Forbidden(writer, need("PUT", "/store/a"), std::nullopt), "");
  EXPECT_NE(Forbidden(writer, need("GET", "/store/%zz"), std::nullopt), "");  // fails closed
  EXPECT_NE(Forbidden(writer, need("GET", "/clear"), std::nullopt), "");
  EXPECT_EQ(Forbidden(writer, need("GET", "/keys"), "a/b"), "");
  EXPECT_NE(Forbidden(writer, need("GET", "/keys"), "b"), "");
  EXPECT_NE(Forbidden(writer, need("GET", "/keys"), ""), "");
  EXPECT_EQ(Forbidden(writer, need("GET", "/keys"), std::nullopt), "");  // clamped by the service
  store::TokenRecord reader{TokenRole::kRead, "", std::string(32, 'h')};
  EXPECT_EQ(Forbidden(reader, need("GET", "/getAll"), std::nullopt), "");
  EXPECT_NE(Forbidden(reader, need("GET", "/set?k=a&v=1"), std::nullopt), "");
  EXPECT_NE(Forbidden(reader, need("POST", "/secrets/s"), std::nullopt), "");
}

TEST(AccessToken, NamesAndSecretsParseAndHashesMatchInConstantTime) {
  std::string t = crypto::GenerateAccessToken("ci-bot");
  EXPECT_EQ(*crypto::AccessTokenName(t), "ci-bot");
  EXPECT_NE(crypto::GenerateAccessToken("ci-bot"), t);
  EXPECT_TRUE(crypto::AccessTokenMatches(crypto::HashAccessToken(t), t));
  EXPECT_FALSE(crypto::AccessTokenMatches(crypto::HashAccessToken(t), t + "x"));
  for (const std::string& bad :
       {std::string("no-dot"), std::string(".") + std::string(43, 'a'),
        std::string("n.") + std::string(42, 'a'), std::string("n.") + std::string(43, '+'),
        std::string("n.") + std::string(257, 'a')}) {
    EXPECT_FALSE(crypto::AccessTokenName(bad).has_value()) << bad;
  }
}

TEST(TokenRecords, RoundTripAndRejectDamage) {
  store::TokenRecord r{TokenRole::kWrite, "p/", std::string(32, '\x07')};
  std::string bytes = store::EncodeTokenRecord(r);
  EXPECT_EQ(*store::DecodeTokenRecord(bytes), r);
  EXPECT_FALSE(store::DecodeTokenRecord(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(store::DecodeTokenRecord(bytes + "x").ok());
  std::string bad_role = bytes;
  bad_role[1] = 9;
  EXPECT_FALSE(store::DecodeTokenRecord(bad_role).ok());
  EXPECT_FALSE(store::ValidateTokenName("").ok());
  EXPECT_FALSE(store::ValidateTokenName("a.b").ok());
  EXPECT_FALSE(store::ValidateTokenName(std::string(65, 'a')).ok());
  EXPECT_TRUE(store::ValidateTokenName("Ci_bot-2").ok());
  EXPECT_FALSE(store::ValidateTokenScope(TokenRole::kAdmin, "p").ok());
  EXPECT_FALSE(store::ValidateTokenScope(TokenRole::kRead, std::string(1025, 'p')).ok());
}

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
  std::random_device rd;
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("api_test_unseeded_" + std::to_string(rd()) + std::to_string(rd())))
                              .string();
  std::filesystem::create_directories(dir);
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
