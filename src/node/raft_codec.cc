// Peer frame and envelope encoding (docs/formats/raft_messages.md).
#include "node/raft_codec.h"

#include "util/coding.h"
#include "util/log_text.h"

namespace nds::node {
namespace {

constexpr uint8_t kCodecVersion = 1;
constexpr uint8_t kLastMessageType = static_cast<uint8_t>(raft::MessageType::kTransferLeader);

void PutIds(std::string* out, const std::vector<NodeId>& ids) {
  PutVarint64(out, ids.size());
  for (NodeId id : ids) PutVarint64(out, id.value);
}

Result<std::vector<NodeId>> GetIds(Decoder* d) {
  NDS_ASSIGN_OR_RETURN(uint64_t n, d->Varint64());
  if (n > d->remaining()) return Corruption("node id count beyond the frame");
  std::vector<NodeId> ids;
  ids.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    NDS_ASSIGN_OR_RETURN(uint64_t v, d->Varint64());
    ids.emplace_back(v);
  }
  return ids;
}

// The bytes of PutLengthPrefixed(e.data) either way: big data is only referenced.
void PutEntry(net::PeerPayload* payload, const raft::Entry& e) {
  std::string* out = payload->own_bytes();
  PutVarint64(out, e.term.value);
  PutVarint64(out, e.index.value);
  out->push_back(static_cast<char>(e.type));
  if (e.data.size() < kFrameSharedBytesMin) {
    PutLengthPrefixed(out, e.data);
    return;
  }
  PutVarint64(out, e.data.size());
  payload->AppendShared(e.data);
}

// `frame`: the SharedBytes the decoder reads (null: copy every entry's data). Data of
// kFrameSliceBytesMin or more is then a slice of it instead of a copy.
Result<raft::Entry> GetEntry(Decoder* d, const SharedBytes* frame) {
  raft::Entry e;
  NDS_ASSIGN_OR_RETURN(uint64_t term, d->Varint64());
  NDS_ASSIGN_OR_RETURN(uint64_t index, d->Varint64());
  NDS_ASSIGN_OR_RETURN(std::string_view type, d->Bytes(1));
  if (static_cast<uint8_t>(type[0]) > static_cast<uint8_t>(raft::EntryType::kConfChange)) {
    return Corruption("unknown entry type");
  }
  NDS_ASSIGN_OR_RETURN(std::string_view data, d->LengthPrefixed());
  e.term = Term(term);
  e.index = LogIndex(index);
  e.type = static_cast<raft::EntryType>(type[0]);
  if (frame != nullptr && data.size() >= kFrameSliceBytesMin) {
    e.data =
        SharedBytes::Slice(*frame, static_cast<size_t>(data.data() - frame->data()), data.size());
  } else {
    e.data = std::string(data);
  }
  return e;
}

}  // namespace

std::string EnvelopeHead(uint64_t origin, uint64_t request_id, size_t command_bytes) {
  std::string out;
  out.reserve(1 + 2 * 10 + command_bytes);
  out.push_back(static_cast<char>(kCodecVersion));
  PutVarint64(&out, origin);
  PutVarint64(&out, request_id);
  return out;
}

std::string EncodeEnvelope(const Envelope& e) {
  std::string out = EnvelopeHead(e.origin, e.request_id, e.command.size());
  out.append(e.command);
  return out;
}

Result<EnvelopeView> DecodeEnvelopeView(std::string_view bytes) {
  Decoder d(bytes);
  NDS_ASSIGN_OR_RETURN(std::string_view v, d.Bytes(1));
  if (static_cast<uint8_t>(v[0]) != kCodecVersion) return Corruption("unknown envelope version");
  EnvelopeView e;
  NDS_ASSIGN_OR_RETURN(e.origin, d.Varint64());
  NDS_ASSIGN_OR_RETURN(e.request_id, d.Varint64());
  NDS_ASSIGN_OR_RETURN(e.command, d.Bytes(d.remaining()));
  return e;
}

