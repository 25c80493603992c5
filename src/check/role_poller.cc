// Polling GET /role and finding two geese in one round (see role_poller.h).
#include "check/role_poller.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "client/client.h"

namespace nds::check {

std::vector<TwoGeese> FindTwoGeese(const std::vector<GooseSample>& samples) {
  std::map<uint64_t, std::vector<const GooseSample*>> by_round;
  for (const GooseSample& s : samples) by_round[s.round].push_back(&s);
  std::vector<TwoGeese> found;
  for (const auto& [round, geese] : by_round) {
    std::set<std::string_view> addresses;
    for (const GooseSample* s : geese) addresses.insert(s->address);
    if (addresses.size() < 2) continue;
    TwoGeese t;
    t.round = round;
    t.sent_us = geese.front()->sent_us;
    for (const GooseSample* s : geese) {
      t.sent_us = std::min(t.sent_us, s->sent_us);
      t.geese.push_back(*s);
    }
    found.push_back(std::move(t));
  }
  return found;
}

RolePoller::RolePoller(const Recorder* clock, RolePollerOptions options)
    : clock_(clock), options_(std::move(options)), start_(std::chrono::steady_clock::now()) {}

RolePoller::~RolePoller() { Stop(); }

void RolePoller::Watch(const std::string& address) {
  MutexLock lock(mu_);
  if (stop_.load()) return;
  if (std::find(watched_.begin(), watched_.end(), address) != watched_.end()) return;
  watched_.push_back(address);
  threads_.emplace_back([this, address] { PollLoop(address); });
}

void RolePoller::Unwatch(const std::string& address) {
  MutexLock lock(mu_);
  unwatched_.push_back(address);
}

bool RolePoller::Unwatched(const std::string& address) const {
  MutexLock lock(mu_);
  return std::find(unwatched_.begin(), unwatched_.end(), address) != unwatched_.end();
}

void RolePoller::Stop() {
  std::vector<std::thread> threads;
  {
    MutexLock lock(mu_);
    stop_.store(true);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
}

std::vector<GooseSample> RolePoller::GooseSamples() const {
  MutexLock lock(mu_);
  return samples_;
}

void RolePoller::PollLoop(const std::string& address) {
  client::ClientOptions options;
  Result<std::vector<client::ServerAddress>> servers = client::ParseServerList(address);
  if (!servers.ok()) return;  // addresses come from the cluster: checked before the run
  options.servers = *servers;
  options.request_timeout = options_.timeout;
  options.connect_timeout = options_.timeout;
  options.attempts_max = 1;
  options.retry_deadline = options_.timeout;
  options.tls = options_.tls;
  std::unique_ptr<Client> c;
  uint64_t round = 0;
  while (!stop_.load() && !Unwatched(address)) {
    // The next round boundary not yet passed: every thread polls at the same instants.
    auto since_start = std::chrono::steady_clock::now() - start_;
    round = std::max<uint64_t>(round, since_start / options_.interval + 1);
    std::this_thread::sleep_until(start_ + round * options_.interval);
    if (!c) {
      Result<std::unique_ptr<Client>> created = Client::Create(options);
      if (!created.ok()) return;
      c = std::move(*created);
    }
    uint64_t sent_us = clock_->NowMicros();
    Result<std::string> role = c->Role();
    uint64_t received_us = clock_->NowMicros();
    bool in_time = received_us - sent_us <= static_cast<uint64_t>(options_.timeout.count()) * 1000;
    if (!role.ok() || !in_time) {
      failures_.fetch_add(1);
      c.reset();  // a late or lost answer leaves the connection unusable
    } else {
      answers_.fetch_add(1);
      if (*role == "goose") {
        MutexLock lock(mu_);
        if (samples_.size() < options_.samples_max) {
          samples_.push_back({address, round, sent_us, received_us});
        }
      }
    }
    ++round;
  }
}

}  // namespace nds::check
