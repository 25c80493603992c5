// Goal: `nds bench` flags become validated options, and every out-of-range or malformed flag is a
// clear error, never a crash or an unbounded run.
// Method: parse argument vectors through the real CLI11 registration (AddBenchFlags) and
// ToOptions; check the resulting options and the refusals; unit-check the duration and size
// parsers.
#include "loadgen/bench_options.h"

#include <vector>

#include <gtest/gtest.h>

namespace nds::loadgen {
namespace {

// Parses `args` (after the program name) as the bench flags, then validates.
Result<BenchOptions> Parse(const std::vector<std::string>& args,
                           std::string_view servers = "127.0.0.1:7777") {
  CLI::App app("test");
  BenchFlags flags;
  AddBenchFlags(&app, &flags);
  std::vector<const char*> argv{"nds-bench"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return InvalidArgument(e.what());
  }
  return flags.ToOptions(servers);
}

TEST(BenchOptions, TheIssueExampleParses) {
  Result<BenchOptions> o = Parse(
      {"--workload", "put", "--duration", "10s", "--concurrency", "64", "--value-size", "100"},
      "a:1,b:2,c:3");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->workload, Workload::kPut);
  EXPECT_EQ(o->target, Target::kNds);
  EXPECT_EQ(o->duration, std::chrono::seconds(10));
  EXPECT_FALSE(o->op_count.has_value());
  EXPECT_EQ(o->connections, 64u);
  EXPECT_EQ(o->value_bytes, 100u);
  EXPECT_EQ(o->servers.size(), 3u);
  EXPECT_FALSE(o->rate_per_second.has_value());
  EXPECT_GE(o->threads, 1u);
  EXPECT_LE(o->threads, 4u);
  EXPECT_FALSE(o->ShouldPreload());  // put reads nothing
}

TEST(BenchOptions, OpenLoopEtcdMixedAndBlobDefaults) {
  Result<BenchOptions> o = Parse({"-w", "mixed", "--target", "etcd", "-n", "500", "--rate", "1000",
                                  "--read-ratio", "0.9", "--threads", "2", "-c", "8"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->target, Target::kEtcd);
  EXPECT_EQ(o->op_count, 500u);
  EXPECT_EQ(o->rate_per_second, 1000.0);
  EXPECT_DOUBLE_EQ(o->read_ratio, 0.9);
  EXPECT_EQ(o->threads, 2u);
  EXPECT_TRUE(o->ShouldPreload());
  o = Parse({"-w", "blob", "-d", "1s"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->value_bytes, size_t{1} << 20);
  o = Parse({"-w", "get", "-d", "1s", "--no-preload"});
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->ShouldPreload());
}

TEST(BenchOptions, BadFlagsAreRefusedWithTheFlagNamed) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"-w", "put"}, "--duration or --ops"},
      {{"-w", "scan", "-d", "1s"}, "--workload"},
      {{"--target", "redis", "-d", "1s"}, "--target"},
      {{"-d", "1s", "-c", "10001"}, "--concurrency"},
      {{"-d", "1s", "-c", "0"}, "--concurrency"},
      {{"-d", "1s", "-c", "2", "--threads", "3"}, "--threads"},
      {{"-d", "1s", "-k", "0"}, "--keys"},
      {{"-d", "1s", "-s", "65MiB"}, "--value-size"},
      {{"-d", "1s", "-s", "ten"}, "--value-size"},
      {{"-d", "1s", "--read-ratio", "1.5"}, "--read-ratio"},
      {{"-d", "1s", "--rate", "0"}, "--rate"},
      {{"-d", "0s"}, "--duration"},
      {{"-d", "25h"}, "--duration"},
      {{"-d", "10parsecs"}, "--duration"},
      {{"-n", "0"}, "--ops"},
      {{"-d", "1s", "--request-timeout", "0"}, "--timeout"},
      {{"-d", "1s", "--key-prefix", std::string(513, 'p')}, "--key-prefix"},
  };
  for (const auto& [args, flag] : cases) {
    Result<BenchOptions> o = Parse(args);
    ASSERT_FALSE(o.ok()) << args[0] << " " << args[1];
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(o.status().message().find(flag), std::string::npos) << o.status().message();
  }
  EXPECT_FALSE(Parse({"-d", "1s"}, "no-port").ok());
  EXPECT_FALSE(Parse({"-d", "1s"}, "").ok());
}

