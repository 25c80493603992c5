// The load generator's engine (runner.h): workers (one thread and io_context each), connection
// coroutines, the per-thread timeout reaper, and the phase driver with its progress reports.
#include "loadgen/runner.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "loadgen/asio_common.h"
#include "loadgen/request_format.h"
#include "loadgen/response_parser.h"
#include "net/maybe_tls_stream.h"
#include "util/thread_annotations.h"

namespace nds::loadgen {
namespace {

constexpr std::chrono::milliseconds kBackoffFirst{10};
constexpr std::chrono::milliseconds kBackoffMax{1'000};

enum class Outcome { kOk, kCasConflict, kTimeout, kClosed, kProtocol, k4xx, k5xx, kOtherStatus };

Outcome OutcomeOfStatusCode(int code) {
  if (code >= 200 && code < 300) return Outcome::kOk;
  if (code >= 400 && code < 500) return Outcome::k4xx;
  if (code >= 500) return Outcome::k5xx;
  return Outcome::kOtherStatus;
}

Outcome OutcomeOfFailure(const Status& s) {
  switch (s.code()) {
    case StatusCode::kTimeout:
      return Outcome::kTimeout;
    case StatusCode::kUnavailable:
      return Outcome::kClosed;
    default:
      return Outcome::kProtocol;
  }
}

// Shared by every worker of one phase. Immutable while workers run, except the atomics.
struct Phase {
  const BenchOptions* options = nullptr;
  bool preload = false;
  Clock::time_point start;
  std::optional<Clock::time_point> deadline;
  uint64_t ops_limit = UINT64_MAX;
  std::atomic<uint64_t> ops_started{0};
  std::vector<tcp::endpoint> endpoints;
  std::vector<std::string> hosts;        // Host header per endpoint
  std::shared_ptr<net::SslContext> tls;  // set when a server is https://
  // The value every write sends: one copy shared read-only by all connections, so that memory
  // does not grow with connections times value size.
  std::string value;
};

// One connection's state. Owned by its Worker; touched only on that worker's thread.
struct Conn {
  explicit Conn(asio::io_context& ioc) : stream(ioc), timer(ioc), read_buffer(kReadBufferBytes) {}
  size_t id = 0;
  size_t server = 0;
  net::MaybeTlsStream stream;  // plain, or TLS for an https:// server
  asio::steady_timer timer;
  // The reaper closes the socket once this passes (max: nothing outstanding).
  Clock::time_point io_deadline = Clock::time_point::max();
  bool timed_out = false;  // the reaper closed the socket
  ResponseParser parser;
  std::vector<char> read_buffer;
  std::mt19937_64 rng;
  std::string key;
  std::vector<std::string> txn_keys;  // the txn workload's keys of the op in flight
  Request request;
};

// Counters of one worker. Guarded by Worker::mu_.
struct WorkerStats {
  Histogram interval_latency_ns;
  BenchResult totals;
  std::string first_error;
};

// One thread with its io_context and its connections. Created and joined by RunPhase.
class Worker {
 public:
  explicit Worker(Phase* phase) : phase_(phase) {}

  void AddConnection(size_t id, size_t server) {
    auto c = std::make_unique<Conn>(ioc_);
    c->id = id;
    c->server = server;
    c->rng.seed(phase_->options->seed * 1'000'003 + id);
    conns_.push_back(std::move(c));
  }

  // Thread body: runs every connection to its end.
  void Run() {
    active_ = conns_.size();
    for (auto& c : conns_) {
      asio::co_spawn(ioc_, RunConnection(*c), [](const std::exception_ptr& e) { NDS_CHECK(!e); });
    }
    asio::co_spawn(ioc_, Reap(), [](const std::exception_ptr& e) { NDS_CHECK(!e); });
    ioc_.run();
  }

  // Moves the interval latency into *into (and clears it); adds the worker's totals to *totals.
  void Collect(Histogram* interval, BenchResult* totals, std::string* first_error) {
    MutexLock lock(mu_);
    interval->Merge(stats_.interval_latency_ns);
    stats_.interval_latency_ns.Reset();
    totals->ops_ok += stats_.totals.ops_ok;
    totals->cas_conflicts += stats_.totals.cas_conflicts;
    totals->reads_ok += stats_.totals.reads_ok;
    totals->writes_ok += stats_.totals.writes_ok;
    totals->bytes_sent += stats_.totals.bytes_sent;
    totals->bytes_received += stats_.totals.bytes_received;
    totals->connections_given_up += stats_.totals.connections_given_up;
    totals->errors.Add(stats_.totals.errors);
    totals->latency_ns.Merge(stats_.totals.latency_ns);
    if (stats_.totals.last_write_revision) {
      totals->last_write_revision =
          std::max(totals->last_write_revision.value_or(0), *stats_.totals.last_write_revision);
    }
    if (first_error->empty()) *first_error = stats_.first_error;
  }

 private:
  asio::awaitable<void> RunConnection(Conn& c);
  asio::awaitable<Status> Connect(Conn& c);
  asio::awaitable<Outcome> DoOp(Conn& c, bool* is_read);
  asio::awaitable<Outcome> DoCas(Conn& c);
  asio::awaitable<Status> RoundTrip(Conn& c, ResponseLimits limits);
  asio::awaitable<void> Reap();
  // Waits `d` on the connection's timer. The wait's error (only ever a cancellation) is of no
  // interest: the caller re-checks the deadline and the socket after it.
  asio::awaitable<void> SleepFor(Conn& c, Clock::duration d) {
    c.timer.expires_after(d);
    co_await c.timer.async_wait(kUseTuple);
  }

  // Whether another operation may start (not past the deadline nor the op limit).
  bool TakeOp(Clock::time_point send_time, uint64_t* op_index) {
    if (phase_->deadline && send_time >= *phase_->deadline) return false;
    *op_index = phase_->ops_started.fetch_add(1, std::memory_order_relaxed);
    return *op_index < phase_->ops_limit;
  }

  void Record(Outcome outcome, bool is_read, Clock::duration latency);
  void RecordConnectError(const Status& error) {
    MutexLock lock(mu_);
    ++stats_.totals.errors.connect;
    if (stats_.first_error.empty()) stats_.first_error = "connect: " + error.ToString();
  }

  Phase* const phase_;
  asio::io_context ioc_{1};
  std::vector<std::unique_ptr<Conn>> conns_;
  size_t active_ = 0;  // connections still running; worker thread only
  Mutex mu_;
  WorkerStats stats_ NDS_GUARDED_BY(mu_);
};

asio::awaitable<void> Worker::Reap() {
  const BenchOptions& o = *phase_->options;
  const auto tick =
      std::clamp<Clock::duration>(std::min(o.request_timeout, o.connect_timeout) / 4,
                                  std::chrono::milliseconds(1), std::chrono::milliseconds(100));
  asio::steady_timer timer(ioc_);
  while (active_ > 0) {
    timer.expires_after(tick);
    co_await timer.async_wait(kUseTuple);
    const Clock::time_point now = Clock::now();
    for (auto& c : conns_) {
      if (now < c->io_deadline) continue;
      c->timed_out = true;
      c->io_deadline = Clock::time_point::max();
      boost::system::error_code ec;
      c->stream.socket().close(ec);  // aborts the pending connect, write or read
    }
  }
}

asio::awaitable<Status> Worker::Connect(Conn& c) {
  boost::system::error_code ec;
  c.stream.socket().close(ec);
  c.stream.ResetTls();
  c.timed_out = false;
  c.io_deadline = Clock::now() + phase_->options->connect_timeout;
  const tcp::endpoint& endpoint = phase_->endpoints[c.server];
  std::tie(ec) = co_await c.stream.socket().async_connect(endpoint, kUseTuple);
  c.io_deadline = Clock::time_point::max();
  if (c.timed_out || ec) {
    boost::system::error_code ignored;
    c.stream.socket().close(ignored);  // a failed connect leaves the socket open but unconnected
    const std::string& host = phase_->hosts[c.server];
    if (c.timed_out) co_return Timeout(fmt::format("connect to {} timed out", host));
    co_return Unavailable(fmt::format("connect to {}: {}", host, ec.message()));
  }
  c.stream.socket().set_option(tcp::no_delay(true), ec);
  const client::ServerAddress& server = phase_->options->servers[c.server];
  if (!server.tls) co_return Status::Ok();
  // HTTPS: the handshake, bounded by the connect timeout too.
  c.stream.StartTls(*phase_->tls);
  SSL* ssl = c.stream.tls()->native_handle();
  if (Status s = net::SetTlsPeerHost(ssl, server.host); !s.ok()) co_return s;
  c.io_deadline = Clock::now() + phase_->options->connect_timeout;
  std::tie(ec) =
      co_await c.stream.tls()->async_handshake(asio::ssl::stream_base::client, kUseTuple);
  c.io_deadline = Clock::time_point::max();
  if (c.timed_out || ec) {
    const std::string reason =
        c.timed_out ? std::string("timed out") : net::DescribeTlsFailure(ssl, ec);
    boost::system::error_code ignored;
    c.stream.socket().close(ignored);
    co_return Unavailable(
        fmt::format("TLS handshake with {}: {}", phase_->hosts[c.server], reason));
  }
  co_return Status::Ok();
}

asio::awaitable<void> Worker::RunConnection(Conn& c) {
  const BenchOptions& o = *phase_->options;
  const bool open_loop = o.rate_per_second.has_value() && !phase_->preload;
  const auto interval =
      open_loop
          ? std::chrono::duration<double>(static_cast<double>(o.connections) / *o.rate_per_second)
          : std::chrono::duration<double>(0);
  const auto offset = interval * (static_cast<double>(c.id) / static_cast<double>(o.connections));
  uint64_t schedule_index = 0;
  size_t failures = 0;  // consecutive
  while (true) {
    if (!c.stream.socket().is_open()) {
      if (phase_->deadline && Clock::now() >= *phase_->deadline) break;
      const Status connected = co_await Connect(c);
      if (!connected.ok()) {
        RecordConnectError(connected);
        if (++failures > o.reconnects_max) {
          MutexLock lock(mu_);
          ++stats_.totals.connections_given_up;
          break;
        }
        Clock::duration backoff = std::min<Clock::duration>(
            kBackoffFirst * (1 << std::min<size_t>(failures - 1, 10)), kBackoffMax);
        if (phase_->deadline) backoff = std::min(backoff, *phase_->deadline - Clock::now());
        co_await SleepFor(c, backoff);
        continue;
      }
    }
    // Open loop: the op's intended send time is fixed by the schedule, whatever happened before.
    const Clock::time_point intended =
        open_loop ? phase_->start + std::chrono::duration_cast<Clock::duration>(
                                        offset + interval * static_cast<double>(schedule_index++))
                  : Clock::now();
    uint64_t op_index = 0;
    if (!TakeOp(intended, &op_index)) break;
    if (open_loop && intended > Clock::now()) co_await SleepFor(c, intended - Clock::now());
    const uint64_t key_index = phase_->preload ? op_index : c.rng() % o.key_count;
    AssignKey(&c.key, o.key_prefix, key_index);
    bool is_read = false;
    const Outcome outcome = co_await DoOp(c, &is_read);
    Record(outcome, is_read, Clock::now() - intended);
    if (outcome == Outcome::kOk && !is_read && c.parser.response().revision) {
      MutexLock lock(mu_);
      stats_.totals.last_write_revision =
          std::max(stats_.totals.last_write_revision.value_or(0), *c.parser.response().revision);
    }
    if (outcome == Outcome::kClosed || outcome == Outcome::kTimeout ||
        outcome == Outcome::kProtocol) {
      boost::system::error_code ec;
      c.stream.socket().close(ec);
      ++failures;
      if (failures > o.reconnects_max) {
        MutexLock lock(mu_);
        ++stats_.totals.connections_given_up;
        break;
      }
    } else {
      failures = 0;
      if (c.parser.response().connection_close) {
        boost::system::error_code ec;
        c.stream.socket().close(ec);
      }
    }
  }
  boost::system::error_code ec;
  c.stream.socket().close(ec);
  --active_;
}

asio::awaitable<Outcome> Worker::DoOp(Conn& c, bool* is_read) {
  const BenchOptions& o = *phase_->options;
  const std::string& host = phase_->hosts[c.server];
  if (!phase_->preload && o.workload == Workload::kCas) co_return co_await DoCas(c);
  *is_read =
      !phase_->preload && (o.workload == Workload::kGet ||
                           ((o.workload == Workload::kMixed || o.workload == Workload::kBlob) &&
                            std::uniform_real_distribution<double>(0, 1)(c.rng) < o.read_ratio));
  if (*is_read) {
    FormatGet(o.target, host, c.key, &c.request);
  } else if (!phase_->preload && o.workload == Workload::kTxn) {
    // c.key and txn_ops - 1 more random keys, in one transaction.
    c.txn_keys.resize(o.txn_ops);
    c.txn_keys[0] = c.key;
    for (size_t i = 1; i < o.txn_ops; ++i) {
      AssignKey(&c.txn_keys[i], o.key_prefix, c.rng() % o.key_count);
    }
    FormatTxnPuts(host, c.txn_keys, phase_->value, &c.request);
  } else {
    FormatPut(o.target, host, c.key, phase_->value, std::nullopt, &c.request);
  }
  const Status s = co_await RoundTrip(c, ResponseLimits{});
  if (!s.ok()) {
    MutexLock lock(mu_);
    if (stats_.first_error.empty()) stats_.first_error = s.ToString();
    co_return OutcomeOfFailure(s);
  }
  co_return OutcomeOfStatusCode(c.parser.response().status_code);
}

// Read the key's revision, then write only if it is unchanged (or, for a missing key, only if it
// is still missing). A lost race is a conflict, not an error.
asio::awaitable<Outcome> Worker::DoCas(Conn& c) {
  const BenchOptions& o = *phase_->options;
  const std::string& host = phase_->hosts[c.server];
  FormatGet(o.target, host, c.key, &c.request);
  ResponseLimits read_limits;
  read_limits.keep_body = o.target == Target::kEtcd;
  Status s = co_await RoundTrip(c, read_limits);
  if (!s.ok()) co_return OutcomeOfFailure(s);
  const Response& read = c.parser.response();
  CasCondition condition;
  if (o.target == Target::kNds) {
    if (read.status_code != 404) {
      if (read.status_code != 200) co_return OutcomeOfStatusCode(read.status_code);
      if (!read.revision) co_return Outcome::kProtocol;
      condition.revision = read.revision;
    }
  } else {
    if (read.status_code != 200) co_return OutcomeOfStatusCode(read.status_code);
    Result<std::optional<uint64_t>> revision = EtcdRangeModRevision(read.body);
    if (!revision.ok()) co_return Outcome::kProtocol;
    condition.revision = *revision;
  }
  if (read.connection_close) co_return Outcome::kClosed;
  FormatPut(o.target, host, c.key, phase_->value, condition, &c.request);
  ResponseLimits write_limits;
  write_limits.keep_body = o.target == Target::kEtcd;
  s = co_await RoundTrip(c, write_limits);
  if (!s.ok()) co_return OutcomeOfFailure(s);
  const Response& write = c.parser.response();
  if (o.target == Target::kNds && write.status_code == 412) co_return Outcome::kCasConflict;
  if (write.status_code != 200 && o.target == Target::kEtcd) {
    co_return OutcomeOfStatusCode(write.status_code);
  }
  if (o.target == Target::kEtcd) {
    Result<bool> succeeded = EtcdTxnSucceeded(write.body);
    if (!succeeded.ok()) co_return Outcome::kProtocol;
    co_return *succeeded ? Outcome::kOk : Outcome::kCasConflict;
  }
  co_return OutcomeOfStatusCode(write.status_code);
}

asio::awaitable<Status> Worker::RoundTrip(Conn& c, ResponseLimits limits) {
  c.timed_out = false;
  c.io_deadline = Clock::now() + phase_->options->request_timeout;
  const std::string& token = phase_->options->auth_token;
  if (!token.empty() && phase_->options->target == Target::kNds) {
    // Before the blank line that ends the head.
    c.request.head.insert(c.request.head.size() - 2, "Authorization: Bearer " + token + "\r\n");
  }
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(c.request.head),
                                                  asio::buffer(c.request.body)};
  auto [ec, written] = co_await asio::async_write(c.stream, buffers, kUseTuple);
  uint64_t read_bytes = 0;
  Status status;
  c.parser.Reset(limits);
  while (!ec) {
    size_t n = 0;
    std::tie(ec, n) = co_await c.stream.async_read_some(asio::buffer(c.read_buffer), kUseTuple);
    read_bytes += n;
    if (ec == asio::error::eof) {
      ec = {};
      status = c.parser.FeedEof();
      if (status.ok() && !c.parser.done()) status = Unavailable("connection closed");
      break;
    }
    if (ec) break;
    Result<size_t> used = c.parser.Feed(std::string_view(c.read_buffer.data(), n));
    if (!used.ok()) {
      status = used.status();
      break;
    }
    if (c.parser.done()) {
      // We never pipeline: bytes after the reply mean the server is confused.
      if (*used != n) status = IoError("bytes after the end of a reply");
      break;
    }
  }
  c.io_deadline = Clock::time_point::max();
  {
    MutexLock lock(mu_);
    stats_.totals.bytes_sent += written;
    stats_.totals.bytes_received += read_bytes;
  }
  if (c.timed_out) co_return Timeout("no reply within the request timeout");
  if (ec) co_return Unavailable(fmt::format("connection lost: {}", ec.message()));
  co_return status;
}

void Worker::Record(Outcome outcome, bool is_read, Clock::duration latency) {
  const auto ns = static_cast<uint64_t>(
      std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count()));
  MutexLock lock(mu_);
  BenchResult& t = stats_.totals;
  switch (outcome) {
    case Outcome::kOk:
      ++t.ops_ok;
      ++(is_read ? t.reads_ok : t.writes_ok);
      break;
    case Outcome::kCasConflict:
      ++t.cas_conflicts;
      break;
    case Outcome::kTimeout:
      ++t.errors.timeout;
      break;
    case Outcome::kClosed:
      ++t.errors.closed;
      break;
    case Outcome::kProtocol:
      ++t.errors.protocol;
      break;
    case Outcome::k4xx:
      ++t.errors.http_4xx;
      break;
    case Outcome::k5xx:
      ++t.errors.http_5xx;
      break;
    case Outcome::kOtherStatus:
      ++t.errors.other_status;
      break;
  }
  if (phase_->preload) return;
  t.latency_ns.Record(ns);
  stats_.interval_latency_ns.Record(ns);
}

Status Resolve(const BenchOptions& o, Phase* phase) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  for (const client::ServerAddress& server : o.servers) {
    boost::system::error_code ec;
    const auto results = resolver.resolve(server.host, std::to_string(server.port), ec);
    if (ec || results.empty()) {
      return Unavailable(fmt::format("cannot resolve {}: {}", server.ToString(),
                                     ec ? ec.message() : "no address"));
    }
    phase->endpoints.push_back(results.begin()->endpoint());
    phase->hosts.push_back(server.HostPort());
    if (server.tls && !phase->tls) {
      const client::ClientTlsOptions& t = o.tls;
      NDS_ASSIGN_OR_RETURN(phase->tls,
                           net::MakeClientTlsContext({t.ca_file, t.cert_file, t.key_file}));
    }
  }
  return Status::Ok();
}

