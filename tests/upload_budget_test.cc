// --max-upload-bytes-in-flight on a real node: a request whose body does not fit the budget is
// refused with 503 and Retry-After before any of its body is read (its "Expect: 100-continue"
// gets the 503, never the 100), and concurrent big uploads each end in success or such a refusal,
// never in a timeout after their body was taken.
#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/nds_process.h"
#include "harness/raw_http.h"

namespace nds::test {
namespace {

constexpr size_t kBudgetBytes = 256 << 10;

class UploadBudgetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = MakeTempDir("upload-budget");
    node_ = new NdsProcess(dir_, {"--max-upload-bytes-in-flight", std::to_string(kBudgetBytes),
                                  "--max-value-bytes", std::to_string(32 << 20)});
    ASSERT_TRUE(node_->Start()) << node_->error;
  }
  static void TearDownTestSuite() {
    if (node_) {
      EXPECT_EQ(node_->Stop(SIGTERM), 0) << node_->LogTail();
    }
    delete node_;
    node_ = nullptr;
  }

  static std::string PutHead(const std::string& key, size_t length, bool expect_continue) {
    std::string head = "PUT /store/" + key +
                       " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(length) + "\r\n";
    if (expect_continue) head += "Expect: 100-continue\r\n";
    return head + "\r\n";
  }

