// Goal: the watch hub hands every applied change to each matching watcher once, in revision
// order, whether the watcher starts in the past (catching up from the history) or now; a watcher
// whose buffer overflows is cut off with a clear failure while the others go on; a revision
// below the history floor and a watcher beyond the limit are refused; a watch made with a
// prefixed (scoped) token sees only the keys of its prefix.
// Method: a memory engine written through store::BatchApplier, a real WatchHub (its dispatcher
// thread), and watchers read through Next/Wait, waiting on the hub's resume with a bounded wait.
#include "api/watch_hub.h"

#include <algorithm>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "api/access.h"
#include "api/uri.h"
#include "engine/memory_engine.h"
#include "store/applier.h"
#include "store/auth_state.h"

namespace nds::api {
namespace {

using std::chrono::milliseconds;

class WatchHubTest : public ::testing::Test {
 protected:
  void StartHub(WatchHubOptions options) {
    options.progress_interval = milliseconds(3'600'000);  // no progress lines but the first
    hub_ = std::make_unique<WatchHub>(options);
    hub_->Start(engine_.get());
  }

  // Applies `cmds` in one batch and tells the hub, handing it the batch's events as the node's
  // apply does (when the hub asks for them and `hand_events`), else only the news.
  void Apply(const std::vector<store::Command>& cmds, uint64_t keep = 1000,
             bool hand_events = true) {
    store::BatchApplier a(engine_.get(), keep);
    const size_t capture = hub_ && hand_events ? hub_->CaptureBytes() : 0;
    if (capture != 0) a.CaptureEvents(capture);
    const uint64_t after = next_;
    for (const store::Command& c : cmds) a.Apply(c, LogIndex(++next_)).status.ok();
    ASSERT_TRUE(a.Commit(engine_.get(), false).ok());
    size_t bytes = 0;
    std::optional<std::vector<store::HistoryEvent>> events = a.TakeEvents(&bytes);
    if (!hub_) return;
    if (events) {
      store::AppliedEvents kept{after, next_, std::move(*events), bytes};
      hub_->NotifyApplied(&kept);
    } else {
      hub_->NotifyApplied();
    }
  }

  // The next non-empty step of `w`, waiting (bounded) for the hub to resume it.
  Watcher::Step NextStep(Watcher& w) {
    for (int i = 0; i < 100; ++i) {
      Watcher::Step step =
          w.Next(*engine_, hub_->dispatched(), hub_->options().progress_interval, 1 << 20);
      if (!step.events.empty() || step.progress || step.failure) return step;
      std::promise<void> resumed;
      w.Wait([&resumed] { resumed.set_value(); }, hub_->options().progress_interval);
      if (resumed.get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
        ADD_FAILURE() << "the hub never resumed the watcher";
        return {};
      }
    }
    ADD_FAILURE() << "no step after 100 wake-ups";
    return {};
  }

  // "rev type key" of events until `count` were seen (progress lines skipped), or a failure.
  std::string Collect(Watcher& w, size_t count) {
    std::string out;
    size_t seen = 0;
    for (int steps = 0; seen < count && steps < 1000; ++steps) {
      Watcher::Step step = NextStep(w);
      if (step.failure) return out + "failure:" + step.failure->error;
      if (step.events.empty() && !step.progress) return out + "nothing more";  // NextStep failed
      for (const SharedEvent& e : step.events) {
        out += std::to_string(e->revision) +
               (e->type == store::HistoryEventType::kPut ? " put " : " del ") + e->key + ";";
        ++seen;
      }
    }
    return out;
  }

  std::shared_ptr<Watcher> Add(WatchFilter filter, std::optional<uint64_t> from) {
    uint64_t compact = 0;
    auto w = hub_->Add(std::move(filter), from, &compact);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? *w : nullptr;
  }

