// Goal: every typed call of nds::Client sends exactly the request docs/api.md describes
// (method, target with its key encoding, headers, body) and turns each reply, good or bad, into
// the documented value or Status. Method: a scripted fake HTTP server on 127.0.0.1
// (fake_http_server.h) records the requests and plays back canned replies.
#include "client/client.h"

#include <algorithm>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "client/client_for_test.h"
#include "client/fake_http_server.h"
#include "util/limits.h"

namespace nds::client {
namespace {

using namespace std::string_literals;
using testing::ClientFor;
using testing::FakeHttpServer;
using testing::FakeReply;
using testing::RecordedRequest;

FakeReply Json(int status, std::string body) {
  return FakeReply::Status(status, std::move(body)).With("Content-Type", "application/json");
}

// A key with '/', a space, '%', NUL and a high byte, and its path encoding.
const std::string kOddKey = "dir/a b%c\x00\xff"s;
const std::string kOddKeyPath = "/store/dir/a%20b%25c%00%FF";

TEST(ClientPut, SendsEncodedKeyHeadersAndBinaryBody) {
  FakeHttpServer server(
      [](const RecordedRequest&) { return FakeReply::Status(201).With("X-Revision", "12"); });
  auto client = ClientFor(server);
  const std::string value = "v\x00\x01\xffz"s;
  PutOptions put_options;
  put_options.content_type = "image/png";
  put_options.if_match_revision = 7;
  const PutResult put = client->Put(kOddKey, value, put_options).value();
  EXPECT_EQ(put.revision, 12u);
  EXPECT_TRUE(put.created);
  const RecordedRequest req = server.last_request();
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.target, kOddKeyPath);
  EXPECT_EQ(req.Header("content-type"), "image/png");
  EXPECT_EQ(req.Header("if-match"), "\"7\"");
  EXPECT_FALSE(req.HasHeader("if-none-match"));
  EXPECT_EQ(req.Header("host"), server.address().ToString());
  EXPECT_EQ(req.body, value);
}

TEST(ClientPut, ReplacedIsNotCreatedAndCreateOnlySendsIfNoneMatchStar) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.HasHeader("if-none-match")) {
      return Json(412, R"({"error":"failed_precondition","message":"key exists"})");
    }
    return FakeReply::Status(204).With("X-Revision", "13");
  });
  auto client = ClientFor(server);
  const PutResult put = client->Put("k", "").value();
  EXPECT_FALSE(put.created);
  EXPECT_EQ(put.revision, 13u);
  EXPECT_EQ(server.last_request().Header("content-length"), "0");
  PutOptions create_only;
  create_only.if_none_match_star = true;
  const auto refused = client->Put("k", "v", create_only);
  EXPECT_EQ(refused.status(), FailedPrecondition("key exists"));
  EXPECT_EQ(server.last_request().Header("if-none-match"), "*");
}

TEST(ClientCreate, PostsAndMapsConflictToAlreadyExists) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.body == "second") return Json(409, R"({"error":"exists","message":"already there"})");
    return FakeReply::Status(201).With("X-Revision", "3").With("Location", "/store/k");
  });
  auto client = ClientFor(server);
  EXPECT_EQ(client->Create("a/b c", "first", "text/plain").value(), 3u);
  EXPECT_EQ(server.last_request().method, "POST");
  EXPECT_EQ(server.last_request().target, "/store/a/b%20c");
  EXPECT_EQ(server.last_request().Header("content-type"), "text/plain");
  EXPECT_EQ(client->Create("a", "second").status(), AlreadyExists("already there"));
}

TEST(ClientGet, ReturnsValueRevisionFromEtagAndContentType) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.target != kOddKeyPath)
      return Json(404, R"({"error":"not_found","message":"no such key"})");
    return FakeReply::Status(200, "blob\x00bytes"s)
        .With("ETag", "\"41\"")
        .With("Content-Type", "application/octet-stream");
  });
  auto client = ClientFor(server);
  const Blob blob = client->Get(kOddKey).value();
  EXPECT_EQ(blob.value, "blob\x00bytes"s);
  EXPECT_EQ(blob.revision, 41u);
  EXPECT_EQ(blob.content_type, "application/octet-stream");
  EXPECT_EQ(server.last_request().method, "GET");
  EXPECT_EQ(server.last_request().body, "");
  EXPECT_EQ(client->Get("missing").status(), NotFound("no such key"));
}

