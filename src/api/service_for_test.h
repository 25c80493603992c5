// For the api/ unit tests: ServiceTest drives ApiService directly over a one-node RaftNode (a
// Raft log in a fresh temporary directory, the memory engine) and waits for each answer, bounded.
// Shared by the route tests (api_test.cc, cluster_routes_test.cc, auth_routes_test.cc). Test code
// only: nothing in the binaries includes it.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "api/service.h"
#include "node/lone_node_for_test.h"
#include "node/raft_node.h"
#include "store/command.h"
#include "store/membership.h"

namespace nds::api {

// The secret of the test cluster (no NUL: it is also searched for as text).
inline const std::string kClusterSecret(32, 'Z');

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

}  // namespace nds::api
