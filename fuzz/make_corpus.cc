// Writes the seed corpus of every fuzz target into DIR/<target>/ (fuzz/corpus/ in the repository)
// with the real encoders, so that the fuzzers start from valid inputs and mutate from there.
// Run by hand after a format change: build/fuzz/fuzz/nds_make_corpus fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "net/peer_frame.h"
#include "node/raft_codec.h"
#include "store/command.h"
#include "wal/record.h"
#include "wal/snapshot_manifest.h"

namespace nds {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& dir, const std::string& target, const std::string& name,
           const std::string& bytes) {
  fs::create_directories(dir / target);
  std::ofstream(dir / target / name, std::ios::binary) << bytes;
}

raft::Entry SampleEntry(uint64_t index) {
  raft::Entry e;
  e.term = Term{3};
  e.index = LogIndex{index};
  std::string command;
  store::EncodeCommand(store::PutCommand("key" + std::to_string(index), "value"), &command);
  e.data = node::EncodeEnvelope(node::Envelope{1, index, command});
  return e;
}

std::vector<raft::Message> SampleMessages() {
  std::vector<raft::Message> out;
  raft::Message append;
  append.type = raft::MessageType::kAppend;
  append.from = NodeId{1};
  append.to = NodeId{2};
  append.term = Term{3};
  append.log_term = Term{3};
  append.index = LogIndex{6};
  append.entries = {SampleEntry(7), SampleEntry(8)};
  append.commit = LogIndex{6};
  out.push_back(append);
  raft::Message reject = append;
  reject.type = raft::MessageType::kAppendResponse;
  reject.entries.clear();
  reject.reject = true;
  reject.reject_hint = LogIndex{4};
  reject.reject_term_hint = Term{2};
  out.push_back(reject);
  raft::Message vote;
  vote.type = raft::MessageType::kVote;
  vote.from = NodeId{2};
  vote.to = NodeId{3};
  vote.term = Term{4};
  vote.context = "transfer";
  out.push_back(vote);
  raft::Message heartbeat;
  heartbeat.type = raft::MessageType::kHeartbeat;
  heartbeat.from = NodeId{1};
  heartbeat.to = NodeId{3};
  heartbeat.term = Term{3};
  heartbeat.round = 42;
  out.push_back(heartbeat);
  raft::Message snapshot;
  snapshot.type = raft::MessageType::kSnapshot;
  snapshot.from = NodeId{1};
  snapshot.to = NodeId{4};
  snapshot.term = Term{3};
  snapshot.snapshot.index = LogIndex{100};
  snapshot.snapshot.term = Term{3};
  snapshot.snapshot.conf_state.voters = {NodeId{1}, NodeId{2}, NodeId{3}};
  snapshot.snapshot.conf_state.learners = {NodeId{4}};
  out.push_back(snapshot);
  return out;
}

void WriteHttp(const fs::path& dir) {
  const char* requests[] = {
      "GET /kv/a HTTP/1.1\r\nHost: h\r\n\r\n",
      "PUT /kv/a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
      "PUT /kv/b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "GET /set?k=a&v=b HTTP/1.1\r\n\r\nGET /get?k=a HTTP/1.1\r\nConnection: close\r\n\r\n",
      "PUT /kv/c HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\nGET / HTTP/1.1\r\n\r\n",
      "HEAD /kv/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "POST /cluster/join HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
  };
  int i = 0;
  for (const char* r : requests) Write(dir, "http_request", "seed" + std::to_string(i++), r);
}