Result<Envelope> DecodeEnvelope(std::string_view bytes) {
  NDS_ASSIGN_OR_RETURN(EnvelopeView v, DecodeEnvelopeView(bytes));
  return Envelope{v.origin, v.request_id, std::string(v.command)};
}

net::PeerPayload EncodeRaftFrame(const raft::Message& m) {
  net::PeerPayload payload;
  std::string& out = *payload.own_bytes();
  size_t copied_bytes = 0;
  for (const auto& e : m.entries) {
    copied_bytes += (e.data.size() < kFrameSharedBytesMin ? e.data.size() : 0) + 24;
  }
  out.reserve(64 + copied_bytes + m.context.size());
  out.push_back(static_cast<char>(FrameKind::kRaft));
  out.push_back(static_cast<char>(kCodecVersion));
  out.push_back(static_cast<char>(m.type));
  PutVarint64(&out, m.from.value);
  PutVarint64(&out, m.to.value);
  PutVarint64(&out, m.term.value);
  PutVarint64(&out, m.log_term.value);
  PutVarint64(&out, m.index.value);
  PutVarint64(&out, m.commit.value);
  out.push_back(m.reject ? 1 : 0);
  PutVarint64(&out, m.reject_hint.value);
  PutVarint64(&out, m.reject_term_hint.value);
  PutVarint64(&out, m.round);
  PutVarint64(&out, m.transferee.value);
  PutLengthPrefixed(&out, m.context);
  PutVarint64(&out, m.snapshot.index.value);
  PutVarint64(&out, m.snapshot.term.value);
  const raft::ConfState& cs = m.snapshot.conf_state;
  PutIds(&out, cs.voters);
  PutIds(&out, cs.learners);
  PutIds(&out, cs.voters_outgoing);
  PutIds(&out, cs.learners_next);
  out.push_back(cs.auto_leave ? 1 : 0);
  PutVarint64(&out, m.entries.size());
  for (const auto& e : m.entries) PutEntry(&payload, e);
  return payload;
}

std::string EncodeForwardFrame(const Envelope& e) {
  return ForwardFrameOf(EncodeEnvelope(e)).Flatten();
}

net::PeerPayload ForwardFrameOf(const SharedBytes& encoded_envelope) {
  net::PeerPayload payload(std::string(1, static_cast<char>(FrameKind::kForward)));
  if (encoded_envelope.size() < kFrameSharedBytesMin) {
    payload.own_bytes()->append(encoded_envelope.view());
  } else {
    payload.AppendShared(encoded_envelope);
  }
  return payload;
}

Result<FrameKind> PeekFrameKind(std::string_view frame) {
  if (frame.empty()) return Corruption("empty peer frame");
  auto k = static_cast<uint8_t>(frame[0]);
  if (k < 1 || k > static_cast<uint8_t>(FrameKind::kSnapshotResume))
    return Corruption("unknown peer frame kind " + std::to_string(k));
  return static_cast<FrameKind>(k);
}

Result<Envelope> DecodeForwardFrame(std::string_view frame) {
  NDS_ASSIGN_OR_RETURN(FrameKind kind, PeekFrameKind(frame));
  if (kind != FrameKind::kForward) return Corruption("not a forward frame");
  return DecodeEnvelope(frame.substr(1));
}

std::string EncodeForwardRefusalFrame(const ForwardRefusal& r) {
  std::string out;
  out.push_back(static_cast<char>(FrameKind::kForwardRefused));
  out.push_back(static_cast<char>(kCodecVersion));
  PutVarint64(&out, static_cast<uint64_t>(r.status.code()));
  PutLengthPrefixed(&out, r.status.message().substr(0, kRefusalMessageBytesMax));
  out.append(EncodeEnvelope(r.envelope));
  return out;
}

