// Goal: snapshots are built atomically, the newest valid one is found at start, old ones are
// pruned, and the chunked transfer delivers an identical snapshot while the receiver rejects
// every malformed, out-of-order, oversized or damaged stream before anything is replaced.
// Method: SnapshotStore, SnapshotReader and SnapshotReceiver on FaultFileSystem; damage by
// FlipBit and by editing chunks; crash safety of Create by freezing the disk at every step.
#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "util/fault_file_system.h"
#include "wal/snapshot_manifest.h"
#include "wal/snapshot_store.h"
#include "wal/snapshot_transfer.h"

namespace nds::wal {
namespace {

raft::SnapshotMetadata Meta(uint64_t index, uint64_t term) {
  return {LogIndex(index), Term(term), {{NodeId(1), NodeId(2)}, {NodeId(3)}, {}, {}, false}};
}

// A checkpoint writer producing a small tree: a (2500 bytes), sub/b, and an empty file.
SnapshotStore::CheckpointWriter Writer(FileSystem* fs, char fill = 'a') {
  return [fs, fill](const std::string& dir) -> Status {
    NDS_RETURN_IF_ERROR(fs->CreateDir(dir));
    NDS_RETURN_IF_ERROR(fs->CreateDir(dir + "/sub"));
    NDS_RETURN_IF_ERROR(WriteFileAtomically(fs, dir, "a", std::string(2500, fill)));
    NDS_RETURN_IF_ERROR(WriteFileAtomically(fs, dir + "/sub", "b", "0123456789"));
    return WriteFileAtomically(fs, dir, "empty", "");
  };
}

std::unique_ptr<SnapshotStore> OpenStore(FileSystem* fs, const std::string& dir, int retained = 2) {
  auto s = SnapshotStore::Open(fs, dir, {retained});
  NDS_CHECK(s.ok(), "{}", s.status().ToString());
  return std::move(s).value();
}

std::vector<SnapshotChunk> ReadChunks(FileSystem* fs, const StoredSnapshot& snap,
                                      uint64_t chunk_bytes) {
  auto reader = SnapshotReader::Open(fs, snap, chunk_bytes);
  NDS_CHECK(reader.ok());
  std::vector<SnapshotChunk> out;
  while (!(*reader)->done()) {
    auto c = (*reader)->Next();
    NDS_CHECK(c.ok(), "{}", c.status().ToString());
    out.push_back(std::move(*c));
  }
  return out;
}

TEST(SnapshotManifest, RoundTripsAndRejectsDamage) {
  SnapshotManifest m{Meta(7, 3), {{"a", 5, 123}, {"sub/b", 0, 0}}};
  m.meta.conf_state.voters_outgoing = {NodeId(9)};
  m.meta.conf_state.auto_leave = true;
  std::string bytes = EncodeManifest(m);
  EXPECT_EQ(*DecodeManifest(bytes), m);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x10;
    EXPECT_FALSE(DecodeManifest(bad).ok()) << "byte " << i;
  }
  EXPECT_FALSE(DecodeManifest(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(DecodeManifest("").ok());
}

TEST(SnapshotManifest, PathsMustStayInsideTheCheckpoint) {
  EXPECT_TRUE(ValidateSnapshotPath("a/b.sst").ok());
  for (const char* bad : {"", "/abs", "../x", "a/../b", "a//b", "./a", "a/"}) {
    EXPECT_EQ(ValidateSnapshotPath(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  SnapshotManifest m{Meta(1, 1), {{"../etc/passwd", 1, 0}}};
  EXPECT_EQ(DecodeManifest(EncodeManifest(m)).status().code(), StatusCode::kInvalidArgument);
  SnapshotManifest dup{Meta(1, 1), {{"a", 1, 0}, {"a", 1, 0}}};
  EXPECT_EQ(DecodeManifest(EncodeManifest(dup)).status().code(), StatusCode::kInvalidArgument);
}

TEST(SnapshotStore, CreateThenNewestFindsItWithItsFiles) {
  FaultFileSystem fs;
  auto store = OpenStore(&fs, "/snap");
  EXPECT_EQ(store->Newest().status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store->Create(Meta(10, 2), Writer(&fs)).ok());
  auto snap = store->Newest();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->manifest.meta, Meta(10, 2));
  ASSERT_EQ(snap->manifest.files.size(), 3u);
  EXPECT_EQ(snap->manifest.files[0].path, "a");
  EXPECT_EQ(snap->manifest.files[2].path, "sub/b");
  EXPECT_TRUE(store->Verify(*snap).ok());
  EXPECT_EQ(*ReadWholeFile(&fs, snap->checkpoint_dir + "/sub/b", 100), "0123456789");
  EXPECT_EQ(store->Create(Meta(10, 2), Writer(&fs)).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(NewestSnapshotMetadata(&fs, "/snap")->index, LogIndex(10));
  EXPECT_EQ(NewestSnapshotMetadata(&fs, "/nothing")->index, LogIndex(0));
}

TEST(SnapshotStore, KeepsOnlyTheNewestRetainedSnapshots) {
  FaultFileSystem fs;
  auto store = OpenStore(&fs, "/snap", 2);
  for (uint64_t i = 1; i <= 4; ++i) {
    ASSERT_TRUE(store->Create(Meta(i * 10, 1), Writer(&fs)).ok());
  }
  auto names = fs.ListDir("/snap");
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->size(), 2u);
  EXPECT_EQ((*names)[0].name, SnapshotStore::SnapshotName(LogIndex(30), Term(1)));
  EXPECT_EQ((*names)[1].name, SnapshotStore::SnapshotName(LogIndex(40), Term(1)));
}

TEST(SnapshotStore, ADamagedNewestSnapshotIsSkippedForTheOlderValidOne) {
  FaultFileSystem fs;
  auto store = OpenStore(&fs, "/snap");
  ASSERT_TRUE(store->Create(Meta(10, 1), Writer(&fs)).ok());
  ASSERT_TRUE(store->Create(Meta(20, 1), Writer(&fs)).ok());
  const std::string newest = "/snap/" + SnapshotStore::SnapshotName(LogIndex(20), Term(1));
  ASSERT_TRUE(fs.FlipBit(newest + "/SNAPSHOT", 12, 0).ok());
  EXPECT_EQ(store->Newest()->manifest.meta.index, LogIndex(10));
  ASSERT_TRUE(fs.FlipBit(newest + "/SNAPSHOT", 12, 0).ok());
  EXPECT_EQ(store->Newest()->manifest.meta.index, LogIndex(20));
  ASSERT_TRUE(fs.CutFile(newest + "/data/a", 100).ok());  // a file of the wrong size
  EXPECT_EQ(store->Newest()->manifest.meta.index, LogIndex(10));
}

TEST(SnapshotStore, VerifyFindsADamagedFile) {
  FaultFileSystem fs;
  auto store = OpenStore(&fs, "/snap");
  ASSERT_TRUE(store->Create(Meta(10, 1), Writer(&fs)).ok());
  auto snap = *store->Newest();
  ASSERT_TRUE(fs.FlipBit(snap.checkpoint_dir + "/a", 1000, 4).ok());
  Status s = store->Verify(snap);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("/a"), std::string::npos);
  // The reader refuses to send it, too.
  auto reader = SnapshotReader::Open(&fs, snap, 1 << 20);
  EXPECT_EQ((*reader)->Next().status().code(), StatusCode::kCorruption);
}

TEST(SnapshotStore, AFailingCheckpointWriterLeavesNothing) {
  FaultFileSystem fs;
  auto store = OpenStore(&fs, "/snap");
  Status s = store->Create(Meta(10, 1), [](const std::string&) { return IoError("engine"); });
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_TRUE(fs.ListDir("/snap")->empty());
}

TEST(SnapshotStore, CrashAtEveryStepOfCreateLeavesNoneOrAWholeSnapshot) {
  for (uint64_t k = 0; k < 500; ++k) {
    SCOPED_TRACE(k);
    FaultFileSystem fs(k + 1);
    fs.SetTearOnCrash(true);
    ASSERT_TRUE(fs.CreateDir("/d").ok());
    ASSERT_TRUE(fs.SyncDir("/").ok());
    fs.SetCrashAfterOps(k);
    bool created = false;
    {
      auto store = SnapshotStore::Open(&fs, "/d/snap");
      if (store.ok()) created = (*store)->Create(Meta(10, 1), Writer(&fs)).ok();
    }
    if (created && !fs.frozen()) {
      EXPECT_GT(k, 10u);
      return;
    }
    fs.Crash();
    auto store = SnapshotStore::Open(&fs, "/d/snap");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto snap = (*store)->Newest();
    if (created) {
      EXPECT_TRUE(snap.ok());
    }
    if (snap.ok()) {
      EXPECT_TRUE((*store)->Verify(*snap).ok());
    }
    EXPECT_LE(fs.ListDir("/d/snap")->size(), 1u);  // no tmp dir left
  }
  FAIL() << "Create never completed";
}

TEST(SnapshotTransfer, ChunksRebuildAnIdenticalSnapshot) {
  for (uint64_t chunk_bytes : {1u, 7u, 1000u, 1u << 20}) {
    SCOPED_TRACE(chunk_bytes);
    FaultFileSystem src, dst;
    auto src_store = OpenStore(&src, "/snap");
    ASSERT_TRUE(src_store->Create(Meta(50, 4), Writer(&src, 'q')).ok());
    auto snap = *src_store->Newest();
    auto chunks = ReadChunks(&src, snap, chunk_bytes);
    for (const auto& c : chunks) EXPECT_LE(c.data.size(), chunk_bytes);
    EXPECT_TRUE(chunks.back().last());

    auto dst_store = OpenStore(&dst, "/snap");
    auto rx = SnapshotReceiver::Start(dst_store.get(), {chunk_bytes, 1 << 30});
    ASSERT_TRUE(rx.ok());
    for (const auto& c : chunks) ASSERT_TRUE((*rx)->Accept(c).ok());
    ASSERT_TRUE((*rx)->complete());
    auto got = (*rx)->Finish();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->manifest, snap.manifest);
    auto found = dst_store->Newest();
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->manifest, snap.manifest);
    EXPECT_TRUE(dst_store->Verify(*found).ok());
    EXPECT_EQ(*ReadWholeFile(&dst, found->checkpoint_dir + "/a", 1 << 20), std::string(2500, 'q'));
  }
}

// A lost chunk: the receiver keeps what it has (the chunk after the gap is of its stream, at
// another offset), the sender goes back to the receiver's offset (a new reader, SkipTo) and sends
// on; the stream completes with every chunk before the gap sent once.
TEST(SnapshotTransfer, AStreamThatLostAChunkResumesAtTheReceiversOffset) {
  FaultFileSystem src, dst;
  auto src_store = OpenStore(&src, "/snap");
  ASSERT_TRUE(src_store->Create(Meta(50, 4), Writer(&src, 'r')).ok());
  const StoredSnapshot snap = *src_store->Newest();
  constexpr uint64_t kChunk = 300;
  auto dst_store = OpenStore(&dst, "/snap");
  auto rx = SnapshotReceiver::Start(dst_store.get(), {kChunk, 1 << 30});
  ASSERT_TRUE(rx.ok());
  auto reader = SnapshotReader::Open(&src, snap, kChunk);
  ASSERT_TRUE(reader.ok());
  std::vector<uint64_t> sent_offsets;
  int lost = 0;
  for (int guard = 0; guard < 100 && !(*rx)->complete(); ++guard) {
    if ((*reader)->done()) break;
    auto c = (*reader)->Next();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    sent_offsets.push_back(c->offset);
    if (c->offset == 3 * kChunk && lost++ == 0) continue;  // the fourth chunk is lost once
    if ((*rx)->offset() > 0) {
      ASSERT_TRUE((*rx)->SameStream(*c));
    }
    if (c->offset != (*rx)->offset()) {
      // The receiver asks to resume at its offset; the sender goes back there.
      auto again = SnapshotReader::Open(&src, (*reader)->snapshot(), kChunk);
      ASSERT_TRUE(again.ok());
      ASSERT_TRUE((*again)->SkipTo((*rx)->offset()).ok());
      *reader = std::move(*again);
      continue;
    }
    ASSERT_TRUE((*rx)->Accept(*c).ok());
  }
  ASSERT_TRUE((*rx)->complete());
  auto got = (*rx)->Finish();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->manifest, snap.manifest);
  EXPECT_TRUE(dst_store->Verify(*dst_store->Newest()).ok());
  // Chunks 0..2 went once; the stream never started again from 0.
  EXPECT_EQ(std::count(sent_offsets.begin(), sent_offsets.end(), 0u), 1);
  EXPECT_EQ(std::count(sent_offsets.begin(), sent_offsets.end(), 2 * kChunk), 1);
  EXPECT_EQ(std::count(sent_offsets.begin(), sent_offsets.end(), 3 * kChunk), 2);
}

TEST(SnapshotTransfer, SkipToRefusesToGoBackOrPastTheEnd) {
  FaultFileSystem src;
  auto src_store = OpenStore(&src, "/snap");
  ASSERT_TRUE(src_store->Create(Meta(50, 4), Writer(&src)).ok());
  const StoredSnapshot snap = *src_store->Newest();
  auto reader = SnapshotReader::Open(&src, snap, 100);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->SkipTo(250).ok());
  EXPECT_EQ((*reader)->offset(), 250u);
  auto c = (*reader)->Next();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->offset, 250u);
  EXPECT_EQ((*reader)->SkipTo(100).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*reader)->SkipTo((*reader)->total_bytes() + 1).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE((*reader)->SkipTo((*reader)->total_bytes()).ok());
  EXPECT_TRUE((*reader)->done());
  // Skipping still checks every file it passes: a damaged file is found.
  ASSERT_TRUE(src.FlipBit(snap.checkpoint_dir + "/a", 100, 3).ok());
  auto damaged = SnapshotReader::Open(&src, snap, 100);
  ASSERT_TRUE(damaged.ok());
  EXPECT_EQ((*damaged)->SkipTo((*damaged)->total_bytes()).code(), StatusCode::kCorruption);
}