TEST(ClientHead, ReadsSizeWithoutABody) {
  FakeHttpServer server([](const RecordedRequest&) {
    FakeReply reply = FakeReply::Status(200).With("ETag", "\"9\"").With("Content-Type", "a/b");
    reply.content_length = 123456;
    return reply;
  });
  auto client = ClientFor(server);
  const BlobInfo info = client->Head("k").value();
  EXPECT_EQ(info.size_bytes, 123456u);
  EXPECT_EQ(info.revision, 9u);
  EXPECT_EQ(info.content_type, "a/b");
  EXPECT_EQ(server.last_request().method, "HEAD");
  // The connection is still in step: a second call on it works.
  EXPECT_EQ(client->Head("k").value().size_bytes, 123456u);
  EXPECT_EQ(server.connections_accepted(), 1u);
}

TEST(ClientDelete, SendsIfMatchAndReturnsTheRevision) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.Header("if-match") == "\"5\"") return Json(412, R"({"message":"revision is 6"})");
    return FakeReply::Status(204).With("X-Revision", "20");
  });
  auto client = ClientFor(server);
  EXPECT_EQ(client->Delete("x y").value(), 20u);
  EXPECT_EQ(server.last_request().method, "DELETE");
  EXPECT_EQ(server.last_request().target, "/store/x%20y");
  EXPECT_EQ(client->Delete("x", 5).status(), FailedPrecondition("revision is 6"));
}

TEST(ClientList, FormEncodesParametersAndDecodesBase64Keys) {
  FakeHttpServer server([](const RecordedRequest&) {
    return Json(200, R"({"keys":["YSBi","YQBj"],"next":"YQBj"})");
  });
  auto client = ClientFor(server);
  const ListPage page = client->List("a b/", "a\x00"s, 2).value();
  EXPECT_EQ(server.last_request().target, "/keys?encoding=base64&prefix=a+b%2F&after=a%00&limit=2");
  ASSERT_EQ(page.keys.size(), 2u);
  EXPECT_EQ(page.keys[0], "a b");
  EXPECT_EQ(page.keys[1],
            "a\x00"
            "c"s);
  EXPECT_EQ(page.next,
            "a\x00"
            "c"s);
  EXPECT_EQ(client->List("", "", kListLimitMax + 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(ClientForEachKey, PagesThroughEveryKeyPassingNextAsAfter) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.target.find("after=") == std::string::npos) {
      return Json(200, R"({"keys":["YQ==","Yg=="],"next":"Yg=="})");
    }
    return Json(200, R"({"keys":["Yw=="]})");
  });
  auto client = ClientFor(server);
  std::vector<std::string> keys;
  ASSERT_TRUE(client
                  ->ForEachKey("",
                               [&](std::string_view k) {
                                 keys.emplace_back(k);
                                 return Status::Ok();
                               })
                  .ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "c"}));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].target, "/keys?encoding=base64&after=b&limit=1000");
}

TEST(ClientForEachKey, StopsOnAServerWhoseNextDoesNotAdvance) {
  FakeHttpServer server(
      [](const RecordedRequest&) { return Json(200, R"({"keys":[],"next":""})"); });
  auto client = ClientFor(server);
  const Status s = client->ForEachKey("p", [](std::string_view) { return Status::Ok(); });
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ClientForEachKey, StopsWhenTheCallbackFails) {
  FakeHttpServer server([](const RecordedRequest&) {
    return Json(200, R"({"keys":["YQ==","Yg=="],"next":"Yg=="})");
  });
  auto client = ClientFor(server);
  int calls = 0;
  const Status s = client->ForEachKey("", [&](std::string_view) {
    ++calls;
    return Cancelled("enough");
  });
  EXPECT_EQ(s, Cancelled("enough"));
  EXPECT_EQ(calls, 1);
}

TEST(ClientKeyValue, UsesTheGetRoutesWithFormEncodedParameters) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.target == "/get?k=default") return FakeReply::Status(200, "hello world");
    if (r.target.starts_with("/is?k=there")) return FakeReply::Status(200);
    if (r.target.starts_with("/is") || r.target.starts_with("/rm")) {
      return Json(404, R"({"message":"no key"})");
    }
    return FakeReply::Status(200);
  });
  auto client = ClientFor(server);
  ASSERT_TRUE(client->Set("default", "hello world&x=1").ok());
  EXPECT_EQ(server.last_request().target, "/set?k=default&v=hello+world%26x%3D1");
  EXPECT_EQ(server.last_request().method, "GET");
  EXPECT_EQ(client->KvGet("default").value(), "hello world");
  EXPECT_EQ(client->Is("there").value(), true);
  EXPECT_EQ(client->Is("gone").value(), false);
  EXPECT_EQ(client->Rm("gone"), NotFound("no key"));
  EXPECT_EQ(server.last_request().target, "/rm?k=gone");
  ASSERT_TRUE(client->Clear().ok());
  EXPECT_EQ(server.last_request().target, "/clear");
}