Result<ForwardRefusal> DecodeForwardRefusalFrame(std::string_view frame) {
  Decoder d(frame);
  NDS_ASSIGN_OR_RETURN(std::string_view head, d.Bytes(2));
  if (static_cast<uint8_t>(head[0]) != static_cast<uint8_t>(FrameKind::kForwardRefused)) {
    return Corruption("not a forward refusal frame");
  }
  if (static_cast<uint8_t>(head[1]) != kCodecVersion) return Corruption("unknown codec version");
  NDS_ASSIGN_OR_RETURN(uint64_t code, d.Varint64());
  if (code == 0 || code > static_cast<uint64_t>(StatusCode::kCancelled)) {
    return Corruption("forward refusal with a bad status code");
  }
  NDS_ASSIGN_OR_RETURN(std::string_view message, d.LengthPrefixed());
  if (message.size() > kRefusalMessageBytesMax) {
    return Corruption("forward refusal with an overlong message");
  }
  NDS_ASSIGN_OR_RETURN(std::string_view rest, d.Bytes(d.remaining()));
  ForwardRefusal r;
  NDS_ASSIGN_OR_RETURN(r.envelope, DecodeEnvelope(rest));
  r.status = Status(static_cast<StatusCode>(code), std::string(message));
  return r;
}

std::string EncodeMembersViewFrame(const std::vector<MemberHealth>& view) {
  std::string out;
  out.push_back(static_cast<char>(FrameKind::kMembersView));
  out.push_back(static_cast<char>(kCodecVersion));
  PutVarint64(&out, view.size());
  for (const MemberHealth& m : view) {
    PutVarint64(&out, m.id);
    out.push_back(m.reachable ? 1 : 0);
    PutVarint64(&out, m.behind);
  }
  return out;
}

Result<std::vector<MemberHealth>> DecodeMembersViewFrame(std::string_view frame) {
  Decoder d(frame);
  NDS_ASSIGN_OR_RETURN(std::string_view head, d.Bytes(2));
  if (static_cast<uint8_t>(head[0]) != static_cast<uint8_t>(FrameKind::kMembersView)) {
    return Corruption("not a members view frame");
  }
  if (static_cast<uint8_t>(head[1]) != kCodecVersion) return Corruption("unknown codec version");
  NDS_ASSIGN_OR_RETURN(uint64_t n, d.Varint64());
  if (n > kMembersViewEntriesMax) return Corruption("a members view of too many members");
  std::vector<MemberHealth> view;
  for (uint64_t i = 0; i < n; ++i) {
    MemberHealth m;
    NDS_ASSIGN_OR_RETURN(m.id, d.Varint64());
    NDS_ASSIGN_OR_RETURN(std::string_view flag, d.Bytes(1));
    if (flag[0] != 0 && flag[0] != 1) return Corruption("a members view with a bad flag");
    m.reachable = flag[0] == 1;
    NDS_ASSIGN_OR_RETURN(m.behind, d.Varint64());
    view.push_back(m);
  }
  if (!d.done()) return Corruption("trailing bytes after a members view");
  return view;
}

