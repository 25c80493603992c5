// The change history of the user key space (docs/formats/store.md "History"): every put and
// delete the applier makes to a data key is also recorded, in the same atomic engine batch, as
//
//   an event    'h' 'e' rev(8, big-endian) seq(4, big-endian) -> kind, key (and the record of a
//                                                                put changed again in its rev);
//               or a group of a batch's events, under the key of the last (kind 6)
//   an undo     'h' 'u' len(key)(4, big-endian) key rev(8)    -> the key's record before rev
//   the floor   'h' 'c'                                      -> compact revision C (8)
//   the size    'h' 'b'                                      -> bytes of events and undos (8)
//
// Events in key order are the changes in revision order (seq orders the changes of one revision:
// a transaction or a /clear). An undo entry answers "what did the key hold just before rev", so
// the value as of R is the undo of the key's first change after R, or the current record when it
// has not changed since. A put event of a big record therefore refers to it rather than holding the
// value a second time: its value is the key's as of the event's revision. A put that the same
// revision changes again (in a transaction) carries its record in the event, as small ones do.
// History is complete for every revision > C: a watch from R and a read at R work for R >= C and
// are "compacted" below it.
//
// Compaction runs in bounded slices at each commit (HistoryWriter::Compact), so a lowered
// --history-revisions never stalls the apply loop. Besides the revisions kept, the history is
// bounded in bytes (--history-bytes): the size entry counts the engine bytes (keys and values) of
// every event and undo entry, and the oldest revisions are compacted while it is over the bound.
// A store whose history predates the size entry counts from 0 (its older entries are not counted;
// they go with --history-revisions). Everything lives in the engine, so history
// survives restarts and travels inside Raft snapshots (engine checkpoints); images
// (store/image_format.h) do not carry it.
//
// Secrets, system keys and members have no history: only the 'd' namespace is recorded.
// Thread-safety: the free functions read a View and are thread-safe as View is.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "store/keyspace.h"
#include "util/status.h"

namespace nds::store {

inline constexpr char kHistoryPrefix = 'h';
// The default of --history-revisions (util/limits.h).
inline constexpr uint64_t kHistoryRevisionsDefault = 100'000;
// The default of --history-bytes (util/limits.h).
inline constexpr uint64_t kHistoryBytesDefault = uint64_t{1} << 30;
// A batch's events are written in entries of several events each (kind 6 of
// docs/formats/store.md): one engine key, and one delete when compacted, for many events. An
// entry holds at most this many events and bytes of events (one event alone may be bigger).
inline constexpr size_t kHistoryGroupEventsMax = 256;
inline constexpr size_t kHistoryGroupBytesMax = 64 << 10;
// Events one commit removes at most while compacting (a bounded slice per apply).
inline constexpr size_t kCompactEventsPerCommitMax = 4096;
// Compaction waits until its target is --history-revisions / this (at most half of
// kCompactEventsPerCommitMax) revisions past the floor: the history keeps up to that many more
// revisions than asked, and compacts in slices instead of a few events each commit.
inline constexpr uint64_t kCompactSlackShare = 64;

// A put event refers to its record (kind 5 of docs/formats/store.md) when the record has at least
// this many bytes, and carries it below. Writing the value once instead of twice pays for big
// values; reading an event back then costs a lookup of the record (bench/store_bench BM_CatchUp),
// which would make a watch's catch-up over small values many times slower.
inline constexpr size_t kHistoryReferenceRecordBytesMin = 1024;

enum class HistoryEventType : uint8_t { kPut = 1, kDelete = 2 };

struct HistoryEvent {
  uint64_t revision = 0;
  HistoryEventType type = HistoryEventType::kPut;
  std::string key;  // the user key
  std::string value;
  std::string content_type;