// Runs one phase (the preload or the measured run) to its end and returns its totals.
BenchResult RunPhase(const BenchOptions& o, bool preload, const ProgressCallback& on_progress,
                     std::chrono::milliseconds progress_interval, const Phase& resolved,
                     std::string* first_error) {
  Phase phase;
  phase.options = &o;
  phase.preload = preload;
  phase.endpoints = resolved.endpoints;
  phase.hosts = resolved.hosts;
  phase.tls = resolved.tls;
  std::mt19937_64 value_rng(o.seed);
  phase.value.resize(o.value_bytes);
  for (char& ch : phase.value) ch = static_cast<char>('a' + value_rng() % 26);
  phase.start = Clock::now();
  if (preload) {
    phase.ops_limit = o.key_count;
  } else {
    if (o.duration) phase.deadline = phase.start + *o.duration;
    if (o.op_count) phase.ops_limit = *o.op_count;
  }
  const size_t connections =
      preload ? static_cast<size_t>(std::min<uint64_t>(o.connections, o.key_count)) : o.connections;
  const size_t thread_count = std::min(o.threads, connections);
  std::vector<std::unique_ptr<Worker>> workers;
  for (size_t t = 0; t < thread_count; ++t) workers.push_back(std::make_unique<Worker>(&phase));
  for (size_t i = 0; i < connections; ++i) {
    workers[i % thread_count]->AddConnection(i, o.one_server ? 0 : i % phase.endpoints.size());
  }

  std::mutex done_mu;
  std::condition_variable done_cv;
  size_t done_count = 0;  // guarded by done_mu
  std::vector<std::thread> threads;
  threads.reserve(workers.size());
  for (auto& w : workers) {
    threads.emplace_back([&, worker = w.get()] {
      worker->Run();
      std::lock_guard lock(done_mu);
      ++done_count;
      done_cv.notify_all();
    });
  }
  Histogram interval;
  uint64_t ops_before = 0;
  Clock::time_point last_report = phase.start;
  while (true) {
    std::unique_lock lock(done_mu);
    if (done_cv.wait_for(lock, progress_interval, [&] { return done_count == workers.size(); })) {
      break;
    }
    lock.unlock();
    if (!on_progress) continue;
    BenchResult sums;
    std::string ignored;
    interval.Reset();
    for (auto& w : workers) w->Collect(&interval, &sums, &ignored);
    const Clock::time_point now = Clock::now();
    const uint64_t ops = sums.ops_ok + sums.cas_conflicts + sums.errors.FailedOps();
    Progress p;
    p.elapsed = now - phase.start;
    p.ops_total = ops;
    p.ops_per_second = static_cast<double>(ops - ops_before) /
                       std::chrono::duration<double>(now - last_report).count();
    p.p50_ns = interval.ValueAtPercentile(50);
    p.p99_ns = interval.ValueAtPercentile(99);
    p.errors_total = sums.errors.Total();
    on_progress(p);
    ops_before = ops;
    last_report = now;
  }
  for (auto& t : threads) t.join();
  BenchResult result;
  result.elapsed = Clock::now() - phase.start;
  Histogram ignored;
  for (auto& w : workers) w->Collect(&ignored, &result, first_error);
  return result;
}

}  // namespace