  std::unique_ptr<engine::Engine> engine_ = engine::NewMemoryEngine();
  std::unique_ptr<WatchHub> hub_;
  uint64_t next_ = 0;
};

TEST_F(WatchHubTest, LiveWatchersGetTheirMatchingEventsInOrder) {
  StartHub({});
  auto all = Add({"", false}, std::nullopt);
  auto conf = Add({"conf/", false}, std::nullopt);
  auto one = Add({"conf/a", true}, std::nullopt);
  Apply({store::PutCommand("conf/a", "1"), store::PutCommand("other", "x")});
  Apply({store::PutCommand("conf/ab", "2"), store::DeleteCommand("conf/a")});
  Apply({store::ClearCommand()});
  EXPECT_EQ(Collect(*all, 6),
            "1 put conf/a;2 put other;3 put conf/ab;4 del conf/a;5 del conf/ab;"
            "5 del other;");
  EXPECT_EQ(Collect(*conf, 4), "1 put conf/a;3 put conf/ab;4 del conf/a;5 del conf/ab;");
  EXPECT_EQ(Collect(*one, 2), "1 put conf/a;4 del conf/a;");
}

TEST_F(WatchHubTest, EventsHandedByTheApplyAndReadBackInterleaveWithoutLossOrRepeat) {
  StartHub({});
  auto all = Add({"", false}, std::nullopt);
  auto one = Add({"b", true}, std::nullopt);
  // Batches handed over with their events and batches the hub must read back from the engine,
  // in turns, with a watcher of one key and one of every key.
  Apply({store::PutCommand("a", "1"), store::PutCommand("b", "2")});
  Apply({store::PutCommand("b", "3")}, 1000, /*hand_events=*/false);
  Apply({store::PutCommand("c", "4"), store::DeleteCommand("b")});
  Apply({store::PutCommand("b", "5")}, 1000, /*hand_events=*/false);
  Apply({store::PutCommand("b", "6")}, 1000, /*hand_events=*/false);
  Apply({store::PutCommand("a", "7")});
  EXPECT_EQ(Collect(*all, 8), "1 put a;2 put b;3 put b;4 put c;5 del b;6 put b;7 put b;8 put a;");
  EXPECT_EQ(Collect(*one, 5), "2 put b;3 put b;5 del b;6 put b;7 put b;");
}

TEST_F(WatchHubTest, EventsHandedByTheApplyAreSentWithoutReadingTheEngine) {
  StartHub({});
  auto w = Add({"k", true}, std::nullopt);
  EXPECT_GT(hub_->CaptureBytes(), 0u);  // a watcher is open: the apply keeps events
  // The events handed over say "memory", the engine's history "engine": the watcher gets the
  // former, so the range was not read back. (Handed over before the engine has them, so that the
  // dispatcher cannot have read the engine first.)
  store::HistoryEvent e;
  e.revision = 1;
  e.key = "k";
  e.value = "memory";
  store::AppliedEvents kept{0, 1, {e}, e.ByteSize()};
  hub_->NotifyApplied(&kept);
  Apply({store::PutCommand("k", "engine")}, 1000, /*hand_events=*/false);
  Watcher::Step step = NextStep(*w);
  for (int i = 0; i < 3 && step.events.empty() && !step.failure; ++i) step = NextStep(*w);
  ASSERT_EQ(step.events.size(), 1u);
  EXPECT_EQ(step.events[0]->value, "memory");
  // A batch that does not start where the hub is (one it already has) is dropped, not sent.
  store::AppliedEvents stale{0, 1, {e}, e.ByteSize()};
  hub_->NotifyApplied(&stale);
  Apply({store::PutCommand("k", "next")});
  EXPECT_EQ(Collect(*w, 1), "2 put k;");
  // With no watcher left, nothing is kept.
  hub_->Remove(w.get());
  EXPECT_EQ(hub_->CaptureBytes(), 0u);
}

TEST_F(WatchHubTest, BatchesHandedOverAreBoundedByTheBufferBytesAndNeverReplaceTheHistory) {
  WatchHubOptions options;
  options.buffer_bytes = 4096;
  StartHub(options);
  auto w = Add({"k", true}, std::nullopt);
  // Batches far ahead of the dispatcher (a gap before them) wait in the queue, which keeps at
  // most --watch-buffer-bytes of them, dropping the oldest.
  for (uint64_t i = 0; i < 200; ++i) {
    store::HistoryEvent e;
    e.revision = 1000 + i;
    e.key = "k";
    e.value = std::string(100, 'x');
    store::AppliedEvents ahead{999 + i, 1000 + i, {e}, e.ByteSize()};
    hub_->NotifyApplied(&ahead);
    EXPECT_LE(hub_->queued_bytes(), options.buffer_bytes);
  }
  EXPECT_GT(hub_->queued_bytes(), 0u);
  // What the engine applied still reaches the watcher, read back from the history.
  Apply({store::PutCommand("k", "1")}, 1000, /*hand_events=*/false);
  Apply({store::PutCommand("k", "2")}, 1000, /*hand_events=*/false);
  EXPECT_EQ(Collect(*w, 2), "1 put k;2 put k;");
}

TEST_F(WatchHubTest, WatchersOfPrefixesGetTheirKeysAlsoAfterOthersOfTheirPrefixLeave) {
  StartHub({});
  auto all = Add({"", false}, std::nullopt);
  auto a1 = Add({"a", false}, std::nullopt);
  auto a2 = Add({"a", false}, std::nullopt);
  auto ab = Add({"ab", false}, std::nullopt);
  auto b = Add({"b/", false}, std::nullopt);
  Apply({store::PutCommand("a", "1"), store::PutCommand("ab", "2"), store::PutCommand("abc", "3"),
         store::PutCommand("b/x", "4"), store::PutCommand("bb", "5")});
  EXPECT_EQ(Collect(*all, 5), "1 put a;2 put ab;3 put abc;4 put b/x;5 put bb;");
  EXPECT_EQ(Collect(*a1, 3), "1 put a;2 put ab;3 put abc;");
  EXPECT_EQ(Collect(*a2, 3), "1 put a;2 put ab;3 put abc;");
  EXPECT_EQ(Collect(*ab, 2), "2 put ab;3 put abc;");
  EXPECT_EQ(Collect(*b, 1), "4 put b/x;");
  // One of two watchers of "a" leaves (freed): the other still gets its keys.
  hub_->Remove(a1.get());
  a1.reset();
  Apply({store::PutCommand("a", "6"), store::PutCommand("b/y", "7")});
  EXPECT_EQ(Collect(*a2, 1), "6 put a;");
  EXPECT_EQ(Collect(*b, 1), "7 put b/y;");
  // The last one leaves: the other prefixes are still matched.
  hub_->Remove(a2.get());
  a2.reset();
  Apply({store::PutCommand("ab2", "8")});
  EXPECT_EQ(Collect(*ab, 1), "8 put ab2;");
  EXPECT_EQ(Collect(*all, 3), "6 put a;7 put b/y;8 put ab2;");
  EXPECT_EQ(hub_->watcher_count(), 3u);
}

TEST_F(WatchHubTest, WatchersOfOneKeyGetThatKeyOnlyAlsoAfterAnotherOfItLeaves) {
  StartHub({});
  auto a1 = Add({"k/a", true}, std::nullopt);
  auto a2 = Add({"k/a", true}, std::nullopt);
  auto b = Add({"k/b", true}, std::nullopt);
  auto ab = Add({"k/ab", true}, std::nullopt);
  auto prefix = Add({"k/a", false}, std::nullopt);
  Apply({store::PutCommand("k/a", "1"), store::PutCommand("k/b", "2"),
         store::PutCommand("k/ab", "3"), store::PutCommand("k/a", "4")});
  EXPECT_EQ(Collect(*a1, 2), "1 put k/a;4 put k/a;");
  EXPECT_EQ(Collect(*a2, 2), "1 put k/a;4 put k/a;");
  EXPECT_EQ(Collect(*b, 1), "2 put k/b;");
  EXPECT_EQ(Collect(*ab, 1), "3 put k/ab;");
  EXPECT_EQ(Collect(*prefix, 3), "1 put k/a;3 put k/ab;4 put k/a;");
  // The watcher is gone for good (freed): the hub must not hand it the next event.
  hub_->Remove(a1.get());
  a1.reset();
  EXPECT_EQ(hub_->watcher_count(), 4u);
  Apply({store::PutCommand("k/a", "5"), store::PutCommand("k/b", "6")});
  EXPECT_EQ(Collect(*a2, 1), "5 put k/a;");
  EXPECT_EQ(Collect(*b, 1), "6 put k/b;");
}

TEST_F(WatchHubTest, AWatchWithAPrefixedTokenSeesOnlyWhatItsTokenMayRead) {
  // The access policy: a read token for "app/" may watch its prefix, a longer one, or one of its
  // keys, and nothing else; a watch naming no prefix is given the token's (service.cc Authorize).
  const store::TokenRecord token{store::TokenRole::kRead, "app/", std::string(32, 'h')};
  auto forbidden = [&](const char* target) {
    Result<Target> t = ParseTarget(target);
    EXPECT_TRUE(t.ok()) << target;
    return Forbidden(token, NeedFor("GET", *t), t->Param("prefix"));
  };
  EXPECT_EQ(forbidden("/watch?prefix=app/"), "");
  EXPECT_EQ(forbidden("/watch?prefix=app/db/"), "");
  EXPECT_EQ(forbidden("/watch?key=app/x"), "");
  EXPECT_EQ(forbidden("/watch"), "");  // narrowed to prefix=app/
  EXPECT_NE(forbidden("/watch?prefix="), "");
  EXPECT_NE(forbidden("/watch?prefix=ap"), "");
  EXPECT_NE(forbidden("/watch?prefix=other/"), "");
  EXPECT_NE(forbidden("/watch?key=app"), "");
  EXPECT_NE(forbidden("/watch?key=other/x"), "");
  // What such a watch is then given: the changes under "app/" only, from the live stream and
  // from the history alike (a /clear shows only its deletes of the token's keys).
  StartHub({});
  auto live = Add({"app/", false}, std::nullopt);
  Apply({store::PutCommand("app/a", "1"), store::PutCommand("app", "x"),
         store::PutCommand("apple", "y"), store::PutCommand("other/app/b", "z")});
  Apply({store::ClearCommand()});
  EXPECT_EQ(Collect(*live, 2), "1 put app/a;5 del app/a;");
  auto past = Add({"app/", false}, 0);
  EXPECT_EQ(Collect(*past, 2), "1 put app/a;5 del app/a;");
  Apply({store::PutCommand("app/b", "2")});
  EXPECT_EQ(Collect(*live, 1), "6 put app/b;");
}

TEST_F(WatchHubTest, AWatcherFromThePastCatchesUpThenFollows) {
  Apply({store::PutCommand("k", "1")});
  Apply({store::PutCommand("k", "2")});
  Apply({store::PutCommand("k", "3")});
  StartHub({});
  auto w = Add({"k", true}, 1);
  Apply({store::PutCommand("k", "4")});
  EXPECT_EQ(Collect(*w, 3), "2 put k;3 put k;4 put k;");
}

// Events of big values refer to the key's record in the history (store/history.h): a watcher
// catching up still gets each value as it was at its revision, also once overwritten or deleted.
TEST_F(WatchHubTest, AWatcherFromThePastGetsEachBigValueAsItWas) {
  const size_t big = 4 * store::kHistoryReferenceRecordBytesMin;
  Apply({store::PutCommand("k", std::string(big, 'a')), store::PutCommand("j", "small")});
  Apply({store::PutCommand("k", std::string(big, 'b')), store::DeleteCommand("k")});
  Apply({store::PutCommand("k", std::string(big, 'c'))}, 1000, /*hand_events=*/false);
  StartHub({});
  auto w = Add({"", false}, 0);
  std::string seen;
  size_t events = 0;
  for (int steps = 0; steps < 100 && events < 5; ++steps) {
    Watcher::Step step = NextStep(*w);
    ASSERT_FALSE(step.failure) << step.failure->error;
    for (const SharedEvent& e : step.events) {
      ++events;
      seen += std::to_string(e->revision) + e->key;
      if (e->type == store::HistoryEventType::kPut) {
        seen += "=" + e->value.substr(0, 1) + std::to_string(e->value.size());
      }
      seen += ";";
    }
  }
  EXPECT_EQ(seen, "1k=a" + std::to_string(big) + ";2j=s5;3k=b" + std::to_string(big) + ";4k;5k=c" +
                      std::to_string(big) + ";");
}

TEST_F(WatchHubTest, WithNoWatcherTheHubSkipsAheadAndLaterWatchersMissNothing) {
  StartHub({});
  Apply({store::PutCommand("k", "1")});
  Apply({store::PutCommand("k", "2")});
  // Nobody watches: the dispatcher moves past both revisions without handing anything out.
  for (int i = 0; i < 1000 && hub_->dispatched() < 2; ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_EQ(hub_->dispatched(), 2u);
  auto past = Add({"k", true}, 0);
  auto live = Add({"k", true}, std::nullopt);
  Apply({store::PutCommand("k", "3")});
  EXPECT_EQ(Collect(*past, 3), "1 put k;2 put k;3 put k;");
  EXPECT_EQ(Collect(*live, 1), "3 put k;");
}

TEST_F(WatchHubTest, ASlowWatcherIsCutOffAndTheOthersGoOn) {
  StartHub({.buffer_bytes = 1000});
  auto slow = Add({"", false}, std::nullopt);
  auto fast = Add({"", false}, std::nullopt);
  // The slow one never reads; the fast one reads after each write.
  ASSERT_TRUE(NextStep(*slow).progress.has_value());
  std::string seen;
  for (int i = 0; i < 40; ++i) {
    Apply({store::PutCommand("k" + std::to_string(i), std::string(100, 'v'))});
    seen += Collect(*fast, 1);
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), ';'), 40);
  EXPECT_TRUE(seen.ends_with("39 put k38;40 put k39;")) << seen;
  Watcher::Step step = NextStep(*slow);
  ASSERT_TRUE(step.failure.has_value());
  EXPECT_EQ(step.failure->error, "too_slow");
}

TEST_F(WatchHubTest, CompactedRevisionsAndTooManyWatchersAreRefused) {
  for (int i = 0; i < 10; ++i) Apply({store::PutCommand("k", std::to_string(i))}, /*keep=*/3);
  StartHub({.watchers_max = 2});
  uint64_t compact = 0;
  auto old = hub_->Add({"", false}, 2, &compact);
  EXPECT_EQ(old.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(compact, 7u);
  auto w1 = Add({"", false}, 7);
  EXPECT_EQ(Collect(*w1, 3), "8 put k;9 put k;10 put k;");
  auto w2 = Add({"", false}, std::nullopt);
  EXPECT_EQ(hub_->Add({"", false}, std::nullopt, &compact).status().code(),
            StatusCode::kResourceExhausted);
  hub_->Remove(w2.get());
  EXPECT_EQ(hub_->watcher_count(), 1u);
}

TEST_F(WatchHubTest, CompactionOvertakingACatchUpEndsItWithCompacted) {
  for (int i = 0; i < 5; ++i) Apply({store::PutCommand("k", std::to_string(i))});
  StartHub({});
  auto w = Add({"", false}, 0);
  for (int i = 0; i < 5; ++i) Apply({store::PutCommand("k", std::to_string(i))}, /*keep=*/2);
  Watcher::Step step = NextStep(*w);
  ASSERT_TRUE(step.failure.has_value());
  EXPECT_EQ(step.failure->error, "compacted");
  // The dispatcher or the catch-up notices first, at a floor of 6 to 8.
  EXPECT_GE(step.failure->compact_revision, 6u);
  EXPECT_LE(step.failure->compact_revision, 8u);
}

TEST_F(WatchHubTest, StoppingEndsEveryWatch) {
  StartHub({});
  auto w = Add({"", false}, std::nullopt);
  ASSERT_TRUE(NextStep(*w).progress.has_value());
  hub_->Stop();
  Watcher::Step step = NextStep(*w);
  ASSERT_TRUE(step.failure.has_value());
  EXPECT_EQ(step.failure->error, "stopping");
}

}  // namespace
}  // namespace nds::api
