// Goal: the dashboard (/ui/, docs/dashboard.md) shows a 3-node cluster as it is, in a real
// browser: every member up with its leader marked, then the member that was killed as down with
// an alert, and with --auth it asks for a token instead of showing figures.
// Method: FastClusterTest (launcher::LocalCluster) on 127.0.0.1; Debian's chromium, headless,
// renders the page and prints its DOM after the page's first polls (--virtual-time-budget); each
// render is bounded by timeout(1) and the wait for the killed member by a deadline.
// NDS_DASHBOARD_SCREENSHOT=FILE also saves a screenshot of the page with the member down
// (docs/dashboard.png is one).
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "harness/fast_cluster.h"
#include "harness/nds_process.h"
#include "harness/run_bounded.h"
#include "launcher/local_cluster.h"

namespace nds::test {
namespace {

using std::chrono::seconds;

const char* const kChromium =
    "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
    "--user-data-dir=";

// The page's DOM after it has run for a few (virtual) seconds.
std::string RenderedDom(const std::string& profile_dir, const std::string& url) {
  return RunBounded(std::string(kChromium) + profile_dir +
                        " --virtual-time-budget=3000 --dump-dom '" + url + "'",
                    90)
      .text;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The cluster (when a test starts one) is FastClusterTest's; the browser's profile and a lone
// node live in scratch_.
class DashboardTest : public FastClusterTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(HaveTool("chromium")) << "chromium is not installed: run scripts/install-deps";
    scratch_ = MakeTempDir("dashboard");
    ASSERT_FALSE(scratch_.empty());
    profile_ = scratch_ + "/chromium-profile";
  }

  std::string scratch_;
  std::string profile_;
};

TEST_F(DashboardTest, ShowsEveryMemberThenAKilledOneAsDown) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(3));
  auto goose = cluster_->WaitForGoose(seconds(10));
  ASSERT_TRUE(goose.ok()) << goose.status().ToString();
  const size_t leader = *goose;
  const std::string url = "http://" + cluster_->node(leader).api_address() + "/ui/";

  std::string dom = RenderedDom(profile_, url);
  EXPECT_EQ(Count(dom, "data-state=\"up\""), 3u) << dom;
  EXPECT_EQ(Count(dom, "data-role=\"leader\""), 1u) << dom;
  EXPECT_NE(dom.find("data-member=\"" + cluster_->node(leader).spec().name +
                     "\" data-state=\"up\" data-role=\"leader\""),
            std::string::npos)
      << dom;
  EXPECT_EQ(dom.find(" is down"), std::string::npos) << dom;  // no member alert (disk alerts
                                                              // depend on this machine)

  const size_t victim = (leader + 1) % 3;
  const std::string victim_name = cluster_->node(victim).spec().name;
  ASSERT_TRUE(cluster_->Kill(victim).ok());
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  const std::string down_row = "data-member=\"" + victim_name + "\" data-state=\"down\"";
  do {
    dom = RenderedDom(profile_, url);
  } while (dom.find(down_row) == std::string::npos && std::chrono::steady_clock::now() < deadline);
  EXPECT_NE(dom.find(down_row), std::string::npos) << dom;
  EXPECT_NE(dom.find("Member " + victim_name + " is down"), std::string::npos) << dom;
  EXPECT_EQ(Count(dom, "data-state=\"up\""), 2u) << dom;

  if (const char* shot = std::getenv("NDS_DASHBOARD_SCREENSHOT")) {
    RunBounded(std::string(kChromium) + profile_ +
                   " --window-size=1100,900 --virtual-time-budget=3000 --screenshot=" + shot +
                   " '" + url + "'",
               90);
  }
}

TEST_F(DashboardTest, WithAuthTheStaticPageLoadsAndAsksForAToken) {
  NdsProcess node(scratch_ + "/node", {"--auth"});
  ASSERT_TRUE(node.Start()) << node.error;
  std::string dom = RenderedDom(profile_, "http://" + node.address() + "/ui/");
  EXPECT_NE(dom.find("<form id=\"token-form\">"), std::string::npos) << dom;  // no longer hidden
  EXPECT_NE(dom.find("Enter a token"), std::string::npos) << dom;
  EXPECT_EQ(Count(dom, "data-state="), 0u) << dom;  // no member shown without a token
  EXPECT_EQ(node.Stop(SIGTERM), 0) << node.LogTail();
}

}  // namespace
}  // namespace nds::test