  // Waits (at most 10 s) until /metrics holds `line`; false if it never did.
  static bool WaitForMetric(const std::string& line) {
    for (int i = 0; i < 500; ++i) {
      RawHttp probe(node_->port());
      if (probe.Request("GET", "/metrics").body.find(line) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  static inline std::string dir_;
  static inline NdsProcess* node_ = nullptr;
};

TEST_F(UploadBudgetTest, ABodyOverTheBudgetIsRefusedBeforeItIsRead) {
  // A holds 200 KiB of the 256 KiB budget: its header is in, its body has barely begun.
  RawHttp a(node_->port());
  const std::string a_body(200 << 10, 'a');
  ASSERT_TRUE(a.SendRaw(PutHead("budget/a", a_body.size(), false) + a_body.substr(0, 10)));
  // B's 100 KiB would exceed it: B gets 503 + Retry-After though it sent no body byte at all
  // (RawHttp would wait out its timeout and report status 0 if the server waited for the body).
  // A's header may still be on its way when B's arrives, so B asks again, a bounded few times.
  // First wait (at most 10 s) until the node has read A's header and holds its 200 KiB: on a
  // loaded machine that can take longer than B's attempts below.
  WaitForMetric("\nnds_http_upload_bytes_in_flight " + std::to_string(200 << 10) + "\n");
  HttpAnswer refused;
  for (int attempt = 0; attempt < 50 && refused.status != 503; ++attempt) {
    RawHttp b(node_->port());
    ASSERT_TRUE(b.SendRaw(PutHead("budget/b", 100 << 10, true)));
    refused = b.ReadAnswer();
    if (refused.status == 100) {
      // A's header had not been read yet: B was admitted. Complete it and try again.
      ASSERT_TRUE(b.SendRaw(std::string(100 << 10, 'b')));
      ASSERT_EQ(b.ReadAnswer().status / 100, 2);
    }
  }
  ASSERT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Header("retry-after"), "1");
  EXPECT_NE(refused.body.find("--max-upload-bytes-in-flight"), std::string::npos) << refused.body;
  // /metrics shows the budget, what A holds of it, and the refusal.
  RawHttp m(node_->port());
  const std::string metrics = m.Request("GET", "/metrics").body;
  EXPECT_NE(metrics.find("\nnds_http_upload_budget_bytes " + std::to_string(kBudgetBytes) + "\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("\nnds_http_upload_bytes_in_flight " + std::to_string(200 << 10) + "\n"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("\nnds_http_uploads_refused_total 0\n"), std::string::npos) << metrics;

  // A finishes and is stored; its budget is back once it is answered.
  ASSERT_TRUE(a.SendRaw(a_body.substr(10)));
  EXPECT_EQ(a.ReadAnswer().status / 100, 2);
  // The node gives A's share back once its answer is written, which can complete just after the
  // client read it: wait (at most 10 s) until /metrics shows the budget free again.
  WaitForMetric("\nnds_http_upload_bytes_in_flight 0\n");
  RawHttp c(node_->port());
  EXPECT_EQ(c.Request("PUT", "/store/budget/b", std::string(100 << 10, 'b')).status / 100, 2);
  EXPECT_EQ(c.Request("GET", "/store/budget/a").body, a_body);
}

// A client that sends its whole body without "Expect: 100-continue" (curl does so when told
// "Expect:") is still writing it when the 503 goes out: the node reads and drops the refused body
// before it closes, so the close does not reset the connection and lose the 503. Before, it
// dropped at most 1 MiB and the client saw a reset.
TEST_F(UploadBudgetTest, ARefusedBodySentWithoutWaitingStillGetsItsRefusal) {
  RawHttp a(node_->port());
  const std::string a_body(200 << 10, 'a');
  ASSERT_TRUE(a.SendRaw(PutHead("budget/held", a_body.size(), false) + a_body.substr(0, 10)));
  ASSERT_TRUE(
      WaitForMetric("\nnds_http_upload_bytes_in_flight " + std::to_string(200 << 10) + "\n"));
  const std::string body(24 << 20,
                         'w');  // more than socket buffers hold, and a linger used to drop
  RawHttp b(node_->port(), std::chrono::seconds(30));
  ASSERT_TRUE(b.SendRaw(PutHead("budget/nowait", body.size(), false) + body));
  HttpAnswer refused = b.ReadAnswer();
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Header("retry-after"), "1");
  EXPECT_NE(refused.body.find("overloaded"), std::string::npos) << refused.body;
  ASSERT_TRUE(a.SendRaw(a_body.substr(10)));
  EXPECT_EQ(a.ReadAnswer().status / 100, 2);
  WaitForMetric("\nnds_http_upload_bytes_in_flight 0\n");
}

TEST_F(UploadBudgetTest, ALoneBodyLargerThanTheBudgetIsStillAdmitted) {
  RawHttp http(node_->port());
  const std::string big(kBudgetBytes + (64 << 10), 'x');
  EXPECT_EQ(http.Request("PUT", "/store/budget/lone", big).status / 100, 2);
  EXPECT_EQ(http.Request("GET", "/store/budget/lone").body.size(), big.size());
}

TEST_F(UploadBudgetTest, ConcurrentBigPutsEndInSuccessOrARefusalBeforeTheirBody) {
  constexpr int kClients = 8;
  const std::string value(96 << 10, 'v');  // three fit the budget at once, eight do not
  std::vector<int> outcome(kClients, 0);   // 2xx: stored; 503: refused before the body
  std::vector<std::string> detail(kClients);
  std::vector<std::thread> threads;
  threads.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      RawHttp http(node_->port(), std::chrono::seconds(30));
      const std::string key = "budget/many/" + std::to_string(i);
      if (!http.SendRaw(PutHead(key, value.size(), true))) return;
      HttpAnswer first = http.ReadAnswer();
      if (first.status != 100) {
        outcome[i] = first.status;  // answered before any body byte was sent
        detail[i] = first.Header("retry-after") + " " + first.body;
        return;
      }
      if (!http.SendRaw(value)) return;
      HttpAnswer done = http.ReadAnswer();
      outcome[i] = done.status;
      detail[i] = "after its body: " + done.body;
    });
  }
  for (auto& t : threads) t.join();
  int stored = 0;
  for (int i = 0; i < kClients; ++i) {
    if (outcome[i] / 100 == 2) {
      ++stored;
    } else {
      EXPECT_EQ(outcome[i], 503) << "client " << i << ": " << detail[i];
      EXPECT_TRUE(detail[i].starts_with("1 ")) << "client " << i << ": " << detail[i];
    }
  }
  EXPECT_GE(stored, 1);
  // Every refused client can store its value once the others are done.
  RawHttp http(node_->port());
  for (int i = 0; i < kClients; ++i) {
    if (outcome[i] / 100 == 2) continue;
    EXPECT_EQ(http.Request("PUT", "/store/budget/many/" + std::to_string(i), value).status / 100,
              2);
  }
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(http.Request("GET", "/store/budget/many/" + std::to_string(i)).body.size(),
              value.size());
  }
}

}  // namespace
}  // namespace nds::test
