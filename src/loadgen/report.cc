// Progress line, text report and JSON report of a bench run (report.h).
#include "loadgen/report.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nds::loadgen {
namespace {

constexpr double kPercentiles[] = {50, 90, 99, 99.9, 99.99};

double Seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

double PerSecond(uint64_t n, std::chrono::nanoseconds d) {
  const double s = Seconds(d);
  return s > 0 ? static_cast<double>(n) / s : 0;
}

std::string LoopText(const BenchOptions& o) {
  return o.rate_per_second ? fmt::format("open loop at {:.0f} ops/s", *o.rate_per_second)
                           : std::string("closed loop");
}

std::string BackgroundText(const BenchOptions& o, const BackgroundCounts& c) {
  const BackgroundOptions& b = o.background;
  std::string out;
  if (b.watchers > 0) {
    out += fmt::format(
        "watchers    {} on {} at {}: {} events ({:.1f} per watcher), {} progress lines, {} cut "
        "early, {} caught up with the last write\n",
        c.watchers,
        b.watch_each_key ? std::string("one key each") : fmt::format("'{}'", b.watch_prefix),
        b.server->ToString(), c.watch_events,
        c.watchers > 0 ? static_cast<double>(c.watch_events) / static_cast<double>(c.watchers) : 0,
        c.watch_progress_lines, c.watchers_ended_early, c.watchers_caught_up);
    if (!c.first_watch_error.empty())
      out += fmt::format("            first: {}\n", c.first_watch_error);
  }
  if (b.leases > 0) {
    out += fmt::format(
        "leases      {} kept alive through {} every {} ms over {} connections, {} a request: {} "
        "keepalives ({:.1f}/s), {} ok, {} failed, {} late; {} revoked after\n",
        c.leases_granted, b.server->ToString(), b.keepalive_interval.count(), b.lease_connections,
        b.keepalive_batch, c.keepalives_sent, PerSecond(c.keepalives_sent, c.ran), c.keepalives_ok,
        c.keepalives_failed, c.keepalives_late, c.leases_revoked);
    if (!c.first_lease_error.empty())
      out += fmt::format("            first: {}\n", c.first_lease_error);
  }
  out +=
      fmt::format("background  ready in {:.2f} s, before the measured phase\n", Seconds(c.setup));
  return out;
}

nlohmann::json BackgroundJson(const BenchOptions& o, const BackgroundCounts& c) {
  const BackgroundOptions& b = o.background;
  nlohmann::json j;
  j["server"] = b.server->ToString();
  j["setup_s"] = Seconds(c.setup);
  j["ran_s"] = Seconds(c.ran);
  j["watchers"] = {{"held", b.watchers},
                   {"prefix", b.watch_each_key ? nlohmann::json() : nlohmann::json(b.watch_prefix)},
                   {"each_key", b.watch_each_key},
                   {"opened", c.watchers},
                   {"events", c.watch_events},
                   {"progress_lines", c.watch_progress_lines},
                   {"error_lines", c.watch_error_lines},
                   {"ended_early", c.watchers_ended_early},
                   {"caught_up", c.watchers_caught_up},
                   {"first_error", c.first_watch_error}};
  j["leases"] = {{"kept", b.leases},
                 {"granted", c.leases_granted},
                 {"ttl_ms", b.lease_ttl.count()},
                 {"keepalive_interval_ms", b.keepalive_interval.count()},
                 {"connections", b.leases > 0 ? b.lease_connections : 0},
                 {"keepalive_batch", b.keepalive_batch},
                 {"keepalives_sent", c.keepalives_sent},
                 {"keepalives_ok", c.keepalives_ok},
                 {"keepalives_failed", c.keepalives_failed},
                 {"keepalives_late", c.keepalives_late},
                 {"keepalives_per_s", PerSecond(c.keepalives_sent, c.ran)},
                 {"revoked", c.leases_revoked},
                 {"first_error", c.first_lease_error}};
  return j;
}

}  // namespace

