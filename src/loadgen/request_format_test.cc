// Goal: the bytes `nds bench` sends are exactly the requests of docs/api.md (nds) and of etcd's
// v3 JSON gateway, and the etcd reply fields a CAS needs are read correctly or refused.
// Method: format each kind of request and compare with the expected bytes; base64 against the
// RFC 4648 test vectors; parse canned etcd replies.
#include "loadgen/request_format.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace nds::loadgen {
namespace {

std::string Wire(const Request& r) { return r.head + std::string(r.body); }

TEST(RequestFormat, NdsPutIsOnePutToStoreWithTheValueAsBody) {
  Request r;
  const std::string value = "0123456789";
  FormatPut(Target::kNds, "h:1", "bench/k 1", value, std::nullopt, &r);
  EXPECT_EQ(Wire(r),
            "PUT /store/bench/k%201 HTTP/1.1\r\nHost: h:1\r\nContent-Type: "
            "application/octet-stream\r\nContent-Length: 10\r\n\r\n0123456789");
  EXPECT_EQ(r.body.data(), value.data());  // the value is not copied
}

TEST(RequestFormat, NdsCasWritesCarryTheirPrecondition) {
  Request r;
  FormatPut(Target::kNds, "h", "k", "v", CasCondition{7}, &r);
  EXPECT_NE(r.head.find("\r\nIf-Match: \"7\"\r\n"), std::string::npos) << r.head;
  FormatPut(Target::kNds, "h", "k", "v", CasCondition{std::nullopt}, &r);
  EXPECT_NE(r.head.find("\r\nIf-None-Match: *\r\n"), std::string::npos) << r.head;
  EXPECT_EQ(r.head.find("If-Match"), std::string::npos);
}

TEST(RequestFormat, NdsGetHasNoBody) {
  Request r;
  FormatGet(Target::kNds, "h:2", "a/b", &r);
  EXPECT_EQ(Wire(r), "GET /store/a/b HTTP/1.1\r\nHost: h:2\r\n\r\n");
}

TEST(RequestFormat, EtcdPutAndRangeAreJsonPostsWithBase64Fields) {
  Request r;
  FormatPut(Target::kEtcd, "e:2379", "foo", "bar", std::nullopt, &r);
  EXPECT_EQ(Wire(r),
            "POST /v3/kv/put HTTP/1.1\r\nHost: e:2379\r\nContent-Type: application/json\r\n"
            "Content-Length: 29\r\n\r\n{\"key\":\"Zm9v\",\"value\":\"YmFy\"}");
  FormatGet(Target::kEtcd, "e:2379", "foo", &r);
  EXPECT_EQ(Wire(r),
            "POST /v3/kv/range HTTP/1.1\r\nHost: e:2379\r\nContent-Type: application/json\r\n"
            "Content-Length: 14\r\n\r\n{\"key\":\"Zm9v\"}");
}

TEST(RequestFormat, EtcdCasIsATxnComparingTheModRevision) {
  Request r;
  FormatPut(Target::kEtcd, "e", "foo", "bar", CasCondition{12}, &r);
  EXPECT_TRUE(r.head.starts_with("POST /v3/kv/txn HTTP/1.1\r\n"));
  EXPECT_EQ(r.body, R"({"compare":[{"key":"Zm9v","target":"MOD","mod_revision":"12"}],)"
                    R"("success":[{"request_put":{"key":"Zm9v","value":"YmFy"}}]})");
  EXPECT_NE(r.head.find(fmt::format("Content-Length: {}\r\n", r.body.size())), std::string::npos);
  FormatPut(Target::kEtcd, "e", "foo", "bar", CasCondition{std::nullopt}, &r);
  EXPECT_NE(r.body.find(R"("target":"CREATE","create_revision":"0")"), std::string::npos);
}

TEST(RequestFormat, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(RequestFormat, PercentEncodingKeepsUnreservedAndSlash) {
  EXPECT_EQ(PercentEncodePath("a/B-9._~"), "a/B-9._~");
  EXPECT_EQ(PercentEncodePath(std::string("%?# \x01\xff", 6)), "%25%3F%23%20%01%FF");
}

TEST(RequestFormat, TxnPutsAreOneNdsTransaction) {
  Request r;
  FormatTxnPuts("h:1", {"bench/0000000001", "q\"k"}, "vv", &r);
  EXPECT_EQ(r.body, R"({"success":[{"put":{"key":"bench/0000000001","value":"vv"}},)"
                    R"({"put":{"key":"q\"k","value":"vv"}}]})");
  EXPECT_EQ(r.head,
            "POST /txn HTTP/1.1\r\nHost: h:1\r\nContent-Type: application/json\r\n"
            "Content-Length: " +
                std::to_string(r.body.size()) + "\r\n\r\n");
}

TEST(RequestFormat, EtcdRangeReplyGivesTheModRevision) {
  Result<std::optional<uint64_t>> r = EtcdRangeModRevision(
      R"({"header":{"revision":"20"},"kvs":[{"key":"Zm9v","create_revision":"3",)"
      R"("mod_revision":"17","version":"4","value":"YmFy"}],"count":"1"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 17u);
  r = EtcdRangeModRevision(R"({"header":{"revision":"20"}})");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_FALSE(EtcdRangeModRevision("not json").ok());
  EXPECT_FALSE(EtcdRangeModRevision(R"({"kvs":[{"key":"Zm9v"}]})").ok());
  EXPECT_FALSE(EtcdRangeModRevision(R"({"kvs":[{"mod_revision":"x1"}]})").ok());
}

TEST(RequestFormat, EtcdTxnReplySaysWhetherTheComparisonHeld) {
  EXPECT_TRUE(*EtcdTxnSucceeded(R"({"header":{},"succeeded":true,"responses":[]})"));
  EXPECT_FALSE(*EtcdTxnSucceeded(R"({"header":{}})"));
  EXPECT_FALSE(EtcdTxnSucceeded("[").ok());
}

}  // namespace
}  // namespace nds::loadgen