TEST(BenchOptions, TxnWorkloadTakesItsOpCountAndOnlyNds) {
  Result<BenchOptions> o = Parse({"-w", "txn", "-d", "1s"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->workload, Workload::kTxn);
  EXPECT_EQ(o->txn_ops, 4u);
  EXPECT_FALSE(o->ShouldPreload());  // it writes only
  o = Parse({"-w", "txn", "--txn-ops", "16", "-d", "1s"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->txn_ops, 16u);
  EXPECT_FALSE(Parse({"-w", "txn", "--txn-ops", "0", "-d", "1s"}).ok());
  EXPECT_FALSE(Parse({"-w", "txn", "--txn-ops", "129", "-d", "1s"}).ok());
  EXPECT_FALSE(Parse({"-w", "txn", "--target", "etcd", "-d", "1s"}).ok());
}

TEST(BenchOptions, BackgroundLoadDefaultsFollowThePutsAndTheFirstServer) {
  Result<BenchOptions> o = Parse({"-d", "1s"}, "a:1,b:2");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_FALSE(o->HasBackground());
  o = Parse({"-d", "1s", "--key-prefix", "p/", "--hold-watchers", "1000", "--keep-leases", "10000"},
            "a:1,b:2");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(o->HasBackground());
  const BackgroundOptions& b = o->background;
  EXPECT_EQ(b.watchers, 1000u);
  EXPECT_EQ(b.watch_prefix, "p/");  // the watchers see every put
  EXPECT_EQ(b.leases, 10000u);
  EXPECT_EQ(b.lease_connections, 1000u);  // one per 10 leases
  EXPECT_EQ(b.lease_ttl, std::chrono::seconds(10));
  EXPECT_EQ(b.keepalive_interval, std::chrono::seconds(1));
  EXPECT_EQ(b.keepalive_batch, 1u);  // one request per lease
  ASSERT_TRUE(b.server.has_value());
  EXPECT_EQ(b.server->ToString(), "a:1");
}

TEST(BenchOptions, BackgroundLoadFlagsAreTaken) {
  Result<BenchOptions> o =
      Parse({"-d", "1s", "--hold-watchers", "3", "--watch-prefix", "other/", "--keep-leases", "5",
             "--lease-connections", "2", "--lease-ttl", "3s", "--keepalive-interval", "250ms",
             "--keepalive-batch", "100", "--background-server", "b:2"},
            "a:1,b:2");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  const BackgroundOptions& b = o->background;
  EXPECT_EQ(b.watch_prefix, "other/");
  EXPECT_EQ(b.lease_connections, 2u);
  EXPECT_EQ(b.lease_ttl, std::chrono::seconds(3));
  EXPECT_EQ(b.keepalive_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(b.keepalive_batch, 100u);
  EXPECT_EQ(b.server->ToString(), "b:2");
  EXPECT_FALSE(b.watch_each_key);
  o = Parse({"-d", "1s", "--hold-watchers", "3", "--watch-each-key"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(o->background.watch_each_key);
  o = Parse({"-d", "1s", "--keep-leases", "3"});  // never more connections than leases
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->background.lease_connections, 1u);
}

TEST(BenchOptions, BadBackgroundFlagsAreRefusedWithTheFlagNamed) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"-d", "1s", "--hold-watchers", "10001"}, "--hold-watchers"},
      {{"-d", "1s", "--keep-leases", "100001"}, "--keep-leases"},
      {{"-d", "1s", "--keep-leases", "10", "--lease-connections", "11"}, "--lease-connections"},
      {{"-d", "1s", "--keep-leases", "5000", "--lease-connections", "2001"}, "--lease-connections"},
      {{"-d", "1s", "--keep-leases", "1", "--lease-ttl", "500ms"}, "--lease-ttl"},
      {{"-d", "1s", "--keep-leases", "1", "--lease-ttl", "forever"}, "--lease-ttl"},
      {{"-d", "1s", "--keep-leases", "1", "--keepalive-interval", "5ms"}, "--keepalive-interval"},
      {{"-d", "1s", "--keep-leases", "1", "--keepalive-interval", "2h"}, "--keepalive-interval"},
      {{"-d", "1s", "--keep-leases", "1", "--keepalive-batch", "0"}, "--keepalive-batch"},
      {{"-d", "1s", "--keep-leases", "1", "--keepalive-batch", "1001"}, "--keepalive-batch"},
      {{"-d", "1s", "--hold-watchers", "1", "--watch-prefix", std::string(513, 'w')},
       "--watch-prefix"},
      {{"-d", "1s", "--hold-watchers", "1", "--watch-prefix", "x/", "--watch-each-key"},
       "--watch-each-key"},
      {{"-d", "1s", "--hold-watchers", "1", "--background-server", "a:1,b:2"},
       "--background-server"},
      {{"-d", "1s", "--hold-watchers", "1", "--background-server", "no-port"},
       "--background-server"},
  };
  for (const auto& [args, flag] : cases) {
    Result<BenchOptions> o = Parse(args);
    ASSERT_FALSE(o.ok()) << args[2] << " " << args[3];
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(o.status().message().find(flag), std::string::npos) << o.status().message();
  }
  EXPECT_FALSE(Parse({"-d", "1s", "--hold-watchers", "-1"}).ok());
}

TEST(BenchOptions, DurationsParse) {
  EXPECT_EQ(*ParseDuration("10s"), std::chrono::seconds(10));
  EXPECT_EQ(*ParseDuration("1.5"), std::chrono::milliseconds(1500));
  EXPECT_EQ(*ParseDuration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(*ParseDuration("250us"), std::chrono::microseconds(250));
  EXPECT_EQ(*ParseDuration("2m"), std::chrono::minutes(2));
  EXPECT_EQ(*ParseDuration("1h"), std::chrono::hours(1));
  for (const char* bad : {"", "s", "-1s", "0", "1d", "nan", "inf", "25h", "1e30s"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(BenchOptions, SizesParse) {
  EXPECT_EQ(*ParseBytes("0"), 0u);
  EXPECT_EQ(*ParseBytes("100"), 100u);
  EXPECT_EQ(*ParseBytes("4KiB"), 4096u);
  EXPECT_EQ(*ParseBytes("4k"), 4096u);
  EXPECT_EQ(*ParseBytes("1MiB"), 1u << 20);
  EXPECT_EQ(*ParseBytes("0.5M"), 1u << 19);
  EXPECT_EQ(*ParseBytes("64MiB"), kValueBytesMax);
  for (const char* bad : {"", "x", "-1", "1.5", "65M", "1GiB", "1e400"}) {
    EXPECT_FALSE(ParseBytes(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace nds::loadgen