TEST(ClientCluster, ParsesStatusRoleAndMembers) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.target == "/status") {
      return Json(200, R"({"id":2,"name":"n2","role":"follower","term":4,"leader_id":1,
                           "commit_index":10,"applied_index":9,"version":"0.1.0"})");
    }
    if (r.target == "/role") return FakeReply::Status(200, "duck\n");
    return Json(200, R"([{"id":1,"name":"n1","voter":true},{"id":2,"name":"n2","voter":false}])");
  });
  auto client = ClientFor(server);
  const NodeStatus status = client->GetStatus().value();
  EXPECT_EQ(status.id, NodeId(2));
  EXPECT_EQ(status.leader_id, NodeId(1));
  EXPECT_EQ(status.term, Term(4));
  EXPECT_EQ(client->Role().value(), "duck");
  const auto members = client->Members().value();
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[1].name, "n2");
  EXPECT_FALSE(members[1].voter);
  EXPECT_EQ(server.last_request().target, "/cluster/members");
}

TEST(ClientCluster, RemoveMemberAndTransferLeaderSendTheirRoutes) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.target == "/cluster/members/7") return Json(404, R"({"message":"unknown member 7"})");
    return FakeReply::Status(r.method == "DELETE" ? 204 : 200);
  });
  auto client = ClientFor(server);
  ASSERT_TRUE(client->RemoveMember(NodeId(3)).ok());
  EXPECT_EQ(server.last_request().method, "DELETE");
  EXPECT_EQ(server.last_request().target, "/cluster/members/3");
  EXPECT_EQ(client->RemoveMember(NodeId(7)), NotFound("unknown member 7"));
  ASSERT_TRUE(client->TransferLeader(NodeId(2)).ok());
  EXPECT_EQ(server.last_request().method, "POST");
  EXPECT_EQ(server.last_request().target, "/cluster/leader");
  EXPECT_EQ(server.last_request().body, R"({"to":2})");
  EXPECT_EQ(client->RemoveMember(kNoNode).code(), StatusCode::kInvalidArgument);
}

TEST(ClientCluster, JoinPostsTheMemberWithTheTokenAndParsesTheReply) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.Header("authorization") != "Bearer tok-1") {
      return Json(403, R"({"error":"permission_denied","message":"wrong join token"})");
    }
    if (r.body.find("\"taken\"") != std::string::npos) {
      return Json(409, R"({"error":"already_exists","message":"member 2 already has the name"})");
    }
    return Json(201, R"({"id":5,"cluster_id":"c-1","members":[{"id":1,"name":"n1","voter":true},
                         {"id":5,"name":"n5","peer_address":"h:1","voter":false}]})")
        .With("Location", "/cluster/members/5");
  });
  auto client = ClientFor(server);
  const JoinRequest request{"n5", "h:1", "h:2", {}};
  const JoinReply reply = client->Join(request, "tok-1").value();
  EXPECT_EQ(reply.id, 5u);
  EXPECT_EQ(reply.cluster_id, "c-1");
  ASSERT_EQ(reply.members.size(), 2u);
  EXPECT_EQ(reply.members[1].id, NodeId(5));
  EXPECT_FALSE(reply.members[1].voter);
  const RecordedRequest req = server.last_request();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/cluster/members");
  EXPECT_EQ(req.Header("content-type"), "application/json");
  const auto body = nlohmann::json::parse(req.body);
  EXPECT_EQ(body,
            (nlohmann::json{{"name", "n5"}, {"peer_address", "h:1"}, {"api_address", "h:2"}}));

  EXPECT_EQ(client->Join(request, "wrong").status(), InvalidArgument("wrong join token"));
  EXPECT_EQ(client->Join(JoinRequest{"taken", "h:3", "h:4", {}}, "tok-1").status().code(),
            StatusCode::kAlreadyExists);
  const size_t sent = server.requests().size();
  EXPECT_EQ(client->Join(request, "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server.requests().size(), sent);  // refused before sending
}

TEST(ClientCluster, JoinIsNeverRetriedAndNeedsAnIdInTheReply) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.body.find("\"busy\"") != std::string::npos) {
      return Json(503, R"({"error":"unavailable","message":"no quorum"})").With("Retry-After", "0");
    }
    return Json(201, R"({"cluster_id":"c-1","members":[]})");
  });
  auto client = ClientFor(server);
  EXPECT_EQ(client->Join(JoinRequest{"busy", "h:1", "h:2", {}}, "t").status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(client->Join(JoinRequest{"n", "h:1", "h:2", {}}, "t").status().code(),
            StatusCode::kIoError);
}

