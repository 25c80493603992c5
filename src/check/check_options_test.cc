// Goal: `nds check` refuses contradictory or unbounded flags (check_options.h). Method: flag
// values through CheckFlags::ToOptions, ParseFaults and ParseWorkload.
#include "check/check_options.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace nds::check {
namespace {

TEST(ParseFaults, NamesListsAndAll) {
  EXPECT_TRUE(ParseFaults("")->empty());
  EXPECT_TRUE(ParseFaults("none")->empty());
  std::vector<FaultKind> kinds = *ParseFaults("pause,kill,pause");
  EXPECT_EQ(kinds, (std::vector<FaultKind>{FaultKind::kKill, FaultKind::kPause}));
  // "all" runs without root: every kind but partition, which is asked for by name.
  std::vector<FaultKind> all = *ParseFaults("all");
  EXPECT_EQ(all.size(), 5u);
  EXPECT_EQ(std::find(all.begin(), all.end(), FaultKind::kPartition), all.end());
  EXPECT_EQ(*ParseFaults("partition,kill"),
            (std::vector<FaultKind>{FaultKind::kKill, FaultKind::kPartition}));
  EXPECT_EQ(FaultKindName(FaultKind::kPartition), "partition");
  EXPECT_EQ(ParseFaults("kill,fire").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFaults("kill,").status().code(), StatusCode::kInvalidArgument);
}

TEST(CheckFlags, LocalOrServersAndBounds) {
  CheckFlags f;
  f.local_nodes = 3;
  Result<CheckOptions> o = f.ToOptions("", false, "/bin/nds", 7);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->seed, 7u);
  EXPECT_EQ(o->duration, kDefaultDuration);  // neither --duration nor --ops

  CheckFlags neither;
  EXPECT_FALSE(neither.ToOptions("", false, "/bin/nds", 1).ok());

  CheckFlags servers;
  servers.faults = "kill";  // faults need a local cluster
  EXPECT_FALSE(servers.ToOptions("127.0.0.1:7777", true, "/bin/nds", 1).ok());
  servers.faults.clear();
  servers.ops = 100;
  servers.seed = 5;
  o = servers.ToOptions("127.0.0.1:7777,127.0.0.1:7778", true, "/bin/nds", 1);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->servers.size(), 2u);
  EXPECT_EQ(o->seed, 5u);
  EXPECT_FALSE(o->duration.has_value());

  CheckFlags bad = f;
  bad.clients = 0;
  EXPECT_FALSE(bad.ToOptions("", false, "/bin/nds", 1).ok());
  bad = f;
  bad.keys = kKeysMax + 1;
  EXPECT_FALSE(bad.ToOptions("", false, "/bin/nds", 1).ok());
  bad = f;
  bad.local_nodes = kLocalNodesMax + 1;
  EXPECT_FALSE(bad.ToOptions("", false, "/bin/nds", 1).ok());
  bad = f;
  bad.fault_interval = "10ms";
  EXPECT_FALSE(bad.ToOptions("", false, "/bin/nds", 1).ok());
  bad = f;
  bad.duration = "2h";
  EXPECT_FALSE(bad.ToOptions("", false, "/bin/nds", 1).ok());
  bad = f;
  bad.ops = kOpsMax + 1;
  EXPECT_FALSE(bad.ToOptions("", false, "/bin/nds", 1).ok());
}

TEST(CheckFlags, WorkloadsAreNamedAndNeedADurationAndHttp) {
  EXPECT_EQ(*ParseWorkload("watch"), Workload::kWatch);
  EXPECT_EQ(*ParseWorkload("lock"), Workload::kLock);
  EXPECT_EQ(ParseWorkload("queue").status().code(), StatusCode::kInvalidArgument);
  CheckFlags f;
  f.local_nodes = 3;
  f.workload = "lease";
  Result<CheckOptions> o = f.ToOptions("", false, "/bin/nds", 7);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->workload, Workload::kLease);
  EXPECT_EQ(o->duration, kDefaultDuration);
  f.ops = 100;  // --ops alone cannot end a lease run
  EXPECT_FALSE(f.ToOptions("", false, "/bin/nds", 7).ok());
  f.ops.reset();
  f.protocol = "txn";
  EXPECT_FALSE(f.ToOptions("", false, "/bin/nds", 7).ok());
}

TEST(CheckFlags, PaddedValuesAreForTheWatchWorkloadWithinTheirBound) {
  CheckFlags f;
  f.local_nodes = 3;
  f.workload = "watch";
  f.value_bytes = 4096;
  Result<CheckOptions> o = f.ToOptions("", false, "/bin/nds", 7);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->value_bytes, 4096u);
  f.value_bytes = kValueBytesMax + 1;
  EXPECT_NE(f.ToOptions("", false, "/bin/nds", 7).status().message().find("--value-bytes"),
            std::string::npos);
  f.value_bytes = 4096;
  f.workload = "register";
  EXPECT_NE(f.ToOptions("", false, "/bin/nds", 7).status().message().find("--value-bytes"),
            std::string::npos);
}

}  // namespace
}  // namespace nds::check