void WritePeer(const fs::path& dir) {
  const node::Hello hello{"0123456789abcdef0123456789abcdef", 2, "10.0.0.2:7778", "10.0.0.2:7777"};
  Write(dir, "hello", "seed0", node::EncodeHello(hello));
  Write(dir, "hello", "seed1", node::EncodeHello(node::Hello{"c", 7, "", ""}));
  std::string stream = net::EncodePeerFrame(node::EncodeHello(hello));
  int i = 0;
  for (const raft::Message& m : SampleMessages()) {
    const std::string frame = node::EncodeRaftFrame(m).Flatten();
    Write(dir, "raft_codec", "raft" + std::to_string(i++), frame);
    stream += net::EncodePeerFrame(frame);
  }
  std::string command;
  store::EncodeCommand(store::DeleteCommand("k"), &command);
  const node::Envelope envelope{2, 9, command};
  Write(dir, "raft_codec", "forward", node::EncodeForwardFrame(envelope));
  Write(dir, "raft_codec", "envelope", node::EncodeEnvelope(envelope));
  Write(dir, "raft_codec", "refusal",
        node::EncodeForwardRefusalFrame(
            node::ForwardRefusal{envelope, Status(StatusCode::kNotLeader, "not the leader")}));
  Write(dir, "raft_codec", "chunk",
        node::EncodeSnapshotChunkFrame(wal::SnapshotChunk{LogIndex{100}, Term{3}, 0, 4, "abcd"}));
  Write(dir, "raft_codec", "resume",
        node::EncodeSnapshotResumeFrame(node::SnapshotResume{LogIndex{100}, Term{3}, 512}));
  stream += net::EncodePeerFrame(node::EncodeForwardFrame(envelope));
  // Prefixed by the byte that picks the fuzzer's chunk size.
  Write(dir, "peer_frame", "seed0", std::string(1, '\x07') + stream);
  Write(dir, "peer_frame", "seed1", std::string(1, '\x3f') + net::EncodePeerFrame("x"));
  // Bit 6 of the first byte raises the limit: the start of a frame read directly.
  const net::PeerFrameHeaderBytes direct =
      net::EncodePeerFrameHeader(net::kPeerFrameDirectPayloadBytesMin, 0);
  Write(dir, "peer_frame", "seed2",
        std::string(1, '\x47') + std::string(direct.data(), direct.size()) + "partial");
}

void WriteWal(const fs::path& dir) {
  std::string segment;
  wal::AppendRecord(&segment, wal::RecordType::kSegmentHeader, wal::EncodeSegmentHeader(1));
  wal::AppendEntryRecord(&segment, SampleEntry(1));
  wal::AppendEntryRecord(&segment, SampleEntry(2));
  wal::AppendRecord(&segment, wal::RecordType::kHardState,
                    wal::EncodeHardState(raft::HardState{Term{3}, NodeId{1}, LogIndex{2}}));
  wal::AppendRecord(&segment, wal::RecordType::kSnapshotMark,
                    wal::EncodeSnapshotMark(wal::SnapshotMark{LogIndex{2}, Term{3}, true}));
  Write(dir, "wal_record", "segment", segment);
  Write(dir, "wal_record", "torn", segment.substr(0, segment.size() - 3));

  wal::SnapshotManifest manifest;
  manifest.meta.index = LogIndex{100};
  manifest.meta.term = Term{3};
  manifest.meta.conf_state.voters = {NodeId{1}, NodeId{2}, NodeId{3}};
  manifest.files = {{"CURRENT", 16, 0x1234}, {"db/000012.sst", 4096, 0xabcd}};
  Write(dir, "snapshot_manifest", "seed0", wal::EncodeManifest(manifest));
  manifest.files.clear();
  manifest.meta.conf_state.voters_outgoing = {NodeId{1}};
  manifest.meta.conf_state.auto_leave = true;
  Write(dir, "snapshot_manifest", "seed1", wal::EncodeManifest(manifest));
}

// A put wrapped as a write a token allowed (type 15): a token name and a 32-byte digest.
store::Command AuthorizedPut() {
  store::Command c = store::PutCommand("a", "value");
  c.authorized_by = store::Command::Authorization{"ci-writer", std::string(32, 'd')};
  return c;
}

void WriteCommands(const fs::path& dir) {
  const store::Command commands[] = {
      store::PutCommand("a", "value", "text/plain", store::Precondition::kRevisionEquals, 7),
      store::DeleteCommand("a"),
      store::ClearCommand(),
      store::PutSecretCommand("loc", std::string(48, 's')),
      store::PutSystemCommand("join_token_hash", "h"),
      store::DeleteSystemCommand("x"),
      store::AddMemberCommand(store::MemberRecord{0, "node2", "10.0.0.2:7778", "10.0.0.2:7777"}),
      store::RemoveMemberCommand(3),
      AuthorizedPut(),
  };
  int i = 0;
  for (const store::Command& c : commands) {
    std::string bytes;
    store::EncodeCommand(c, &bytes);
    Write(dir, "store_command", "seed" + std::to_string(i++), bytes);
  }
}

}  // namespace
}  // namespace nds

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  nds::WriteHttp(dir);
  nds::WritePeer(dir);
  nds::WriteWal(dir);
  nds::WriteCommands(dir);
  return 0;
}