  // Approximate bytes held in memory (for watch buffer limits).
  size_t ByteSize() const { return key.size() + value.size() + content_type.size() + 64; }
};

std::string HistoryEventKey(uint64_t revision, uint32_t seq);
// The first two bytes of every event key ('h' 'e').
std::string HistoryEventKeyPrefix();
std::string HistoryUndoKey(std::string_view user_key, uint64_t revision);
std::string HistoryCompactKey();
std::string HistoryBytesKey();

// The bytes of history (events and undo entries, keys and values) `view` counts; 0 when it has
// no size entry.
Result<uint64_t> ReadHistoryBytes(const engine::View& view);

// The encoded value of an event: its kind, key, and for a put the new value record. With
// `undo_bytes` (what this change's undo entry holds, key and value; 0 when it wrote none), the
// event carries it, so that compaction need not read the undo entry to count it (kinds 3 and 4 of
// docs/formats/store.md); without, the kinds 1 and 2 of earlier versions.
std::string EncodeHistoryEvent(HistoryEventType type, std::string_view user_key,
                               std::string_view record,
                               std::optional<uint64_t> undo_bytes = std::nullopt);
// The encoded value of a put event that refers to its record (kind 5): the record is the key's as
// of the event's revision.
std::string EncodeHistoryPutReference(std::string_view user_key, uint64_t undo_bytes);
// The event stored under `engine_key` in `view`, its value read from `view` when the event refers
// to its record. kCorruption for a malformed event key or value, or a record referred to that is
// not there.
Result<HistoryEvent> DecodeHistoryEvent(const engine::View& view, std::string_view engine_key,
                                        std::string_view value);

// The compact revision C of `view`: events and reads at revisions <= C are gone (> C complete).
// A store that never recorded a floor (made before history existed, or restored from an image)
// has C = its applied index.
Result<uint64_t> ReadCompactRevision(const engine::View& view);

// What a data key held as of `revision` in `view`. Errors: kOutOfRange is not used; the caller
// checks the revision against ReadCompactRevision and the view's applied index first.
// std::nullopt when the key did not exist then; kCorruption for damaged records.
Result<std::optional<Record>> ReadAtRevision(const engine::View& view, std::string_view user_key,
                                             uint64_t revision);

// Appends to `out` the events of `view` with revisions in (after, through], in order, stopping
// once `bytes_max` bytes of events (at least one event) or `count_max` events were read. Returns
// the revision read up to completely: every event <= the returned revision was appended (equal
// to `through` when the range was exhausted). kCorruption for damaged events.
Result<uint64_t> ReadHistoryEvents(const engine::View& view, uint64_t after, uint64_t through,
                                   size_t bytes_max, size_t count_max,
                                   std::vector<HistoryEvent>* out);

// The events of one applied batch, kept in memory for the watch hub (api/watch_hub.h), which then
// need not read them back from the engine. Complete: every event with a revision in
// (after, through] is in `events`, in order.
struct AppliedEvents {
  uint64_t after = 0;    // the engine's applied index before the batch
  uint64_t through = 0;  // the batch's last index
  std::vector<HistoryEvent> events;
  size_t bytes = 0;  // the events' ByteSize() summed
};

// Records events into a batch as the applier writes data keys, and compacts. Not thread-safe:
// owned by one BatchApplier.
class HistoryWriter {
 public:
  // `keep_revisions` >= 1: revisions older than the last applied index minus it are compacted;
  // `bytes_max` >= 1: so are the oldest revisions while the history holds more bytes than this.
  explicit HistoryWriter(uint64_t keep_revisions, uint64_t bytes_max = kHistoryBytesDefault)
      : keep_revisions_(keep_revisions), bytes_max_(bytes_max) {}

  // Records a change of `user_key` at `revision`: `record` is the new encoded record (empty for a
  // delete) and `before` the encoded record it replaces (nullopt when the key was absent).
  void Record(engine::WriteBatch* batch, uint64_t revision, std::string_view user_key,
              std::string_view record, const std::optional<std::string>& before);

  // Adds the compaction slice for this commit to `batch`: deletes events (and their undo entries)
  // at revisions <= applied - keep, and the oldest ones while the history is over bytes_max, at
  // most kCompactEventsPerCommitMax of them, moves the floor and updates the size entry. Only
  // revisions already in `engine` are touched. Engine read errors come back as they are (the
  // caller's commit must then not happen). Resets the per-batch state.
  Status Finish(const engine::Engine& engine, uint64_t last_index, engine::WriteBatch* batch);

  // From now on, Record also keeps each event in memory (a copy of its key and value), up to
  // `bytes_max` bytes of events (ByteSize) a batch; past that it keeps none for the batch.
  void CaptureEvents(size_t bytes_max) { capture_bytes_max_ = bytes_max; }
  // The events recorded since the last call, when every one of them was kept; else nullopt.
  std::optional<std::vector<HistoryEvent>> TakeCaptured(size_t* bytes);

 private:
  uint64_t keep_revisions_;
  uint64_t bytes_max_;
  uint64_t pending_bytes_ = 0;  // added by Record since the last Finish
  uint64_t seq_revision_ = 0;   // the revision seq_ counts events of
  uint32_t seq_ = 0;
  // A key's latest change at seq_revision_.
  struct Change {
    uint32_t seq = 0;           // of its event
    uint64_t undo_bytes = 0;    // what its event says of its undo entry
    bool by_reference = false;  // a put whose event refers to its record
  };
  // The batch's events, in order, until Finish writes them (WriteEvents).
  struct PendingEvent {
    uint64_t revision = 0;
    uint32_t seq = 0;
    std::string value;  // the event as one entry would hold it
  };
  std::vector<PendingEvent> pending_;
  size_t revision_start_ = 0;  // index in pending_ of seq_revision_'s first event
  // Adds pending_ to `batch`: runs of events in entries of up to kHistoryGroupEventsMax events
  // and kHistoryGroupBytesMax bytes (one event alone is written as such), and counts their bytes
  // in pending_bytes_.
  void WriteEvents(engine::WriteBatch* batch);
  // The keys this batch changed at seq_revision_: a key changed twice in one revision keeps one
  // undo entry (the record from before the first change), and its earlier put event then carries
  // its record. The first key is kept apart (its buffer reused), and the map is filled only once
  // a revision changes a second key.
  std::string first_changed_;
  Change first_change_;
  std::map<std::string, Change, std::less<>> changed_;
  // Keeps one event in captured_, or gives up on the batch once over capture_bytes_max_.
  void Capture(uint64_t revision, HistoryEventType type, std::string_view user_key,
               std::string_view record);

  size_t capture_bytes_max_ = 0;  // 0: events are not kept (CaptureEvents)
  bool capture_overflowed_ = false;
  size_t captured_bytes_ = 0;
  std::vector<HistoryEvent> captured_;
};

}  // namespace nds::store
