// Goal: the cluster routes (join, leave, leader transfer) behave as docs/api.md says, without
// sockets. Method: ApiService driven directly over a one-node cluster (ServiceTest); joins add
// learners at made-up addresses, which never catch up, so the node stays the only voter.
#include <chrono>
#include <future>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/service_for_test.h"
#include "crypto/base64url.h"
#include "crypto/join_token.h"
#include "store/keyspace.h"

namespace nds::api {
namespace {

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

  net::HttpResponse Join(std::string body, const std::string& token = kToken) {
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