class ReceiverRejects : public ::testing::Test {
 protected:
  void SetUp() override {
    auto src_store = OpenStore(&src_, "/snap");
    ASSERT_TRUE(src_store->Create(Meta(50, 4), Writer(&src_)).ok());
    chunks_ = ReadChunks(&src_, *src_store->Newest(), 500);
    dst_store_ = OpenStore(&dst_, "/snap");
  }
  // Feeds `chunks` and returns the first error (or Finish()'s).
  Status Feed(const std::vector<SnapshotChunk>& chunks, uint64_t chunk_bytes_max = 500) {
    auto rx = SnapshotReceiver::Start(dst_store_.get(), {chunk_bytes_max, 1 << 20});
    NDS_CHECK(rx.ok());
    for (const auto& c : chunks) {
      Status s = (*rx)->Accept(c);
      if (!s.ok()) {
        EXPECT_FALSE((*rx)->Finish().ok());  // a dead receiver stays dead
        return s;
      }
    }
    return (*rx)->Finish().status();
  }
  void ExpectNothingReplaced() {
    EXPECT_EQ(dst_store_->Newest().status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(dst_.ListDir("/snap")->empty());  // the tmp dir is gone too
  }

  FaultFileSystem src_, dst_;
  std::vector<SnapshotChunk> chunks_;
  std::unique_ptr<SnapshotStore> dst_store_;
};

TEST_F(ReceiverRejects, OutOfOrderChunks) {
  auto c = chunks_;
  std::swap(c[1], c[2]);
  EXPECT_EQ(Feed(c).code(), StatusCode::kInvalidArgument);
  ExpectNothingReplaced();
  c = chunks_;
  c.erase(c.begin() + 1);  // a missing chunk
  EXPECT_EQ(Feed(c).code(), StatusCode::kInvalidArgument);
  c = chunks_;
  c.insert(c.begin() + 1, c[1]);  // a duplicate
  EXPECT_EQ(Feed(c).code(), StatusCode::kInvalidArgument);
  ExpectNothingReplaced();
}

TEST_F(ReceiverRejects, OversizedChunks) {
  EXPECT_EQ(Feed(chunks_, 499).code(), StatusCode::kInvalidArgument);
  auto c = chunks_;
  c.back().data += "extra";  // runs past the declared length
  EXPECT_EQ(Feed(c).code(), StatusCode::kInvalidArgument);
  {
    auto rx = SnapshotReceiver::Start(dst_store_.get(), {500, 100});
    EXPECT_EQ((*rx)->Accept(chunks_[0]).code(), StatusCode::kResourceExhausted);
  }
  ExpectNothingReplaced();
}

TEST_F(ReceiverRejects, ChunksOfAnotherSnapshotOrLength) {
  auto c = chunks_;
  c[2].term = Term(5);
  EXPECT_EQ(Feed(c).code(), StatusCode::kInvalidArgument);
  c = chunks_;
  for (auto& x : c) x.index = LogIndex(51);  // the manifest says 50
  EXPECT_EQ(Feed(c).code(), StatusCode::kInvalidArgument);
  c = chunks_;
  for (auto& x : c) x.total_bytes += 1;  // the manifest does not add up
  EXPECT_EQ(Feed(c).code(), StatusCode::kInvalidArgument);
  ExpectNothingReplaced();
}

TEST_F(ReceiverRejects, DamagedBytesAnywhere) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 40; ++trial) {
    auto c = chunks_;
    size_t i = rng() % c.size();
    size_t j = rng() % c[i].data.size();
    c[i].data[j] ^= static_cast<char>(1 << (rng() % 8));
    Status s = Feed(c);
    EXPECT_FALSE(s.ok()) << "chunk " << i << " byte " << j;
    EXPECT_TRUE(s.code() == StatusCode::kCorruption || s.code() == StatusCode::kInvalidArgument)
        << s.ToString();
  }
  ExpectNothingReplaced();
}

TEST_F(ReceiverRejects, GarbageAndTruncatedStreams) {
  SnapshotChunk garbage{LogIndex(1), Term(1), 0, 300, std::string(300, 'z')};
  EXPECT_FALSE(Feed({garbage}).ok());
  auto c = chunks_;
  c.pop_back();
  EXPECT_EQ(Feed(c).code(), StatusCode::kFailedPrecondition);  // Finish on an incomplete stream
  SnapshotChunk empty{LogIndex(50), Term(4), 0, chunks_[0].total_bytes, ""};
  EXPECT_EQ(Feed({empty}).code(), StatusCode::kInvalidArgument);
  ExpectNothingReplaced();
}

}  // namespace
}  // namespace nds::wal
