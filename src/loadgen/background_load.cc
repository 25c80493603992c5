// The background load of `nds bench` (background_load.h): watcher and lease-worker coroutines on
// one thread, a reaper that closes connections past their deadline, and the start/finish
// handshakes with the bench's thread.
#include "loadgen/background_load.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "loadgen/asio_common.h"
#include "loadgen/request_format.h"
#include "loadgen/response_parser.h"
#include "loadgen/watch_line_counter.h"
#include "util/check.h"
#include "util/thread_annotations.h"

namespace nds::loadgen {
namespace {

// A watch stream is read for as long as the run lasts: its body has no practical bound.
constexpr size_t kWatchBodyBytesMax = SIZE_MAX;
// Setup (connects, the first line of each stream, the grants) ends by itself, each step bounded
// by the request timeout; this only caps the wait for it.
constexpr std::chrono::hours kSetupWaitMax{1};

// One HTTP/1.1 keep-alive connection of the background load. Touched on the load's thread only.
struct Link {
  explicit Link(asio::io_context& ioc) : socket(ioc), timer(ioc), buffer(kReadBufferBytes) {}
  tcp::socket socket;
  asio::steady_timer timer;  // the keepalive schedule's waits
  // The reaper closes the socket once this passes (max: no deadline).
  Clock::time_point io_deadline = Clock::time_point::max();
  bool timed_out = false;
  size_t failures = 0;  // consecutive failed connects or requests
  ResponseParser parser;
  std::vector<char> buffer;
  std::string head;
};

}  // namespace

class BackgroundLoad::Impl {
 public:
  explicit Impl(const BenchOptions& options)
      : o_(options), bg_(options.background), counters_(bg_.watchers) {
    if (!o_.auth_token.empty()) auth_header_ = "Authorization: Bearer " + o_.auth_token + "\r\n";
    host_ = bg_.server->HostPort();
  }

  Status Resolve() {
    tcp::resolver resolver(ioc_);
    boost::system::error_code ec;
    const auto results = resolver.resolve(bg_.server->host, std::to_string(bg_.server->port), ec);
    if (ec || results.empty()) {
      return Unavailable(fmt::format("cannot resolve {}: {}", bg_.server->ToString(),
                                     ec ? ec.message() : "no address"));
    }
    endpoint_ = results.begin()->endpoint();
    return Status::Ok();
  }

  // Spawns every coroutine and the thread, then waits until setup is over. Returns the first
  // setup failure, if any.
  Status Launch() {
    const size_t lease_workers = bg_.leases == 0 ? 0 : bg_.lease_connections;
    lease_ids_.assign(bg_.leases, 0);
    const size_t workers = bg_.watchers + lease_workers;
    {
      MutexLock lock(mu_);
      setup_pending_ = workers;
    }
    running_ = workers;
    const Clock::time_point begin = Clock::now();
    for (size_t i = 0; i < bg_.watchers; ++i) {
      watch_links_.push_back(std::make_unique<Link>(ioc_));
      asio::co_spawn(ioc_, Watch(i), [](const std::exception_ptr& e) { NDS_CHECK(!e); });
    }
    for (size_t j = 0; j < lease_workers; ++j) {
      lease_links_.push_back(std::make_unique<Link>(ioc_));
      asio::co_spawn(ioc_, KeepLeases(j), [](const std::exception_ptr& e) { NDS_CHECK(!e); });
    }
    asio::co_spawn(ioc_, Reap(), [](const std::exception_ptr& e) { NDS_CHECK(!e); });
    thread_ = std::thread([this] { ioc_.run(); });
    MutexLock lock(mu_);
    const Clock::time_point setup_deadline = begin + kSetupWaitMax;
    while (setup_pending_ != 0 && lock.WaitUntil(cv_, setup_deadline)) {
    }
    const bool done = setup_pending_ == 0;
    counts_setup_ = Clock::now() - begin;
    if (!done) return Timeout("the background load's setup did not end within an hour");
    if (setup_failures_ > 0) return Unavailable(setup_error_);
    return Status::Ok();
  }

  // Tells the lease workers to start their keepalives (after a successful setup).
  void Go() {
    ready_ = Clock::now();
    asio::post(ioc_, [this] {
      keepalive_start_ = Clock::now();
      go_ = true;
      for (auto& l : lease_links_) l->timer.cancel();
    });
  }

