// Goal: replies from the server become typed values or a Status, and no malformed reply crashes
// the client. Method: table tests of http_error.h and reply_parsing.h on hand-written bodies.
#include "client/reply_parsing.h"

#include <gtest/gtest.h>

#include "client/http_error.h"

namespace nds::client {
namespace {

HttpReply Reply(int status, std::string body, HttpHeaders headers = {}) {
  HttpReply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(StatusFromReply, MapsEveryDocumentedCode) {
  const std::pair<int, StatusCode> table[] = {{400, StatusCode::kInvalidArgument},
                                              {404, StatusCode::kNotFound},
                                              {405, StatusCode::kInvalidArgument},
                                              {409, StatusCode::kAlreadyExists},
                                              {412, StatusCode::kFailedPrecondition},
                                              {413, StatusCode::kResourceExhausted},
                                              {503, StatusCode::kUnavailable},
                                              {504, StatusCode::kTimeout},
                                              {507, StatusCode::kNoSpace},
                                              {500, StatusCode::kIoError},
                                              {302, StatusCode::kIoError}};
  for (const auto& [http, code] : table) {
    EXPECT_EQ(StatusFromReply(Reply(http, "")).code(), code) << http;
  }
}

TEST(StatusFromReply, UsesTheJsonMessageElseTheBodyElseTheCode) {
  EXPECT_EQ(
      StatusFromReply(Reply(404, R"({"error":"not_found","message":"no key 'a'"})")).message(),
      "no key 'a'");
  EXPECT_EQ(StatusFromReply(Reply(404, R"({"error":"not_found"})")).message(), "not_found");
  EXPECT_EQ(StatusFromReply(Reply(502, "bad gateway\nmore")).message(), "bad gateway");
  EXPECT_EQ(StatusFromReply(Reply(500, "")).message(), "HTTP 500");
  EXPECT_EQ(StatusFromReply(Reply(500, "{broken json")).message(), "{broken json");
}

TEST(RetryAfter, ReadsDeltaSecondsOnly) {
  EXPECT_EQ(RetryAfter(Reply(503, "", {{"retry-after", "2"}})), std::chrono::seconds(2));
  EXPECT_EQ(RetryAfter(Reply(503, "", {{"retry-after", "soon"}})), std::nullopt);
  EXPECT_EQ(RetryAfter(Reply(503, "")), std::nullopt);
}

TEST(ParseRevision, ReadsBareAndQuotedDigits) {
  EXPECT_EQ(ParseRevision("17"), 17u);
  EXPECT_EQ(ParseRevision("\"17\""), 17u);
  EXPECT_EQ(ParseRevision("W/\"17\""), 17u);
  EXPECT_EQ(ParseRevision(""), std::nullopt);
  EXPECT_EQ(ParseRevision("\"x\""), std::nullopt);
  EXPECT_EQ(ParseRevision("-1"), std::nullopt);
  EXPECT_EQ(ParseRevision("18446744073709551616"), std::nullopt);  // 2^64
  EXPECT_EQ(ParseDecimal("+5"), std::nullopt);
  EXPECT_EQ(ParseDecimal("5 "), std::nullopt);
}

TEST(ParseKeysPage, DecodesBase64KeysAndNext) {
  const ListPage page = ParseKeysPage(R"({"keys":["YQ==","AP8"],"next":"Yg"})").value();
  ASSERT_EQ(page.keys.size(), 2u);
  EXPECT_EQ(page.keys[0], "a");
  EXPECT_EQ(page.keys[1], std::string("\x00\xff", 2));
  EXPECT_EQ(page.next, "b");
  EXPECT_FALSE(ParseKeysPage(R"({"keys":[]})").value().next.has_value());
}

TEST(ParseKeysPage, RejectsMalformedReplies) {
  for (const char* bad : {"", "[]", "{}", R"({"keys":[1]})", R"({"keys":["*"]})",
                          R"({"keys":[],"next":5})", "{\"keys\":"}) {
    EXPECT_EQ(ParseKeysPage(bad).status().code(), StatusCode::kIoError) << bad;
  }
}

TEST(ParseNodeStatus, ReadsNumbersOrStringsAndKeepsDefaultsForTheRest) {
  const NodeStatus s = ParseNodeStatus(
                           R"({"id":3,"name":"n3","role":"leader","term":"7","leader_id":3,
                               "commit_index":42,"applied_index":41,"version":"0.1.0","x":[]})")
                           .value();
  EXPECT_EQ(s.id, NodeId(3));
  EXPECT_EQ(s.name, "n3");
  EXPECT_EQ(s.role, "leader");
  EXPECT_EQ(s.term, Term(7));
  EXPECT_EQ(s.leader_id, NodeId(3));
  EXPECT_EQ(s.commit_index, LogIndex(42));
  EXPECT_EQ(s.applied_index, LogIndex(41));
  EXPECT_EQ(s.version, "0.1.0");
  const NodeStatus partial = ParseNodeStatus(R"({"id":"x","leader_id":null,"term":-1})").value();
  EXPECT_EQ(partial.id, kNoNode);
  EXPECT_EQ(partial.term, Term(0));
  EXPECT_EQ(ParseNodeStatus("[1]").status().code(), StatusCode::kIoError);
  EXPECT_EQ(ParseNodeStatus("not json").status().code(), StatusCode::kIoError);
}

TEST(ParseMembers, AcceptsAListOrAnObjectAndTheSuffrageSpellings) {
  const auto members = ParseMembers(R"([
      {"id":1,"name":"a","peer_address":"h:7000","api_address":"h:7777","voter":true,
       "reachable":true,"behind":0},
      {"id":2,"name":"b","peer":"h2:7000","api":"h2:7777","role":"learner","lag":12},
      {"id":3,"learner":false}])")
                           .value();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].id, NodeId(1));
  EXPECT_TRUE(members[0].voter);
  EXPECT_EQ(members[0].reachable, true);
  EXPECT_EQ(members[0].behind_entries, 0u);
  EXPECT_EQ(members[1].peer_address, "h2:7000");
  EXPECT_EQ(members[1].api_address, "h2:7777");
  EXPECT_FALSE(members[1].voter);
  EXPECT_EQ(members[1].behind_entries, 12u);
  EXPECT_FALSE(members[1].reachable.has_value());
  EXPECT_TRUE(members[2].voter);
  EXPECT_EQ(ParseMembers(R"({"members":[{"id":9}]})").value().at(0).id, NodeId(9));
  EXPECT_EQ(ParseMembers(R"({"id":9})").status().code(), StatusCode::kIoError);
  EXPECT_EQ(ParseMembers("[5]").status().code(), StatusCode::kIoError);
}

TEST(ParseSecretKey, NeedsANonEmptyKey) {
  EXPECT_EQ(ParseSecretKey(R"({"id":"s","key":"abc"})").value(), "abc");
  EXPECT_EQ(ParseSecretKey(R"({"id":"s"})").status().code(), StatusCode::kIoError);
  EXPECT_EQ(ParseSecretKey(R"({"key":7})").status().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace nds::client
