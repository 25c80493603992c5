// Goal: the API layer's pure pieces and its routes behave as docs/api.md says, without sockets.
// Method: table tests of the Status→HTTP mapping, URI decoding, JSON text and listing parameters;
// ApiService driven directly (Handle → captured response) over a one-node RaftNode (a Raft log
// in a fresh temporary directory, the memory engine).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/http_errors.h"
#include "api/json_text.h"
#include "api/listing.h"
#include "api/service_for_test.h"
#include "api/uri.h"
#include "store/lease_state.h"

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

// The keepalive index of lease `id` as this node applied it (0 when there is no such lease).
uint64_t KeepAliveIndex(node::RaftNode* node, uint64_t id) {
  auto lease = store::ReadLease(*node->engine().NewView(), id);
  EXPECT_TRUE(lease.ok());
  return lease.ok() && *lease ? (*lease)->keepalive_index : 0;
}

TEST_F(ServiceTest, BatchKeepaliveAnswersEveryIdInOrderAndKeepsTheLiveOnes) {
  std::vector<uint64_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto granted = Call("POST", "/leases", R"({"ttl_ms": 60000})");
    ASSERT_EQ(granted.status, 201) << granted.body;
    ids.push_back(nlohmann::json::parse(granted.body)["id"].get<uint64_t>());
  }
  const uint64_t a = ids[0], b = ids[1], gone = ids[2];
  ASSERT_EQ(Call("DELETE", "/leases/" + std::to_string(gone)).status, 204);
  const uint64_t a_before = KeepAliveIndex(node_, a), b_before = KeepAliveIndex(node_, b);
  ASSERT_NE(a_before, 0u);
  auto kept =
      Call("POST", "/leases/keepalive", nlohmann::json{{"ids", {a, gone, b, a, 999999}}}.dump());
  ASSERT_EQ(kept.status, 200) << kept.body;
  EXPECT_EQ(Header(kept, "Content-Type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(kept.body), nlohmann::json::parse(fmt::format(
                                                  R"({{"leases":[{{"id":{},"ttl_ms":60000}},
                                                     {{"id":{},"error":"not_found"}},
                                                     {{"id":{},"ttl_ms":60000}},
                                                     {{"id":{},"ttl_ms":60000}},
                                                     {{"id":999999,"error":"not_found"}}]}})",
                                                  a, gone, b, a)));
  // No keeper here: every keepalive went through the log, which moved both live leases' index.
  EXPECT_GT(KeepAliveIndex(node_, a), a_before);
  EXPECT_GT(KeepAliveIndex(node_, b), b_before);
  // One id alone is answered the same way.
  auto one = Call("POST", "/leases/keepalive", "{\"ids\": [" + std::to_string(b) + "]}");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(nlohmann::json::parse(one.body)["leases"][0]["ttl_ms"], 60000);
}

TEST_F(ServiceTest, BatchKeepaliveRefusesBadBodiesAndMethodsKeepingNothingAlive) {
  auto granted = Call("POST", "/leases", R"({"ttl_ms": 60000})");
  ASSERT_EQ(granted.status, 201) << granted.body;
  const std::string id = std::to_string(nlohmann::json::parse(granted.body)["id"].get<uint64_t>());
  std::string over = "{\"ids\": [" + id;  // one more than --max-keepalive-ids (1000)
  for (int i = 0; i < 1000; ++i) over += "," + id;
  over += "]}";
  const uint64_t before = node_->GetStatus().commit_index;
  for (const std::string& bad : {
           std::string("not json"),
           std::string(""),
           std::string("[" + id + "]"),
           std::string("{}"),
           std::string("{\"ids\": " + id + "}"),
           std::string("{\"ids\": [" + id + "], \"ttl_ms\": 5}"),
           std::string("{\"id\": [" + id + "]}"),
           std::string("{\"ids\": []}"),
           std::string("{\"ids\": [" + id + ", 0]}"),
           std::string("{\"ids\": [" + id + ", -1]}"),
           std::string("{\"ids\": [" + id + ", 1.5]}"),
           fmt::format("{{\"ids\": [{0}, \"{0}\"]}}", id),
           std::string("{\"ids\": [" + id + ", null]}"),
           std::string("{\"ids\": [[" + id + "]]}"),
           std::string("{\"ids\": [" + id + ", 18446744073709551616]}"),
           over,
       }) {
    auto r = Call("POST", "/leases/keepalive", bad);
    EXPECT_EQ(r.status, 400) << bad.substr(0, 80) << " -> " << r.body;
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "invalid_argument") << bad.substr(0, 80);
  }
  auto r = Call("POST", "/leases/keepalive", over);
  EXPECT_NE(nlohmann::json::parse(r.body)["message"].get<std::string>().find("--max-keepalive-ids"),
            std::string::npos)
      << r.body;
  for (const char* method : {"GET", "PUT", "DELETE"}) {
    auto wrong = Call(method, "/leases/keepalive", "{\"ids\": [" + id + "]}");
    EXPECT_EQ(wrong.status, 405) << method;
    EXPECT_EQ(Header(wrong, "Allow"), "POST") << method;
  }
  EXPECT_EQ(node_->GetStatus().commit_index, before);  // no keepalive went to the log
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

}  // namespace
}  // namespace nds::api