  BackgroundCounts Finish(std::optional<uint64_t> last_write_revision) {
    const Clock::time_point finish = Clock::now();
    asio::post(ioc_, [this, last_write_revision] {
      stopping_ = true;
      target_revision_ = last_write_revision;
      for (auto& l : lease_links_) l->timer.cancel();
      const Clock::time_point drain_deadline = Clock::now() + o_.request_timeout;
      for (size_t i = 0; i < watch_links_.size(); ++i) {
        if (CaughtUp(i)) {
          Close(*watch_links_[i]);
        } else {
          watch_links_[i]->io_deadline = drain_deadline;  // the reaper closes it then
        }
      }
    });
    if (thread_.joinable()) thread_.join();
    counts_.setup = counts_setup_;
    if (ready_) counts_.ran = finish - *ready_;
    return counts_;
  }

 private:
  static void Close(Link& l) {
    boost::system::error_code ignored;
    l.socket.close(ignored);
  }

  bool CaughtUp(size_t watcher) const {
    return !target_revision_ || counters_[watcher].revision() >= *target_revision_;
  }

  // Setup of one coroutine is over (`error` empty when it succeeded). Exactly once each.
  void SetupDone(const std::string& error) {
    MutexLock lock(mu_);
    if (!error.empty() && setup_failures_++ == 0) setup_error_ = error;
    if (--setup_pending_ == 0) cv_.notify_all();
  }

  asio::awaitable<Status> Connect(Link& l) {
    Close(l);
    l.timed_out = false;
    l.io_deadline = Clock::now() + o_.connect_timeout;
    auto [ec] = co_await l.socket.async_connect(endpoint_, kUseTuple);
    l.io_deadline = Clock::time_point::max();
    if (l.timed_out || ec) {
      Close(l);
      co_return Unavailable(fmt::format("connect to {}: {}", host_,
                                        l.timed_out ? std::string("timed out") : ec.message()));
    }
    l.socket.set_option(tcp::no_delay(true), ec);
    co_return Status::Ok();
  }

  // Sends `l.head` (and `body`) and reads one whole reply into l.parser, connecting first when
  // the socket is closed. The reply's status is the caller's to judge.
  asio::awaitable<Status> RoundTrip(Link& l, std::string_view body, bool keep_body) {
    if (!l.socket.is_open()) {
      if (Status s = co_await Connect(l); !s.ok()) co_return s;
    }
    l.timed_out = false;
    l.io_deadline = Clock::now() + o_.request_timeout;
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(l.head), asio::buffer(body)};
    auto [ec, written] = co_await asio::async_write(l.socket, buffers, kUseTuple);
    ResponseLimits limits;
    limits.keep_body = keep_body;
    l.parser.Reset(limits);
    Status status;
    while (!ec && !l.parser.done()) {
      size_t n = 0;
      std::tie(ec, n) = co_await l.socket.async_read_some(asio::buffer(l.buffer), kUseTuple);
      if (ec) break;
      Result<size_t> used = l.parser.Feed(std::string_view(l.buffer.data(), n));
      if (!used.ok()) {
        status = used.status();
        break;
      }
      // Nothing is pipelined: bytes after the reply mean the server is confused.
      if (l.parser.done() && *used != n) status = IoError("bytes after the end of a reply");
    }
    l.io_deadline = Clock::time_point::max();
    if (status.ok() && !l.parser.done()) {
      status = l.timed_out ? Timeout("no reply within the request timeout")
                           : Unavailable(fmt::format("connection to {} lost: {}", host_,
                                                     ec ? ec.message() : "bytes after a reply"));
    }
    if (!status.ok() || l.parser.response().connection_close) Close(l);
    co_return status;
  }