TEST(ClientCluster, RemovingTheLastMemberIsAFailedPrecondition) {
  FakeHttpServer server([](const RecordedRequest&) {
    return Json(409, R"({"error":"failed_precondition","message":"the last member cannot leave"})");
  });
  auto client = ClientFor(server);
  EXPECT_EQ(client->RemoveMember(NodeId(1)), FailedPrecondition("the last member cannot leave"));
}

TEST(ClientSecrets, StoreReturnsTheKeyAndRetrieveSendsIt) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.method == "POST") return Json(201, R"({"id":"db pw","key":"k3y_-"})");
    if (r.Header("x-secret-key") != "k3y_-") return Json(404, R"({"message":"no such secret"})");
    return FakeReply::Status(200, "s3cret\x00"s);
  });
  auto client = ClientFor(server);
  EXPECT_EQ(client->StoreSecret("db pw", "s3cret\x00"s).value(), "k3y_-");
  EXPECT_EQ(server.last_request().target, "/secrets/db%20pw");
  EXPECT_EQ(server.last_request().body, "s3cret\x00"s);
  EXPECT_EQ(client->RetrieveSecret("db pw", "k3y_-").value(), "s3cret\x00"s);
  EXPECT_EQ(server.last_request().method, "GET");
  EXPECT_EQ(client->RetrieveSecret("db pw", "wrong").status(), NotFound("no such secret"));
}