namespace {

Result<raft::Message> DecodeRaftFrameOf(std::string_view frame, const SharedBytes* shared) {
  Decoder d(frame);
  NDS_ASSIGN_OR_RETURN(std::string_view head, d.Bytes(3));
  if (static_cast<uint8_t>(head[0]) != static_cast<uint8_t>(FrameKind::kRaft)) {
    return Corruption("not a raft frame");
  }
  if (static_cast<uint8_t>(head[1]) != kCodecVersion) return Corruption("unknown codec version");
  if (static_cast<uint8_t>(head[2]) > kLastMessageType) return Corruption("unknown message type");
  raft::Message m;
  m.type = static_cast<raft::MessageType>(head[2]);
  uint64_t v = 0;
  auto next = [&](auto* field) -> Status {
    NDS_ASSIGN_OR_RETURN(v, d.Varint64());
    *field = std::remove_pointer_t<decltype(field)>(v);
    return Status::Ok();
  };
  NDS_RETURN_IF_ERROR(next(&m.from));
  NDS_RETURN_IF_ERROR(next(&m.to));
  NDS_RETURN_IF_ERROR(next(&m.term));
  NDS_RETURN_IF_ERROR(next(&m.log_term));
  NDS_RETURN_IF_ERROR(next(&m.index));
  NDS_RETURN_IF_ERROR(next(&m.commit));
  NDS_ASSIGN_OR_RETURN(std::string_view reject, d.Bytes(1));
  if (static_cast<uint8_t>(reject[0]) > 1) return Corruption("bad reject flag");
  m.reject = reject[0] == 1;
  NDS_RETURN_IF_ERROR(next(&m.reject_hint));
  NDS_RETURN_IF_ERROR(next(&m.reject_term_hint));
  NDS_ASSIGN_OR_RETURN(m.round, d.Varint64());
  NDS_RETURN_IF_ERROR(next(&m.transferee));
  NDS_ASSIGN_OR_RETURN(std::string_view context, d.LengthPrefixed());
  m.context = context;
  NDS_RETURN_IF_ERROR(next(&m.snapshot.index));
  NDS_RETURN_IF_ERROR(next(&m.snapshot.term));
  raft::ConfState& cs = m.snapshot.conf_state;
  NDS_ASSIGN_OR_RETURN(cs.voters, GetIds(&d));
  NDS_ASSIGN_OR_RETURN(cs.learners, GetIds(&d));
  NDS_ASSIGN_OR_RETURN(cs.voters_outgoing, GetIds(&d));
  NDS_ASSIGN_OR_RETURN(cs.learners_next, GetIds(&d));
  NDS_ASSIGN_OR_RETURN(std::string_view auto_leave, d.Bytes(1));
  if (static_cast<uint8_t>(auto_leave[0]) > 1) return Corruption("bad auto_leave flag");
  cs.auto_leave = auto_leave[0] == 1;
  NDS_ASSIGN_OR_RETURN(uint64_t n, d.Varint64());
  if (n > d.remaining()) return Corruption("entry count beyond the frame");
  m.entries.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    NDS_ASSIGN_OR_RETURN(raft::Entry e, GetEntry(&d, shared));
    m.entries.push_back(std::move(e));
  }
  if (!d.done()) return Corruption("trailing bytes after a raft message");
  return m;
}

}  // namespace

Result<raft::Message> DecodeRaftFrame(std::string_view frame) {
  return DecodeRaftFrameOf(frame, nullptr);
}

Result<raft::Message> DecodeSharedRaftFrame(const SharedBytes& frame) {
  return DecodeRaftFrameOf(frame.view(), &frame);
}

std::string EncodeSnapshotChunkFrame(const wal::SnapshotChunk& c) {
  std::string out;
  out.reserve(c.data.size() + 48);
  out.push_back(static_cast<char>(FrameKind::kSnapshotChunk));
  out.push_back(static_cast<char>(kCodecVersion));
  PutVarint64(&out, c.index.value);
  PutVarint64(&out, c.term.value);
  PutVarint64(&out, c.offset);
  PutVarint64(&out, c.total_bytes);
  PutLengthPrefixed(&out, c.data);
  return out;
}

Result<wal::SnapshotChunk> DecodeSnapshotChunkFrame(std::string_view frame) {
  NDS_ASSIGN_OR_RETURN(FrameKind kind, PeekFrameKind(frame));
  if (kind != FrameKind::kSnapshotChunk) return Corruption("not a snapshot chunk frame");
  Decoder d(frame.substr(1));
  NDS_ASSIGN_OR_RETURN(std::string_view version, d.Bytes(1));
  if (static_cast<uint8_t>(version[0]) != kCodecVersion) {
    return Corruption("snapshot chunk of unknown version");
  }
  wal::SnapshotChunk c;
  NDS_ASSIGN_OR_RETURN(uint64_t index, d.Varint64());
  NDS_ASSIGN_OR_RETURN(uint64_t term, d.Varint64());
  NDS_ASSIGN_OR_RETURN(c.offset, d.Varint64());
  NDS_ASSIGN_OR_RETURN(c.total_bytes, d.Varint64());
  NDS_ASSIGN_OR_RETURN(std::string_view data, d.LengthPrefixed());
  if (d.remaining() != 0) return Corruption("trailing bytes after a snapshot chunk");
  if (c.offset > c.total_bytes || data.size() > c.total_bytes - c.offset) {
    return Corruption("snapshot chunk runs past the stream's length");
  }
  c.index = LogIndex{index};
  c.term = Term{term};
  c.data = data;
  return c;
}

