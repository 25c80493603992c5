// The types of Client::Watch (GET /watch, docs/api.md "Watch and history"; docs/client.md).
//
// A watch delivers every change after a revision, in revision order, each once, and survives the
// loss of the node it streams from: it reconnects to the next server and resumes after the last
// revision it delivered completely (skipping the events of a half-delivered revision it already
// passed on). When the history it needs was compacted away it stops and says so
// (kFailedPrecondition "compacted", with WatchEnd::compact_revision) instead of skipping events.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace nds::client {

struct WatchRequest {
  // Exactly one key, or every key starting with `prefix` ("" = every key) when `key` is empty.
  std::string key;
  std::string prefix;
  // Changes after this revision; std::nullopt: from the moment the first node answers.
  std::optional<uint64_t> from;
  // Also pass progress lines ({"type":"progress"}) to the callback.
  bool progress = false;
  // Reconnections in a row without receiving a line before the watch gives up (kUnavailable).
  size_t reconnects_max = 20;
  // A stream that sends nothing (not even a progress line) this long is taken for dead and
  // the next server is tried. Servers send progress at least every second.
  std::chrono::milliseconds silence_max{5'000};
};

struct WatchEvent {
  enum class Type { kPut, kDelete, kProgress };
  Type type = Type::kPut;
  uint64_t revision = 0;
  std::string key;  // exact bytes
  std::string value;
  std::string content_type;
};

// How a watch ended.
struct WatchEnd {
  // Every event with a revision up to this one was delivered.
  uint64_t revision = 0;
  // Set when the watch stopped because the history after `revision` was compacted away.
  std::optional<uint64_t> compact_revision;
  size_t reconnects = 0;  // how many times it resumed on a server
};

}  // namespace nds::client