TEST(ClientRaw, ReturnsAnyStatusAndRejectsHeaderInjection) {
  FakeHttpServer server(
      [](const RecordedRequest&) { return FakeReply::Status(418, "teapot").With("X-Thing", "1"); });
  auto client = ClientFor(server);
  const HttpReply reply = client->Raw("PATCH", "/x?y=1", "body", {{"X-A", "b"}}).value();
  EXPECT_EQ(reply.status, 418);
  EXPECT_EQ(reply.body, "teapot");
  EXPECT_EQ(reply.Header("x-thing"), "1");
  EXPECT_EQ(server.last_request().method, "PATCH");
  EXPECT_EQ(server.last_request().Header("x-a"), "b");
  EXPECT_EQ(client->Raw("GET", "/x", "", {{"X-A", "b\r\nX-Evil: 1"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(client->Raw("GET", "/a b").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client->Raw("G T", "/").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ClientErrors, EachHttpStatusBecomesItsTypedErrorWithTheServerMessage) {
  const std::pair<int, StatusCode> table[] = {
      {400, StatusCode::kInvalidArgument},   {404, StatusCode::kNotFound},
      {401, StatusCode::kInvalidArgument},   {403, StatusCode::kInvalidArgument},
      {409, StatusCode::kAlreadyExists},     {412, StatusCode::kFailedPrecondition},
      {413, StatusCode::kResourceExhausted}, {503, StatusCode::kUnavailable},
      {507, StatusCode::kNoSpace},           {500, StatusCode::kIoError}};
  for (const auto& [http, code] : table) {
    FakeHttpServer server([http = http](const RecordedRequest&) {
      return Json(http, fmt::format(R"({{"error":"e","message":"because {}"}})", http))
          .With("Retry-After", "0");
    });
    auto client = ClientFor(server);
    // POST is never retried, so every status is seen exactly once.
    EXPECT_EQ(client->Create("k", "v").status(), Status(code, fmt::format("because {}", http)));
    EXPECT_EQ(server.requests().size(), 1u) << http;
  }
}

TEST(ClientErrors, BadKeysAreRefusedWithoutARequest) {
  FakeHttpServer server([](const RecordedRequest&) { return FakeReply::Status(200); });
  auto client = ClientFor(server);
  EXPECT_EQ(client->Get("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client->Put(std::string(kKeyBytesMax + 1, 'k'), "v").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(client->StoreSecret("", "v").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server.requests().size(), 0u);
  // The longest key is fine.
  EXPECT_TRUE(client->Put(std::string(kKeyBytesMax, 'k'), "v").ok());
}

TEST(ClientValues, SeventeenMebibytesOfEveryByteRoundTrip) {
  std::string stored;
  FakeHttpServer server([&stored](const RecordedRequest& r) {
    if (r.method == "PUT") {
      stored = r.body;
      return FakeReply::Status(201).With("X-Revision", "1");
    }
    return FakeReply::Status(200, stored).With("ETag", "\"1\"");
  });
  auto client = ClientFor(server);
  std::string value(17 << 20, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>((i * 7) & 0xFF);
  ASSERT_TRUE(client->Put("big", value).ok());
  const Blob blob = client->Get("big").value();
  EXPECT_EQ(blob.value.size(), value.size());
  EXPECT_TRUE(blob.value == value);
}

TEST(ClientValues, AnEarly413BeforeTheBodyIsReadIsReportedNotALostConnection) {
  FakeHttpServer server(
      [](const RecordedRequest&) {
        return Json(413,
                    R"({"error":"too_large","message":"the request body exceeds 1024 bytes"})");
      },
      /*answer_after_header=*/true);
  auto client = ClientFor(server);
  // Far more than the socket buffers hold, so the write fails once the server has closed.
  const std::string value(32 << 20, 'v');
  EXPECT_EQ(client->Put("k", value).status(),
            ResourceExhausted("the request body exceeds 1024 bytes"));
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ClientValues, ReplyOverTheLimitIsResourceExhausted) {
  FakeHttpServer server(
      [](const RecordedRequest&) { return FakeReply::Status(200, std::string(4096, 'x')); });
  ClientOptions options;
  options.servers = {server.address()};
  options.reply_body_bytes_max = 1024;
  auto client = Client::Create(options).value();
  EXPECT_EQ(client->Get("k").status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ClientValues, MalformedReplyIsAnIoError) {
  FakeHttpServer server([](const RecordedRequest&) {
    FakeReply reply = FakeReply::Of(FakeReply::Action::kRawBytes);
    reply.raw = "HTTP/1.1 abc nonsense\r\n\r\n";
    return reply;
  });
  auto client = ClientFor(server);
  EXPECT_EQ(client->Get("k").status().code(), StatusCode::kIoError);
}

TEST(ClientAuth, EveryCallButJoinSendsTheBearerTokenAndTokenCallsParse) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.target == "/auth/tokens" && r.method == "POST") {
      return Json(201, R"({"name":"ci","token":"ci.secret"})");
    }
    if (r.target == "/auth/tokens") {
      return Json(200, R"({"tokens":[{"name":"ci","role":"read","prefix":"p/"}]})");
    }
    if (r.target == "/auth/tokens/gone") return Json(404, R"({"error":"not_found"})");
    if (r.target == "/cluster/members")
      return Json(201, R"({"id":5,"cluster_id":"c","members":[]})");
    return FakeReply::Status(204, "");
  });
  ClientOptions options;
  options.servers = {server.address()};
  options.auth_token = "root.abc";
  auto client = Client::Create(options).value();
  EXPECT_EQ(client->CreateToken("ci", "read", "p/").value(), "ci.secret");
  EXPECT_EQ(server.last_request().Header("authorization"), "Bearer root.abc");
  EXPECT_EQ(nlohmann::json::parse(server.last_request().body),
            (nlohmann::json{{"name", "ci"}, {"role", "read"}, {"prefix", "p/"}}));
  const auto tokens = client->ListTokens().value();
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].prefix, "p/");
  EXPECT_TRUE(client->RevokeToken("ci").ok());
  EXPECT_EQ(server.last_request().method, "DELETE");
  EXPECT_EQ(client->RevokeToken("gone").code(), StatusCode::kNotFound);
  ASSERT_TRUE(client->Raw("GET", "/anything").ok());
  EXPECT_EQ(server.last_request().Header("authorization"), "Bearer root.abc");
  ASSERT_TRUE(client->Join(JoinRequest{"n", "h:1", "h:2", {}}, "join-tok").ok());
  EXPECT_EQ(server.last_request().Header("authorization"), "Bearer join-tok");
  for (const RecordedRequest& r : server.requests()) {  // exactly one Authorization each
    EXPECT_EQ(std::count_if(r.headers.begin(), r.headers.end(),
                            [](const auto& h) { return h.first == "authorization"; }),
              1)
        << r.target;
  }
  options.auth_token = "bad token";
  EXPECT_EQ(Client::Create(options).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nds::client