  void FormatRequest(Link& l, std::string_view method, std::string_view target, size_t body_bytes) {
    l.head = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\n{}", method, target, host_, auth_header_);
    if (body_bytes > 0) {
      l.head += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body_bytes);
    } else if (method != "GET") {
      l.head += "Content-Length: 0\r\n";
    }
    l.head += "\r\n";
  }

  asio::awaitable<void> Watch(size_t index);
  asio::awaitable<void> KeepLeases(size_t worker);
  // Keeps `ids` alive with one request (POST /leases/{id}/keepalive for one, POST
  // /leases/keepalive for more) and counts each as ok or failed; the round trip's own status.
  asio::awaitable<Status> KeepAlive(Link& l, const std::vector<uint64_t>& ids);
  asio::awaitable<Result<uint64_t>> Grant(Link& l);
  asio::awaitable<void> Reap();

  const BenchOptions& o_;
  const BackgroundOptions& bg_;
  std::string host_;
  std::string auth_header_;
  tcp::endpoint endpoint_;
  asio::io_context ioc_{1};
  std::thread thread_;

  // The load's thread only (and the bench's thread after the join).
  std::vector<std::unique_ptr<Link>> watch_links_;
  std::vector<std::unique_ptr<Link>> lease_links_;
  std::vector<WatchLineCounter> counters_;   // one per watcher
  std::vector<uint64_t> lease_ids_;          // per lease; 0 until granted
  size_t running_ = 0;                       // coroutines not yet ended (the reaper's guard)
  bool go_ = false;                          // the keepalives may start
  bool stopping_ = false;                    // Finish began
  std::optional<uint64_t> target_revision_;  // the last put's, set by Finish
  Clock::time_point keepalive_start_;
  BackgroundCounts counts_;

  // The bench's thread only.
  std::optional<Clock::time_point> ready_;
  std::chrono::nanoseconds counts_setup_{0};

  Mutex mu_;
  std::condition_variable cv_;
  size_t setup_pending_ NDS_GUARDED_BY(mu_) = 0;
  size_t setup_failures_ NDS_GUARDED_BY(mu_) = 0;
  std::string setup_error_ NDS_GUARDED_BY(mu_);
};

asio::awaitable<void> BackgroundLoad::Impl::Watch(size_t index) {
  Link& l = *watch_links_[index];
  WatchLineCounter& counter = counters_[index];
  std::string error;
  bool setup = true;  // until the stream's first line
  if (bg_.watch_each_key) {
    std::string key;
    AssignKey(&key, o_.key_prefix, index % o_.key_count);
    FormatRequest(l, "GET", "/watch?key=" + PercentEncodePath(key), 0);
  } else {
    FormatRequest(l, "GET", "/watch?prefix=" + PercentEncodePath(bg_.watch_prefix), 0);
  }
  if (Status s = co_await Connect(l); !s.ok()) error = s.ToString();
  if (error.empty()) {
    l.io_deadline = Clock::now() + o_.request_timeout;
    auto [ec, written] = co_await asio::async_write(l.socket, asio::buffer(l.head), kUseTuple);
    if (ec) error = fmt::format("watch request to {}: {}", host_, ec.message());
    ResponseLimits limits;
    limits.body_bytes_max = kWatchBodyBytesMax;
    limits.on_body = [&counter](std::string_view bytes) { counter.Feed(bytes); };
    l.parser.Reset(std::move(limits));
    while (error.empty()) {
      size_t n = 0;
      std::tie(ec, n) = co_await l.socket.async_read_some(asio::buffer(l.buffer), kUseTuple);
      if (ec) {
        if (!stopping_) {
          error = l.timed_out ? std::string("no answer within the request timeout")
                              : fmt::format("watch stream from {} lost: {}", host_, ec.message());
        }
        break;
      }
      Result<size_t> used = l.parser.Feed(std::string_view(l.buffer.data(), n));
      if (!used.ok()) {
        error = "watch stream: " + used.status().ToString();
        break;
      }
      const Response& head = l.parser.response();
      if (head.status_code != 0 && head.status_code != 200) {
        error = fmt::format("GET /watch answered {}", head.status_code);
        break;
      }
      if (setup && counter.progress() + counter.events() + counter.errors() > 0) {
        setup = false;
        l.io_deadline = Clock::time_point::max();  // a held stream may be idle
        SetupDone("");
      }
      if (counter.errors() > 0) {
        error = "watch stream cut by the node: " + counter.last_error();
        break;
      }
      if (l.parser.done()) {
        if (!stopping_) error = "the node ended the watch stream";
        break;
      }
      if (stopping_ && CaughtUp(index)) break;
    }
  }
  Close(l);
  l.io_deadline = Clock::time_point::max();
  if (setup) {
    SetupDone(error.empty() ? std::string("watch stream ended before its first line") : error);
  } else {
    if (!error.empty()) {
      ++counts_.watchers_ended_early;
      if (counts_.first_watch_error.empty()) counts_.first_watch_error = error;
    }
    ++counts_.watchers;
    if (stopping_ && CaughtUp(index)) ++counts_.watchers_caught_up;
  }
  counts_.watch_events += counter.events();
  counts_.watch_progress_lines += counter.progress();
  counts_.watch_error_lines += counter.errors();
  --running_;
}