std::string EncodeSnapshotResumeFrame(const SnapshotResume& r) {
  std::string out;
  out.push_back(static_cast<char>(FrameKind::kSnapshotResume));
  out.push_back(static_cast<char>(kCodecVersion));
  PutVarint64(&out, r.index.value);
  PutVarint64(&out, r.term.value);
  PutVarint64(&out, r.offset);
  return out;
}

Result<SnapshotResume> DecodeSnapshotResumeFrame(std::string_view frame) {
  NDS_ASSIGN_OR_RETURN(FrameKind kind, PeekFrameKind(frame));
  if (kind != FrameKind::kSnapshotResume) return Corruption("not a snapshot resume frame");
  Decoder d(frame.substr(1));
  NDS_ASSIGN_OR_RETURN(std::string_view version, d.Bytes(1));
  if (static_cast<uint8_t>(version[0]) != kCodecVersion) {
    return Corruption("snapshot resume of unknown version");
  }
  NDS_ASSIGN_OR_RETURN(uint64_t index, d.Varint64());
  NDS_ASSIGN_OR_RETURN(uint64_t term, d.Varint64());
  NDS_ASSIGN_OR_RETURN(uint64_t offset, d.Varint64());
  if (d.remaining() != 0) return Corruption("trailing bytes after a snapshot resume");
  return SnapshotResume{LogIndex{index}, Term{term}, offset};
}

namespace {
constexpr std::string_view kHelloMagic = "ndshello";
// Version 2 added the addresses. Version 3 travels inside the authenticated handshake
// (net/peer_handshake.h) and refuses control characters; older versions say "unknown version".
constexpr uint8_t kHelloVersion = 3;
constexpr size_t kHelloClusterIdBytesMax = 256;
}  // namespace

std::string EncodeHello(const Hello& h) {
  std::string out(kHelloMagic);
  out.push_back(static_cast<char>(kHelloVersion));
  PutVarint64(&out, h.node_id);
  PutLengthPrefixed(&out, h.cluster_id);
  PutLengthPrefixed(&out, h.peer_address.substr(0, kHelloAddressBytesMax));
  PutLengthPrefixed(&out, h.api_address.substr(0, kHelloAddressBytesMax));
  return out;
}

Result<Hello> DecodeHello(std::string_view bytes) {
  if (!bytes.starts_with(kHelloMagic)) return Corruption("not an nds peer hello");
  Decoder d(bytes.substr(kHelloMagic.size()));
  NDS_ASSIGN_OR_RETURN(std::string_view version, d.Bytes(1));
  if (static_cast<uint8_t>(version[0]) != kHelloVersion) {
    return Corruption("peer hello of unknown version " +
                      std::to_string(static_cast<uint8_t>(version[0])));
  }
  Hello h;
  NDS_ASSIGN_OR_RETURN(h.node_id, d.Varint64());
  NDS_ASSIGN_OR_RETURN(std::string_view cluster, d.LengthPrefixed());
  NDS_ASSIGN_OR_RETURN(std::string_view peer, d.LengthPrefixed());
  NDS_ASSIGN_OR_RETURN(std::string_view api, d.LengthPrefixed());
  if (peer.size() > kHelloAddressBytesMax || api.size() > kHelloAddressBytesMax) {
    return Corruption("peer hello with an overlong address");
  }
  h.peer_address = peer;
  h.api_address = api;
  if (h.node_id == 0) return Corruption("peer hello with node id 0");
  if (cluster.empty() || cluster.size() > kHelloClusterIdBytesMax) {
    return Corruption("peer hello with a bad cluster id length");
  }
  if (d.remaining() != 0) return Corruption("trailing bytes after the peer hello");
  // Outside text that reaches logs and the member table: a control character is invalid input.
  if (HasControlCharacter(cluster) || HasControlCharacter(peer) || HasControlCharacter(api)) {
    return Corruption("peer hello with a control character in its cluster id or an address");
  }
  h.cluster_id = cluster;
  return h;
}

}  // namespace nds::node
