// Goal: the API layer's pure pieces and its routes behave as shared/API.md says, without sockets.
// Method: table tests of the Status→HTTP mapping, URI decoding, JSON text and listing parameters;
// ApiService driven directly (Handle → captured response) over a one-node RaftNode (a Raft log
// in a fresh temporary directory, the memory engine).
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/http_errors.h"
#include "api/json_text.h"
#include "api/listing.h"
#include "api/service.h"
#include "api/uri.h"
#include "crypto/base64url.h"
#include "crypto/join_token.h"
#include "engine/memory_engine.h"
#include "node/raft_node.h"
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
  // applied.
  ServiceTest() {
    std::random_device rd;
    dir_ = (std::filesystem::temp_directory_path() /
            ("api_test_" + std::to_string(rd()) + std::to_string(rd())))
               .string();
    std::filesystem::create_directories(dir_);
    node::RaftNodeOptions o;
    o.name = "n1";
    o.api_address = "127.0.0.1:7777";
    o.data_dir = dir_;
    o.cluster_secret = kClusterSecret;
    o.bootstrap = true;
    o.limits.heartbeat_interval = std::chrono::milliseconds(10);
    o.limits.election_timeout = std::chrono::milliseconds(100);
    o.limits.lease_duration = std::chrono::milliseconds(80);
    auto node = node::RaftNode::Open(engine::NewMemoryEngine(), o);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    if (!node.ok()) return;
    node_ = std::move(node).value();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline &&
           !(node_->GetStatus().has_lease && StoredMemberNames().size() == 1)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(StoredMemberNames(), std::vector<std::string>{"n1"});
    ApiOptions api_options;
    api_options.cluster_secret = kClusterSecret;
    api_ = std::make_unique<ApiService>(node_.get(), api_options);
  }
  ~ServiceTest() override {
    api_.reset();
    node_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::vector<std::string> StoredMemberNames() {
    std::vector<std::string> names;
    auto members = store::ReadMembers(node_->engine());
    EXPECT_TRUE(members.ok());
    if (members.ok()) {
      for (const auto& m : *members) names.push_back(m.name);
    }
    return names;
  }

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

  std::string dir_;
  std::unique_ptr<node::RaftNode> node_;
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