asio::awaitable<Result<uint64_t>> BackgroundLoad::Impl::Grant(Link& l) {
  const std::string body = fmt::format("{{\"ttl_ms\":{}}}", bg_.lease_ttl.count());
  FormatRequest(l, "POST", "/leases", body.size());
  if (Status s = co_await RoundTrip(l, body, /*keep_body=*/true); !s.ok()) co_return s;
  const Response& r = l.parser.response();
  if (r.status_code != 201) {
    co_return Unavailable(
        fmt::format("POST /leases answered {}: {}", r.status_code, r.body.substr(0, 200)));
  }
  const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_number_unsigned()) {
    co_return IoError("POST /leases answered without a lease id");
  }
  co_return j["id"].get<uint64_t>();
}

asio::awaitable<Status> BackgroundLoad::Impl::KeepAlive(Link& l, const std::vector<uint64_t>& ids) {
  std::string body;
  if (ids.size() == 1) {
    FormatRequest(l, "POST", fmt::format("/leases/{}/keepalive", ids[0]), 0);
  } else {
    body = "{\"ids\":[";
    for (size_t i = 0; i < ids.size(); ++i)
      fmt::format_to(std::back_inserter(body), "{}{}", i > 0 ? "," : "", ids[i]);
    body += "]}";
    FormatRequest(l, "POST", "/leases/keepalive", body.size());
  }
  const Status s = co_await RoundTrip(l, body, /*keep_body=*/ids.size() > 1);
  const int status = s.ok() ? l.parser.response().status_code : 0;
  uint64_t ok = 0;
  if (status == 200 && ids.size() == 1) {
    ok = 1;
  } else if (status == 200) {
    // Each entry that carries its TTL was kept alive; the others (not_found, ...) failed.
    const nlohmann::json j =
        nlohmann::json::parse(l.parser.response().body, nullptr, /*allow_exceptions=*/false);
    const auto it = j.is_object() ? j.find("leases") : j.end();
    if (it != j.end() && it->is_array()) {
      for (const nlohmann::json& e : *it) ok += e.is_object() && e.contains("ttl_ms") ? 1 : 0;
    }
    ok = std::min<uint64_t>(ok, ids.size());
  }
  counts_.keepalives_ok += ok;
  counts_.keepalives_failed += ids.size() - ok;
  if (status == 200) l.failures = 0;
  if (ok < ids.size() && counts_.first_lease_error.empty()) {
    counts_.first_lease_error = !s.ok() ? "keepalive: " + s.ToString()
                                : status != 200
                                    ? fmt::format("keepalive answered {}", status)
                                    : "keepalive answered 200 with a lease not kept alive: " +
                                          l.parser.response().body.substr(0, 200);
  }
  co_return s;
}