Result<BenchResult> RunBench(const BenchOptions& options, const ProgressCallback& on_progress,
                             std::chrono::milliseconds progress_interval) {
  NDS_RETURN_IF_ERROR(options.Validate());
  Phase resolved;
  NDS_RETURN_IF_ERROR(Resolve(options, &resolved));
  uint64_t preload_ops = 0;
  if (options.ShouldPreload()) {
    std::string first_error;
    const BenchResult preload =
        RunPhase(options, /*preload=*/true, {}, progress_interval, resolved, &first_error);
    if (preload.ops_ok != options.key_count) {
      return Unavailable(fmt::format("preload wrote {} of {} keys ({} errors; first: {})",
                                     preload.ops_ok, options.key_count, preload.errors.Total(),
                                     first_error.empty() ? "none" : first_error));
    }
    preload_ops = preload.ops_ok;
  }
  std::unique_ptr<BackgroundLoad> background;
  if (options.HasBackground()) {
    NDS_ASSIGN_OR_RETURN(background, BackgroundLoad::Start(options));
  }
  std::string first_error;
  BenchResult result =
      RunPhase(options, /*preload=*/false, on_progress, progress_interval, resolved, &first_error);
  result.preload_ops = preload_ops;
  if (background) result.background = background->Finish(result.last_write_revision);
  return result;
}

}  // namespace nds::loadgen