std::string FormatLatency(uint64_t ns) {
  if (ns < 1'000'000) return fmt::format("{}us", ns / 1000);
  if (ns < 1'000'000'000) return fmt::format("{:.2f}ms", static_cast<double>(ns) / 1e6);
  return fmt::format("{:.2f}s", static_cast<double>(ns) / 1e9);
}

std::string FormatProgressLine(const Progress& p) {
  return fmt::format("{:6.1f}s  {:8.0f} ops/s  p50 {:>8}  p99 {:>8}  errors {}", Seconds(p.elapsed),
                     p.ops_per_second, FormatLatency(p.p50_ns), FormatLatency(p.p99_ns),
                     p.errors_total);
}

std::string FormatReport(const BenchOptions& o, const BenchResult& r) {
  std::string out = fmt::format(
      "workload {} against {} ({} server{}), {} keys, {} B values, {} connections on {} "
      "thread{}, {}\n",
      WorkloadName(o.workload), TargetName(o.target), o.servers.size(),
      o.servers.size() == 1 ? "" : "s", o.key_count, o.value_bytes, o.connections, o.threads,
      o.threads == 1 ? "" : "s", LoopText(o));
  if (r.preload_ops > 0) out += fmt::format("preloaded {} keys\n", r.preload_ops);
  const uint64_t completed = r.ops_ok + r.cas_conflicts;
  out += fmt::format("elapsed     {:.2f} s\n", Seconds(r.elapsed));
  out += fmt::format("ops ok      {} ({:.1f} ops/s; {} reads, {} writes)\n", r.ops_ok,
                     PerSecond(r.ops_ok, r.elapsed), r.reads_ok, r.writes_ok);
  if (o.workload == Workload::kCas) {
    out += fmt::format("cas         {} done + {} conflicts = {:.1f} ops/s\n", r.ops_ok,
                       r.cas_conflicts, PerSecond(completed, r.elapsed));
  }
  out += fmt::format("transfer    {:.2f} MB/s sent, {:.2f} MB/s received\n",
                     PerSecond(r.bytes_sent, r.elapsed) / 1e6,
                     PerSecond(r.bytes_received, r.elapsed) / 1e6);
  const ErrorCounts& e = r.errors;
  out += fmt::format(
      "errors      {} (connect {}, timeout {}, closed {}, protocol {}, 4xx {}, 5xx {}, other {})\n",
      e.Total(), e.connect, e.timeout, e.closed, e.protocol, e.http_4xx, e.http_5xx,
      e.other_status);
  if (r.connections_given_up > 0) {
    out += fmt::format("gave up     {} connections (too many consecutive failures)\n",
                       r.connections_given_up);
  }
  const Histogram& h = r.latency_ns;
  out += fmt::format("latency     min {}  mean {}", FormatLatency(h.min()),
                     FormatLatency(static_cast<uint64_t>(h.mean())));
  for (const double p : kPercentiles) {
    out += fmt::format("  p{} {}", p, FormatLatency(h.ValueAtPercentile(p)));
  }
  out += fmt::format("  max {}\n", FormatLatency(h.max()));
  if (r.background) out += BackgroundText(o, *r.background);
  return out;
}

std::string FormatJson(const BenchOptions& o, const BenchResult& r) {
  nlohmann::json j;
  j["workload"] = WorkloadName(o.workload);
  j["target"] = TargetName(o.target);
  j["servers"] = o.servers.size();
  j["connections"] = o.connections;
  j["threads"] = o.threads;
  j["keys"] = o.key_count;
  j["value_bytes"] = o.value_bytes;
  j["read_ratio"] = o.read_ratio;
  j["rate_per_second"] = o.rate_per_second ? nlohmann::json(*o.rate_per_second) : nullptr;
  j["preloaded_keys"] = r.preload_ops;
  j["elapsed_s"] = Seconds(r.elapsed);
  j["ops_ok"] = r.ops_ok;
  j["reads_ok"] = r.reads_ok;
  j["writes_ok"] = r.writes_ok;
  j["cas_conflicts"] = r.cas_conflicts;
  j["ops_per_s"] = PerSecond(r.ops_ok, r.elapsed);
  j["sent_bytes_per_s"] = PerSecond(r.bytes_sent, r.elapsed);
  j["received_bytes_per_s"] = PerSecond(r.bytes_received, r.elapsed);
  const ErrorCounts& e = r.errors;
  j["errors"] = {{"total", e.Total()},     {"connect", e.connect},   {"timeout", e.timeout},
                 {"closed", e.closed},     {"protocol", e.protocol}, {"http_4xx", e.http_4xx},
                 {"http_5xx", e.http_5xx}, {"other", e.other_status}};
  j["connections_given_up"] = r.connections_given_up;
  const Histogram& h = r.latency_ns;
  const auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  j["latency_us"] = {{"count", h.count()},
                     {"min", us(h.min())},
                     {"mean", h.mean() / 1000.0},
                     {"p50", us(h.ValueAtPercentile(50))},
                     {"p90", us(h.ValueAtPercentile(90))},
                     {"p99", us(h.ValueAtPercentile(99))},
                     {"p999", us(h.ValueAtPercentile(99.9))},
                     {"p9999", us(h.ValueAtPercentile(99.99))},
                     {"max", us(h.max())}};
  j["background"] = r.background ? BackgroundJson(o, *r.background) : nlohmann::json(nullptr);
  return j.dump() + "\n";
}

}  // namespace nds::loadgen
