// Encoding of what node/ sends between peers and writes into log entries (docs/formats/
// raft_messages.md): Raft messages, and the envelope around every client command in the log.
// Decoders validate every field: the bytes come from the network or the disk.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "net/peer_payload.h"
#include "raft/messages.h"
#include "util/shared_bytes.h"
#include "util/status.h"
#include "wal/snapshot_transfer.h"

namespace nds::node {

// The kinds of peer frame node/ exchanges (first byte of every frame).
enum class FrameKind : uint8_t {
  kRaft = 1,     // a raft::Message
  kForward = 2,  // an Envelope a follower hands to the leader to propose
  kSnapshotChunk =
      3,  // a piece of a snapshot's stream (wal/snapshot_transfer.h), leader -> follower
  kForwardRefused = 4,  // a forwarded Envelope handed back: the receiver did not propose it
  kMembersView = 5,     // the leader's view of its members' health, leader -> followers
  kSnapshotResume = 6,  // where a snapshot stream should go on from, follower -> leader
};

// The payload of every normal log entry: who asked, under which request id, for what.
struct Envelope {
  uint64_t origin = 0;      // the node whose client waits for the result
  uint64_t request_id = 0;  // unique per origin and process lifetime
  std::string command;      // an encoded store::Command

  bool operator==(const Envelope&) const = default;
};

std::string EncodeEnvelope(const Envelope& e);
// The head of an envelope (everything before its command), reserving room for `command_bytes`
// more: append the encoded command to it to get EncodeEnvelope's bytes without a second copy of
// the command.
std::string EnvelopeHead(uint64_t origin, uint64_t request_id, size_t command_bytes);
// kCorruption on any malformed input.
Result<Envelope> DecodeEnvelope(std::string_view bytes);
// An envelope whose command points into the bytes it was decoded from (the apply reads a
// committed entry's command where it is: a 16 MB value is not copied out first).
struct EnvelopeView {
  uint64_t origin = 0;
  uint64_t request_id = 0;
  std::string_view command;
};
// As DecodeEnvelope; the view is valid while `bytes` is.
Result<EnvelopeView> DecodeEnvelopeView(std::string_view bytes);

// Entry data (and a forwarded envelope) of at least this many bytes goes into a frame by reference
// (a shared piece of net::PeerPayload); smaller data is copied into the frame. A leader sends
// every entry to each follower, and each frame waits in its link's queue until written: copying a
// big value there held it once more per follower (issue 17, big values). Below a few KiB a copy
// costs less than the reference count and the extra gather buffer, and a batch of small entries
// stays one buffer.
inline constexpr size_t kFrameSharedBytesMin = 4 << 10;
// A received entry's data of at least this size is a slice of the frame it came in
// (DecodeSharedRaftFrame). A slice keeps its whole frame alive, so only data that is
// most of a frame is sliced: appends aim at 1 MiB (kAppendTargetBytes), so a 64 KiB slice pins
// at most about 16 times its size, and a bigger entry travels alone in its frame.
inline constexpr size_t kFrameSliceBytesMin = 64 << 10;

// The frame for `m`, kind byte included. The bytes are those of docs/formats/raft_messages.md
// however they are split into pieces; the frame shares the data of m's big entries (which are
// immutable), so it may outlive `m`.
net::PeerPayload EncodeRaftFrame(const raft::Message& m);
std::string EncodeForwardFrame(const Envelope& e);
// The forward frame around an envelope already encoded with EncodeEnvelope; it shares a big
// envelope's bytes (kFrameSharedBytesMin).
net::PeerPayload ForwardFrameOf(const SharedBytes& encoded_envelope);

// The kind of a frame; kCorruption for an empty frame or an unknown kind.
Result<FrameKind> PeekFrameKind(std::string_view frame);
// Decodes a kRaft frame (kind byte included). kCorruption on any malformed input.
Result<raft::Message> DecodeRaftFrame(std::string_view frame);
// As DecodeRaftFrame, from a frame held in a SharedBytes: an entry's data of kFrameSliceBytesMin or
// more is a slice of the frame instead of a copy (a follower's 16 MB entry is not copied again).
Result<raft::Message> DecodeSharedRaftFrame(const SharedBytes& frame);
Result<Envelope> DecodeForwardFrame(std::string_view frame);

// A forwarded write its receiver could not propose (it does not lead, or its leader refused the
// proposal), sent back to the origin, which retries it elsewhere or fails it at once.
struct ForwardRefusal {
  Envelope envelope;
  Status status;  // why; never Ok. Its message is at most kRefusalMessageBytesMax bytes
};
inline constexpr size_t kRefusalMessageBytesMax = 1024;
// Longer messages are cut to kRefusalMessageBytesMax.
std::string EncodeForwardRefusalFrame(const ForwardRefusal& r);
// kCorruption on any malformed input (an Ok or unknown code included).
Result<ForwardRefusal> DecodeForwardRefusalFrame(std::string_view frame);

std::string EncodeSnapshotChunkFrame(const wal::SnapshotChunk& c);
// kCorruption on any malformed input (data running past total_bytes included).
Result<wal::SnapshotChunk> DecodeSnapshotChunkFrame(std::string_view frame);

// A follower's request to go on with the snapshot stream (index, term) at `offset`: it holds the
// bytes before it, and a chunk after them was lost.
struct SnapshotResume {
  LogIndex index;
  Term term;
  uint64_t offset = 0;

  bool operator==(const SnapshotResume&) const = default;
};
std::string EncodeSnapshotResumeFrame(const SnapshotResume& r);
// kCorruption on malformed input or trailing bytes.
Result<SnapshotResume> DecodeSnapshotResumeFrame(std::string_view frame);

// The hello that opens every peer connection: which cluster and which node is dialling, and where
// the dialler is reached now (empty when it does not say), so that a leader learns the new
// addresses of a member restarted with other --peer/--api settings.
inline constexpr size_t kHelloAddressBytesMax = 255;
struct Hello {
  std::string cluster_id;
  uint64_t node_id = 0;
  std::string peer_address;  // at most kHelloAddressBytesMax bytes
  std::string api_address;   // likewise

  bool operator==(const Hello&) const = default;
};
// One member as the leader sees it (kMembersView): heard from lately, and entries behind.
struct MemberHealth {
  uint64_t id = 0;
  bool reachable = false;
  uint64_t behind = 0;

  bool operator==(const MemberHealth&) const = default;
};
inline constexpr size_t kMembersViewEntriesMax = 4096;
std::string EncodeMembersViewFrame(const std::vector<MemberHealth>& view);
// kCorruption on malformed input, more than kMembersViewEntriesMax entries or trailing bytes.
Result<std::vector<MemberHealth>> DecodeMembersViewFrame(std::string_view frame);

std::string EncodeHello(const Hello& h);
// kCorruption on any malformed input (wrong magic, bad fields, trailing bytes).
Result<Hello> DecodeHello(std::string_view bytes);

}  // namespace nds::node
