// Encoding of what node/ sends between peers and writes into log entries (docs/formats/
// raft_messages.md): Raft messages, and the envelope around every client command in the log.
// Decoders validate every field: the bytes come from the network or the disk.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "raft/messages.h"
#include "util/status.h"

namespace nds::node {

// The kinds of peer frame node/ exchanges (first byte of every frame).
enum class FrameKind : uint8_t {
  kRaft = 1,     // a raft::Message
  kForward = 2,  // an Envelope a follower hands to the leader to propose
};

// The payload of every normal log entry: who asked, under which request id, for what.
struct Envelope {
  uint64_t origin = 0;      // the node whose client waits for the result
  uint64_t request_id = 0;  // unique per origin and process lifetime
  std::string command;      // an encoded store::Command

  bool operator==(const Envelope&) const = default;
};

std::string EncodeEnvelope(const Envelope& e);
// kCorruption on any malformed input.
Result<Envelope> DecodeEnvelope(std::string_view bytes);

// The frame for `m`, kind byte included.
std::string EncodeRaftFrame(const raft::Message& m);
std::string EncodeForwardFrame(const Envelope& e);

// The kind of a frame; kCorruption for an empty frame or an unknown kind.
Result<FrameKind> PeekFrameKind(std::string_view frame);
// Decodes a kRaft frame (kind byte included). kCorruption on any malformed input.
Result<raft::Message> DecodeRaftFrame(std::string_view frame);
Result<Envelope> DecodeForwardFrame(std::string_view frame);

}  // namespace nds::node
