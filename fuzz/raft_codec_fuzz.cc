// Fuzz target: node/raft_codec's peer frame payloads (Raft messages, forwarded envelopes, their
// refusals, snapshot chunks and resume requests, the leader's members view) and the log entry
// envelope. Properties: no crash; whatever decodes survives re-encoding and decodes to the same
// value.
#include "fuzz/fuzz_check.h"
#include "node/raft_codec.h"

namespace node = nds::node;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view frame = nds::fuzz::AsView(data, size);
  if (auto e = node::DecodeEnvelope(frame); e.ok()) {
    auto again = node::DecodeEnvelope(node::EncodeEnvelope(*e));
    FUZZ_CHECK(again.ok() && *again == *e);
  }
  auto kind = node::PeekFrameKind(frame);
  if (!kind.ok()) return 0;
  switch (*kind) {
    case node::FrameKind::kRaft:
      if (auto m = node::DecodeRaftFrame(frame); m.ok()) {
        auto again = node::DecodeRaftFrame(node::EncodeRaftFrame(*m).Flatten());
        FUZZ_CHECK(again.ok() && *again == *m);
      }
      break;
    case node::FrameKind::kForward:
      if (auto e = node::DecodeForwardFrame(frame); e.ok()) {
        auto again = node::DecodeForwardFrame(node::EncodeForwardFrame(*e));
        FUZZ_CHECK(again.ok() && *again == *e);
      }
      break;
    case node::FrameKind::kForwardRefused:
      if (auto r = node::DecodeForwardRefusalFrame(frame); r.ok()) {
        FUZZ_CHECK(node::DecodeForwardRefusalFrame(node::EncodeForwardRefusalFrame(*r)).ok());
      }
      break;
    case node::FrameKind::kSnapshotChunk:
      if (auto c = node::DecodeSnapshotChunkFrame(frame); c.ok()) {
        auto again = node::DecodeSnapshotChunkFrame(node::EncodeSnapshotChunkFrame(*c));
        FUZZ_CHECK(again.ok() && *again == *c);
      }
      break;
    case node::FrameKind::kMembersView:
      if (auto v = node::DecodeMembersViewFrame(frame); v.ok()) {
        auto again = node::DecodeMembersViewFrame(node::EncodeMembersViewFrame(*v));
        FUZZ_CHECK(again.ok() && *again == *v);
      }
      break;
    case node::FrameKind::kSnapshotResume:
      if (auto r = node::DecodeSnapshotResumeFrame(frame); r.ok()) {
        auto again = node::DecodeSnapshotResumeFrame(node::EncodeSnapshotResumeFrame(*r));
        FUZZ_CHECK(again.ok() && *again == *r);
      }
      break;
  }
  return 0;
}