asio::awaitable<void> BackgroundLoad::Impl::KeepLeases(size_t worker) {
  Link& l = *lease_links_[worker];
  const size_t stride = lease_links_.size();
  // Grant this worker's share: leases worker, worker + stride, ...
  std::string error;
  for (size_t k = worker; k < lease_ids_.size() && error.empty(); k += stride) {
    Result<uint64_t> id = co_await Grant(l);
    if (!id.ok()) {
      error = id.status().ToString();
      break;
    }
    lease_ids_[k] = *id;
    ++counts_.leases_granted;
  }
  SetupDone(error);
  while (!go_ && !stopping_) {
    l.timer.expires_at(Clock::time_point::max());
    co_await l.timer.async_wait(kUseTuple);  // ends when Go or Finish cancels it
  }
  // Keepalives: lease k is due at k/N of the interval into every interval.
  const auto interval =
      std::chrono::duration_cast<std::chrono::nanoseconds>(bg_.keepalive_interval);
  const auto leases = static_cast<uint64_t>(lease_ids_.size());
  // Each round waits or sends at least once (this worker holds a granted lease), so it yields.
  bool holds_one = false;
  for (size_t k = worker; k < lease_ids_.size(); k += stride) holds_one |= lease_ids_[k] != 0;
  // Groups of --keepalive-batch consecutive leases of this worker's share, each due when its
  // first lease is: one POST /leases/{id}/keepalive per lease with 1, one POST /leases/keepalive
  // per group otherwise. Every count is per lease.
  const size_t batch = bg_.keepalive_batch;
  std::vector<uint64_t> group;
  for (uint64_t round = 0; holds_one && !stopping_; ++round) {
    for (size_t k = worker; k < lease_ids_.size() && !stopping_; k += stride * batch) {
      group.clear();
      for (size_t g = k; g < lease_ids_.size() && group.size() < batch; g += stride) {
        if (lease_ids_[g] != 0) group.push_back(lease_ids_[g]);
      }
      if (group.empty()) continue;
      const Clock::time_point due =
          keepalive_start_ + interval * static_cast<int64_t>(round) +
          std::chrono::nanoseconds(static_cast<int64_t>(static_cast<uint64_t>(interval.count()) *
                                                        static_cast<uint64_t>(k) / leases));
      if (Clock::now() < due) {
        l.timer.expires_at(due);
        co_await l.timer.async_wait(kUseTuple);  // Finish cancels it
        if (stopping_) break;
      }
      if (Clock::now() - due > interval) counts_.keepalives_late += group.size();
      counts_.keepalives_sent += group.size();
      const Status s = co_await KeepAlive(l, group);
      if (!s.ok() && ++l.failures > o_.reconnects_max) break;
    }
    if (l.failures > o_.reconnects_max) break;
  }
  // Revoke what was granted, so that no expiry load follows the run.
  l.failures = 0;
  for (size_t k = worker; k < lease_ids_.size() && l.failures <= o_.reconnects_max; k += stride) {
    if (lease_ids_[k] == 0) continue;
    FormatRequest(l, "DELETE", fmt::format("/leases/{}", lease_ids_[k]), 0);
    const Status s = co_await RoundTrip(l, {}, /*keep_body=*/false);
    if (s.ok() && l.parser.response().status_code == 204) {
      ++counts_.leases_revoked;
      l.failures = 0;
    } else if (!s.ok()) {
      ++l.failures;
    }
  }
  Close(l);
  --running_;
}

asio::awaitable<void> BackgroundLoad::Impl::Reap() {
  const auto tick =
      std::clamp<Clock::duration>(std::min(o_.request_timeout, o_.connect_timeout) / 4,
                                  std::chrono::milliseconds(1), std::chrono::milliseconds(100));
  asio::steady_timer timer(ioc_);
  while (running_ > 0) {
    timer.expires_after(tick);
    co_await timer.async_wait(kUseTuple);
    const Clock::time_point now = Clock::now();
    for (auto* links : {&watch_links_, &lease_links_}) {
      for (auto& l : *links) {
        if (now < l->io_deadline) continue;
        l->timed_out = true;
        l->io_deadline = Clock::time_point::max();
        Close(*l);  // aborts the pending connect, write or read
      }
    }
  }
}

Result<std::unique_ptr<BackgroundLoad>> BackgroundLoad::Start(const BenchOptions& options) {
  NDS_CHECK(options.HasBackground());
  const BackgroundOptions& bg = options.background;
  NDS_CHECK(bg.server.has_value());
  if (bg.server->tls) {
    return InvalidArgument(
        "--hold-watchers and --keep-leases speak plain HTTP: give an http:// --background-server");
  }
  auto impl = std::make_unique<Impl>(options);
  NDS_RETURN_IF_ERROR(impl->Resolve());
  const Status launched = impl->Launch();
  std::unique_ptr<BackgroundLoad> load(new BackgroundLoad(std::move(impl)));
  if (!launched.ok()) {
    const BackgroundCounts counts = load->Finish(std::nullopt);  // revokes what was granted
    return Unavailable(
        fmt::format("background load on {}: {} ({} of {} watchers opened, {} of {} "
                    "leases granted)",
                    bg.server->ToString(), launched.message(), counts.watchers, bg.watchers,
                    counts.leases_granted, bg.leases));
  }
  load->impl_->Go();
  return load;
}

BackgroundLoad::BackgroundLoad(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// NOLINTNEXTLINE(bugprone-exception-escape): only a bug throws here; terminate is right.
BackgroundLoad::~BackgroundLoad() {
  if (impl_) impl_->Finish(std::nullopt);
}

BackgroundCounts BackgroundLoad::Finish(std::optional<uint64_t> last_write_revision) {
  BackgroundCounts counts = impl_->Finish(last_write_revision);
  impl_.reset();
  return counts;
}

}  // namespace nds::loadgen
