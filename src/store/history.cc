// Change history records and compaction (store/history.h, docs/formats/store.md "History").
#include "store/history.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>
#include <vector>

#include "util/check.h"
#include "util/coding.h"

namespace nds::store {
namespace {

constexpr char kEventTag = 'e';
constexpr char kUndoTag = 'u';
constexpr char kCompactTag = 'c';
constexpr char kBytesTag = 'b';
constexpr uint8_t kUndoAbsent = 0;
constexpr uint8_t kUndoPresent = 1;
// Event kinds on disk: 1 and 2 (HistoryEventType) as earlier versions wrote them; 3 and 4 the same
// with the size of the change's undo entry after the kind; 5 a put whose record the event does not
// carry, as it is held elsewhere already (ToEvent finds it).
constexpr uint8_t kSizedKindOffset = 2;
constexpr uint8_t kPutByReferenceKind = 5;
// Kind 6: several events of one batch in one entry, under the key of the last of them.
constexpr uint8_t kGroupKind = 6;
// 'h' 'e' rev(8) seq(4).
constexpr size_t kEventKeyBytes = 2 + 8 + 4;

void PutBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutBigEndian32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t ReadBigEndian(std::string_view bytes) {
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

std::string UndoKeyPrefix(std::string_view user_key) {
  std::string k;
  k.reserve(2 + 4 + user_key.size() + 8);
  k.push_back(kHistoryPrefix);
  k.push_back(kUndoTag);
  PutBigEndian32(&k, static_cast<uint32_t>(user_key.size()));
  k.append(user_key);
  return k;
}

// HistoryUndoKey into `out`, reusing its buffer.
void SetUndoKey(std::string* out, std::string_view user_key, uint64_t revision) {
  out->clear();
  out->push_back(kHistoryPrefix);
  out->push_back(kUndoTag);
  PutBigEndian32(out, static_cast<uint32_t>(user_key.size()));
  out->append(user_key);
  PutBigEndian64(out, revision);
}

Record CopyRecord(const RecordView& r) {
  return Record{r.revision, std::string(r.content_type), std::string(r.value)};
}

}  // namespace

std::string HistoryEventKey(uint64_t revision, uint32_t seq) {
  std::string k;
  k.reserve(kEventKeyBytes);
  k.push_back(kHistoryPrefix);
  k.push_back(kEventTag);
  PutBigEndian64(&k, revision);
  PutBigEndian32(&k, seq);
  return k;
}

// A put event without its record (kind 5): the record is the value of its key as of the event's
// revision, which the undo entry of the key's next change holds, or else its current record.
std::string EncodeHistoryPutReference(std::string_view user_key, uint64_t undo_bytes) {
  std::string out;
  out.reserve(1 + 2 * kVarint64BytesMax + user_key.size());
  out.push_back(static_cast<char>(kPutByReferenceKind));
  PutVarint64(&out, undo_bytes);
  PutLengthPrefixed(&out, user_key);
  return out;
}

std::string HistoryEventKeyPrefix() { return std::string{kHistoryPrefix, kEventTag}; }

std::string HistoryUndoKey(std::string_view user_key, uint64_t revision) {
  std::string k = UndoKeyPrefix(user_key);
  PutBigEndian64(&k, revision);
  return k;
}

std::string HistoryCompactKey() { return std::string{kHistoryPrefix, kCompactTag}; }

std::string EncodeHistoryEvent(HistoryEventType type, std::string_view user_key,
                               std::string_view record, std::optional<uint64_t> undo_bytes) {
  std::string out;
  out.reserve(1 + 2 * kVarint64BytesMax + user_key.size() + record.size());
  const auto kind = static_cast<uint8_t>(type);
  if (undo_bytes) {
    out.push_back(static_cast<char>(kind + kSizedKindOffset));
    PutVarint64(&out, *undo_bytes);
  } else {
    out.push_back(static_cast<char>(kind));
  }
  PutLengthPrefixed(&out, user_key);
  out.append(record);
  return out;
}

namespace {

// An event decoded in place: views into the bytes it was decoded from.
struct EventView {
  uint64_t revision = 0;
  HistoryEventType type = HistoryEventType::kPut;
  std::string_view key;
  RecordView record;  // puts that carry it only
  // A put of kind 5: `record` is not in the event (ToEvent finds it).
  bool by_reference = false;
  // Bytes of the undo entry this change wrote (0: none); unknown in events of kinds 1 and 2.
  std::optional<uint64_t> undo_bytes;
};

// One event's value (any kind but a group) at `revision`.
Result<EventView> DecodeEventValue(uint64_t revision, std::string_view value) {
  EventView e;
  e.revision = revision;
  Decoder d(value);
  NDS_ASSIGN_OR_RETURN(std::string_view type, d.Bytes(1));
  auto kind = static_cast<uint8_t>(type[0]);
  if (kind == kPutByReferenceKind) {
    NDS_ASSIGN_OR_RETURN(uint64_t undo_bytes, d.Varint64());
    e.undo_bytes = undo_bytes;
    NDS_ASSIGN_OR_RETURN(e.key, d.LengthPrefixed());
    if (!d.done()) return Corruption("history put reference with trailing bytes");
    e.by_reference = true;
    return e;
  }
  if (kind == static_cast<uint8_t>(HistoryEventType::kPut) + kSizedKindOffset ||
      kind == static_cast<uint8_t>(HistoryEventType::kDelete) + kSizedKindOffset) {
    kind -= kSizedKindOffset;
    NDS_ASSIGN_OR_RETURN(uint64_t undo_bytes, d.Varint64());
    e.undo_bytes = undo_bytes;
  }
  NDS_ASSIGN_OR_RETURN(e.key, d.LengthPrefixed());
  switch (static_cast<HistoryEventType>(kind)) {
    case HistoryEventType::kPut: {
      e.type = HistoryEventType::kPut;
      NDS_ASSIGN_OR_RETURN(std::string_view record, d.Bytes(d.remaining()));
      NDS_ASSIGN_OR_RETURN(e.record, DecodeRecord(record));
      return e;
    }
    case HistoryEventType::kDelete:
      e.type = HistoryEventType::kDelete;
      if (!d.done()) return Corruption("history delete event with trailing bytes");
      return e;
  }
  return Corruption("history event of unknown kind " +
                    std::to_string(static_cast<uint8_t>(type[0])));
}

bool IsEventKey(std::string_view engine_key) {
  return engine_key.size() >= 2 && engine_key[0] == kHistoryPrefix && engine_key[1] == kEventTag;
}

// The revision and seq of an event key.
Result<std::pair<uint64_t, uint32_t>> DecodeEventKey(std::string_view engine_key) {
  if (engine_key.size() != kEventKeyBytes || engine_key[0] != kHistoryPrefix ||
      engine_key[1] != kEventTag) {
    return Corruption("history event key of " + std::to_string(engine_key.size()) + " bytes");
  }
  return std::make_pair(ReadBigEndian(engine_key.substr(2, 8)),
                        static_cast<uint32_t>(ReadBigEndian(engine_key.substr(10, 4))));
}

Result<EventView> DecodeEventView(std::string_view engine_key, std::string_view value) {
  NDS_ASSIGN_OR_RETURN(auto revision_seq, DecodeEventKey(engine_key));
  if (!value.empty() && static_cast<uint8_t>(value[0]) == kGroupKind) {
    return Corruption("a group of history events where one event was expected");
  }
  return DecodeEventValue(revision_seq.first, value);
}

// The events of one history entry, in order, into `out` (cleared first): the entry's own event,
// or the events of a group (kind 6):
//   6 count:varint (revision_delta:varint seq:varint event:bytes){count}
// where the first delta is from 0 and each later one from the event before; (revision, seq)
// rise strictly, and the last is the entry's key.
Status DecodeEntryEvents(std::string_view engine_key, std::string_view value,
                         std::vector<EventView>* out) {
  out->clear();
  NDS_ASSIGN_OR_RETURN(auto key_revision_seq, DecodeEventKey(engine_key));
  if (value.empty() || static_cast<uint8_t>(value[0]) != kGroupKind) {
    NDS_ASSIGN_OR_RETURN(EventView e, DecodeEventValue(key_revision_seq.first, value));
    out->push_back(e);
    return Status::Ok();
  }
  Decoder d(value.substr(1));
  NDS_ASSIGN_OR_RETURN(uint64_t count, d.Varint64());
  if (count < 2 || count > value.size()) {
    return Corruption("history group of " + std::to_string(count) + " events");
  }
  uint64_t revision = 0;
  uint64_t seq = 0;
  for (uint64_t i = 0; i < count; ++i) {
    NDS_ASSIGN_OR_RETURN(uint64_t delta, d.Varint64());
    NDS_ASSIGN_OR_RETURN(uint64_t next_seq, d.Varint64());
    NDS_ASSIGN_OR_RETURN(std::string_view event, d.LengthPrefixed());
    if (delta > std::numeric_limits<uint64_t>::max() - revision ||
        next_seq > std::numeric_limits<uint32_t>::max() ||
        (i > 0 && delta == 0 && next_seq <= seq)) {
      return Corruption("history group with events out of order");
    }
    revision += delta;
    seq = next_seq;
    if (!event.empty() && static_cast<uint8_t>(event[0]) == kGroupKind) {
      return Corruption("history group inside a group");
    }
    NDS_ASSIGN_OR_RETURN(EventView e, DecodeEventValue(revision, event));
    out->push_back(e);
  }
  if (!d.done()) return Corruption("history group with trailing bytes");
  if (revision != key_revision_seq.first || seq != key_revision_seq.second) {
    return Corruption("history group whose last event is not its key");
  }
  return Status::Ok();
}

// The record `user_key` held as of `revision`, found with `undo_it` (an iterator of the view `view`
// that this call may move): the undo entry of the key's first change after `revision`, else the
// current record. nullopt when the key was absent then.
Result<std::optional<std::string_view>> RecordAsOf(const engine::View& view,
                                                   engine::Iterator* undo_it,
                                                   std::string_view user_key, uint64_t revision,
                                                   std::optional<std::string>* current) {
  const std::string next = HistoryUndoKey(user_key, revision + 1);
  undo_it->Seek(next);
  // The undo key's prefix is all of `next` but its last 8 bytes (the revision).
  if (undo_it->Valid() && undo_it->key().size() == next.size() &&
      undo_it->key().starts_with(std::string_view(next).substr(0, next.size() - 8))) {
    std::string_view undo = undo_it->value();
    if (undo.empty()) return Corruption("empty history undo entry");
    if (static_cast<uint8_t>(undo[0]) == kUndoAbsent) return std::optional<std::string_view>();
    return std::optional<std::string_view>(undo.substr(1));
  }
  NDS_RETURN_IF_ERROR(undo_it->status());
  NDS_ASSIGN_OR_RETURN(*current, view.Get(DataKey(user_key)));
  if (!*current) return std::optional<std::string_view>();
  return std::optional<std::string_view>(**current);
}

// `v` as a HistoryEvent, its record found in `view` when the event refers to it.
Result<HistoryEvent> ToEvent(const engine::View& view, engine::Iterator* undo_it,
                             const EventView& v) {
  HistoryEvent e;
  e.revision = v.revision;
  e.type = v.type;
  e.key = std::string(v.key);
  if (v.type != HistoryEventType::kPut) return e;
  RecordView record = v.record;
  std::optional<std::string> current;
  if (v.by_reference) {
    // The key's current record, when it is still the one of the event's revision (a point lookup,
    // cheaper than the seek of RecordAsOf): the event is the key's last change in its revision.
    NDS_ASSIGN_OR_RETURN(current, view.Get(DataKey(v.key)));
    std::optional<std::string_view> bytes;
    if (current) {
      NDS_ASSIGN_OR_RETURN(record, DecodeRecord(*current));
      if (record.revision == v.revision) bytes = *current;
    }
    if (!bytes) {
      NDS_ASSIGN_OR_RETURN(bytes, RecordAsOf(view, undo_it, v.key, v.revision, &current));
    }
    if (!bytes) {
      return Corruption("history put at revision " + std::to_string(v.revision) +
                        " of a key absent as of that revision");
    }
    NDS_ASSIGN_OR_RETURN(record, DecodeRecord(*bytes));
    if (record.revision != v.revision) {
      return Corruption("history put at revision " + std::to_string(v.revision) +
                        " refers to a record of revision " + std::to_string(record.revision));
    }
  }
  e.value = std::string(record.value);
  e.content_type = std::string(record.content_type);
  return e;
}

}  // namespace

Result<HistoryEvent> DecodeHistoryEvent(const engine::View& view, std::string_view engine_key,
                                        std::string_view value) {
  NDS_ASSIGN_OR_RETURN(EventView v, DecodeEventView(engine_key, value));
  std::unique_ptr<engine::Iterator> undo_it;
  if (v.by_reference) undo_it = view.NewIterator();
  return ToEvent(view, undo_it.get(), v);
}

std::string HistoryBytesKey() { return std::string{kHistoryPrefix, kBytesTag}; }

Result<uint64_t> ReadHistoryBytes(const engine::View& view) {
  NDS_ASSIGN_OR_RETURN(std::optional<std::string> size, view.Get(HistoryBytesKey()));
  if (!size) return 0;
  if (size->size() != 8) return Corruption("history size of " + std::to_string(size->size()));
  return ReadBigEndian(*size);
}

namespace {

// The floor from its stored entry (absent: the applied index).
Result<uint64_t> DecodeFloor(const std::optional<std::string>& floor, uint64_t applied) {
  if (!floor) return applied;
  if (floor->size() != 8) return Corruption("history floor of " + std::to_string(floor->size()));
  return ReadBigEndian(*floor);
}

}  // namespace

Result<uint64_t> ReadCompactRevision(const engine::View& view) {
  NDS_ASSIGN_OR_RETURN(std::optional<std::string> floor, view.Get(HistoryCompactKey()));
  return DecodeFloor(floor, view.applied_index().value);
}

Result<std::optional<Record>> ReadAtRevision(const engine::View& view, std::string_view user_key,
                                             uint64_t revision) {
  std::unique_ptr<engine::Iterator> it = view.NewIterator();
  std::optional<std::string> current;
  NDS_ASSIGN_OR_RETURN(std::optional<std::string_view> bytes,
                       RecordAsOf(view, it.get(), user_key, revision, &current));
  if (!bytes) return std::optional<Record>();
  NDS_ASSIGN_OR_RETURN(RecordView rec, DecodeRecord(*bytes));
  return std::optional<Record>(CopyRecord(rec));
}

Result<uint64_t> ReadHistoryEvents(const engine::View& view, uint64_t after, uint64_t through,
                                   size_t bytes_max, size_t count_max,
                                   std::vector<HistoryEvent>* out) {
  if (through <= after) return through;
  std::unique_ptr<engine::Iterator> it = view.NewIterator();
  // Finds the records that events of kind 5 refer to; made at the first of them.
  std::unique_ptr<engine::Iterator> undo_it;
  size_t bytes = 0;
  size_t count = 0;
  uint64_t last_revision = after;
  std::vector<EventView> events;
  // An entry's key is its last event's: the first entry at or after (after + 1, 0) holds the
  // first event wanted, and a group may begin with events before it.
  for (it->Seek(HistoryEventKey(after + 1, 0)); it->Valid(); it->Next()) {
    if (!IsEventKey(it->key())) break;
    NDS_RETURN_IF_ERROR(DecodeEntryEvents(it->key(), it->value(), &events));
    for (const EventView& v : events) {
      if (v.revision <= after) continue;
      if (v.revision > through) return through;
      // Stop between revisions only, so that the returned revision is complete.
      if (v.revision != last_revision && (bytes >= bytes_max || count >= count_max)) {
        return last_revision;
      }
      if (v.by_reference && !undo_it) undo_it = view.NewIterator();
      NDS_ASSIGN_OR_RETURN(HistoryEvent e, ToEvent(view, undo_it.get(), v));
      last_revision = e.revision;
      bytes += e.ByteSize();
      ++count;
      out->push_back(std::move(e));
    }
  }
  NDS_RETURN_IF_ERROR(it->status());
  return through;
}

void HistoryWriter::Record(engine::WriteBatch* batch, uint64_t revision, std::string_view user_key,
                           std::string_view record, const std::optional<std::string>& before) {
  if (revision != seq_revision_) {
    NDS_CHECK(revision > seq_revision_, "history revision {} after {}", revision, seq_revision_);
    seq_revision_ = revision;
    seq_ = 0;
    revision_start_ = pending_.size();
    changed_.clear();
  }
  const HistoryEventType type = record.empty() ? HistoryEventType::kDelete : HistoryEventType::kPut;
  // The key's earlier change in this revision, if any: only a key's first change in a revision
  // writes an undo entry (what it held before it).
  Change* earlier = nullptr;
  Change* slot = &first_change_;
  if (seq_ == 0) {
    // The revision's first change (for a plain put, its only one): no map to look up.
    first_changed_.assign(user_key);
    changed_.clear();
  } else {
    if (changed_.empty()) changed_.emplace(first_changed_, first_change_);
    auto [it, inserted] = changed_.try_emplace(std::string(user_key));
    if (!inserted) earlier = &it->second;
    slot = &it->second;
  }
  const bool writes_undo = earlier == nullptr;
  std::string undo_key;
  std::string undo;
  if (writes_undo) {
    if (before) {
      undo.reserve(1 + before->size());
      undo.push_back(static_cast<char>(kUndoPresent));
      undo.append(*before);
    } else {
      undo.push_back(static_cast<char>(kUndoAbsent));
    }
    undo_key = HistoryUndoKey(user_key, revision);
  }
  if (earlier != nullptr && earlier->by_reference) {
    // The earlier put's record is no longer the key's as of this revision: its event now carries
    // it (`before`, what this change replaces), written over the reference in this batch.
    NDS_CHECK(before.has_value(), "a key put at revision {} is absent in it", revision);
    PendingEvent& carried = pending_[revision_start_ + earlier->seq];
    NDS_CHECK(carried.revision == revision && carried.seq == earlier->seq);
    carried.value =
        EncodeHistoryEvent(HistoryEventType::kPut, user_key, *before, earlier->undo_bytes);
  }
  const uint64_t undo_bytes = writes_undo ? undo_key.size() + undo.size() : 0;
  if (capture_bytes_max_ != 0 && !capture_overflowed_) Capture(revision, type, user_key, record);
  // A put's record is the key's own (its record until the next change, then that change's undo
  // entry): a big one is referred to instead of being held a second time.
  const bool by_reference =
      type == HistoryEventType::kPut && record.size() >= kHistoryReferenceRecordBytesMin;
  std::string event = by_reference ? EncodeHistoryPutReference(user_key, undo_bytes)
                                   : EncodeHistoryEvent(type, user_key, record, undo_bytes);
  *slot = Change{seq_, undo_bytes, by_reference};
  // The event waits for the batch's end (WriteEvents); its bytes are counted then.
  pending_bytes_ += undo_bytes;
  pending_.push_back(PendingEvent{revision, seq_++, std::move(event)});
  if (writes_undo) batch->PutOwned(std::move(undo_key), std::move(undo));
}

void HistoryWriter::Capture(uint64_t revision, HistoryEventType type, std::string_view user_key,
                            std::string_view record) {
  HistoryEvent e;
  e.revision = revision;
  e.type = type;
  RecordView rec;
  if (type == HistoryEventType::kPut) {
    Result<RecordView> decoded = DecodeRecord(record);
    NDS_CHECK(decoded.ok(), "a record just encoded does not decode: {}",
              decoded.status().ToString());
    rec = *decoded;
  }
  // Sized before anything is copied: a value over the budget is never copied.
  const size_t size = e.ByteSize() + user_key.size() + rec.value.size() + rec.content_type.size();
  if (captured_bytes_ + size > capture_bytes_max_) {
    capture_overflowed_ = true;
    captured_ = {};
    return;
  }
  e.key = std::string(user_key);
  e.value = std::string(rec.value);
  e.content_type = std::string(rec.content_type);
  captured_bytes_ += size;
  captured_.push_back(std::move(e));
}

std::optional<std::vector<HistoryEvent>> HistoryWriter::TakeCaptured(size_t* bytes) {
  std::optional<std::vector<HistoryEvent>> out;
  if (capture_bytes_max_ != 0 && !capture_overflowed_) {
    out = std::move(captured_);
    *bytes = captured_bytes_;
  }
  captured_ = {};
  captured_bytes_ = 0;
  capture_overflowed_ = false;
  return out;
}

void HistoryWriter::WriteEvents(engine::WriteBatch* batch) {
  size_t begin = 0;
  while (begin < pending_.size()) {
    // The events of one entry, up to the bounds (one alone may be bigger). A revision with more
    // events (a transaction, a /clear) spans entries, as each of its events did its own before:
    // compaction still removes at most a slice of them per commit.
    size_t end = begin + 1;
    size_t bytes = pending_[begin].value.size();
    while (end < pending_.size() && end - begin < kHistoryGroupEventsMax &&
           bytes + pending_[end].value.size() <= kHistoryGroupBytesMax) {
      bytes += pending_[end].value.size();
      ++end;
    }
    const PendingEvent& last = pending_[end - 1];
    std::string key = HistoryEventKey(last.revision, last.seq);
    std::string value;
    if (end - begin == 1) {
      value = std::move(pending_[begin].value);
    } else {
      value.reserve(1 + kVarint64BytesMax + bytes + (end - begin) * 3 * kVarint64BytesMax);
      value.push_back(static_cast<char>(kGroupKind));
      PutVarint64(&value, end - begin);
      uint64_t revision = 0;
      for (size_t i = begin; i < end; ++i) {
        PutVarint64(&value, pending_[i].revision - revision);
        PutVarint64(&value, pending_[i].seq);
        PutLengthPrefixed(&value, pending_[i].value);
        revision = pending_[i].revision;
      }
    }
    pending_bytes_ += key.size() + value.size();
    batch->PutOwned(std::move(key), std::move(value));
    begin = end;
  }
  pending_.clear();
}

Status HistoryWriter::Finish(const engine::Engine& engine, uint64_t last_index,
                             engine::WriteBatch* batch) {
  WriteEvents(batch);
  seq_revision_ = 0;
  seq_ = 0;
  revision_start_ = 0;
  changed_.clear();
  const uint64_t added = std::exchange(pending_bytes_, 0);
  std::unique_ptr<engine::View> view = engine.NewView();
  NDS_ASSIGN_OR_RETURN(std::optional<std::string> stored, view->Get(HistoryCompactKey()));
  const uint64_t applied = view->applied_index().value;
  NDS_ASSIGN_OR_RETURN(const uint64_t floor, DecodeFloor(stored, applied));
  NDS_ASSIGN_OR_RETURN(uint64_t bytes_before, ReadHistoryBytes(*view));
  uint64_t bytes = bytes_before + added;
  uint64_t target = last_index > keep_revisions_ ? last_index - keep_revisions_ : 0;
  // Revisions of this very batch are not in the engine yet: never compact past what is.
  target = std::min(target, applied);
  uint64_t new_floor = floor;
  // Compaction starts once the target is a slack ahead of the floor: the pass's view, iterator
  // and seek (a read of SST blocks, the history's oldest part being on disk) are then paid once
  // per slack of revisions instead of once per commit.
  const uint64_t slack =
      std::min<uint64_t>(keep_revisions_ / kCompactSlackShare, kCompactEventsPerCommitMax / 2);
  if (target > floor + slack || bytes > bytes_max_) {
    std::unique_ptr<engine::Iterator> it = view->NewIterator();
    size_t removed = 0;
    uint64_t last_removed = 0;
    bool exhausted = true;
    // The undo keys met at the revision being removed (events of one revision are adjacent): the
    // first apart, the set only once the revision has a second event.
    uint64_t undo_revision = 0;
    std::string first_undo;
    std::set<std::string> freed_undos;
    std::string undo_key;
    std::vector<EventView> events;
    // From `floor` itself: a slice that stopped inside a revision left some of its events. An
    // entry is removed whole: one event, or a group (whose revisions no other entry shares).
    for (it->Seek(HistoryEventKey(floor, 0)); it->Valid() && IsEventKey(it->key()); it->Next()) {
      NDS_RETURN_IF_ERROR(DecodeEntryEvents(it->key(), it->value(), &events));
      const uint64_t first = events.front().revision;
      const uint64_t last = events.back().revision;
      if (first > applied) break;
      // Old enough, or the history is too big (a revision once begun is removed whole).
      const bool due =
          last <= target || bytes > bytes_max_ || (removed > 0 && first == last_removed);
      if (!due || (removed > 0 && removed + events.size() > kCompactEventsPerCommitMax)) {
        // A revision partly removed counts as compacted; the next slice removes the rest.
        // Otherwise the floor moves to what was removed, not past it.
        new_floor = last_removed == first
                        ? first
                        : std::max(floor, std::min(first - 1, std::max(target, last_removed)));
        exhausted = false;
        break;
      }
      uint64_t freed = it->key().size() + it->value().size();
      for (const EventView& e : events) {
        SetUndoKey(&undo_key, e.key, e.revision);
        // An event that carries its undo entry's size (0 for a key's later changes in a
        // revision) needs no read of it. One of an earlier version does: a key changed twice in
        // one revision has one undo entry, counted once.
        bool first_seen = !e.undo_bytes.has_value();
        if (e.undo_bytes) {
          freed += *e.undo_bytes;
        } else if (e.revision != undo_revision) {
          undo_revision = e.revision;
          first_undo.assign(undo_key);
          freed_undos.clear();
        } else {
          if (freed_undos.empty()) freed_undos.insert(first_undo);
          first_seen = freed_undos.insert(undo_key).second;
        }
        if (first_seen) {
          NDS_ASSIGN_OR_RETURN(std::optional<std::string> undo, view->Get(undo_key));
          if (undo) freed += undo_key.size() + undo->size();
        }
        batch->Delete(undo_key);
      }
      bytes -= std::min(bytes, freed);
      batch->Delete(it->key());
      last_removed = last;
      removed += events.size();
    }
    NDS_RETURN_IF_ERROR(it->status());
    if (exhausted) new_floor = std::max({floor, target, last_removed});
  }
  if (!stored || new_floor != floor) {
    std::string floor_bytes;
    PutBigEndian64(&floor_bytes, new_floor);
    batch->Put(HistoryCompactKey(), floor_bytes);
  }
  if (bytes != bytes_before) {
    std::string size;
    PutBigEndian64(&size, bytes);
    batch->Put(HistoryBytesKey(), size);
  }
  return Status::Ok();
}

}  // namespace nds::store
