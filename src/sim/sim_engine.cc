// The simulated node's engine: a memory engine checkpointing into the simulated disk.
#include "sim/sim_engine.h"

#include <utility>

#include "engine/memory_engine.h"
#include "util/coding.h"

namespace nds::sim {
namespace {

constexpr char kCheckpointFile[] = "CHECKPOINT";
constexpr uint64_t kCheckpointBytesMax = 256 << 20;

class SimEngine final : public engine::Engine {
 public:
  SimEngine(std::unique_ptr<engine::Engine> inner, FileSystem* fs)
      : inner_(std::move(inner)), fs_(fs) {}

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    return inner_->Get(key);
  }
  Status Write(const engine::WriteBatch& batch, LogIndex applied_index, bool sync) override {
    return inner_->Write(batch, applied_index, sync);
  }
  LogIndex AppliedIndex() const override { return inner_->AppliedIndex(); }
  std::unique_ptr<engine::View> NewView() const override { return inner_->NewView(); }
  engine::EngineStats Stats() const override { return inner_->Stats(); }
  std::string_view Name() const override { return inner_->Name(); }

  Status Checkpoint(const std::string& dir) const override {
    auto view = inner_->NewView();
    std::string body;
    uint64_t count = 0;
    auto it = view->NewIterator();
    for (it->Seek(""); it->Valid(); it->Next()) {
      PutLengthPrefixed(&body, it->key());
      PutLengthPrefixed(&body, it->value());
      ++count;
    }
    NDS_RETURN_IF_ERROR(it->status());
    std::string bytes;
    PutVarint64(&bytes, view->applied_index().value);
    PutVarint64(&bytes, count);
    bytes += body;
    NDS_RETURN_IF_ERROR(fs_->CreateDir(dir));
    NDS_ASSIGN_OR_RETURN(auto f,
                         fs_->Open(JoinPath(dir, kCheckpointFile), OpenMode::kCreateExclusive));
    NDS_RETURN_IF_ERROR(f->WriteAt(0, bytes));
    NDS_RETURN_IF_ERROR(f->Sync());
    NDS_RETURN_IF_ERROR(fs_->SyncDir(dir));
    return fs_->SyncDir(DirName(dir));
  }

 private:
  std::unique_ptr<engine::Engine> inner_;
  FileSystem* fs_;
};

}  // namespace

std::unique_ptr<engine::Engine> NewSimEngine(FileSystem* fs) {
  return std::make_unique<SimEngine>(engine::NewMemoryEngine(), fs);
}

Result<std::unique_ptr<engine::Engine>> OpenSimEngine(FileSystem* fs, const std::string& dir) {
  const std::string path = JoinPath(dir, kCheckpointFile);
  NDS_ASSIGN_OR_RETURN(bool exists, fs->Exists(path));
  auto fresh = engine::NewMemoryEngine();
  if (exists) {
    NDS_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(fs, path, kCheckpointBytesMax));
    Decoder d(bytes);
    NDS_ASSIGN_OR_RETURN(uint64_t applied, d.Varint64());
    NDS_ASSIGN_OR_RETURN(uint64_t count, d.Varint64());
    engine::WriteBatch batch;
    for (uint64_t i = 0; i < count; ++i) {
      NDS_ASSIGN_OR_RETURN(std::string_view key, d.LengthPrefixed());
      NDS_ASSIGN_OR_RETURN(std::string_view value, d.LengthPrefixed());
      batch.Put(key, value);
    }
    NDS_RETURN_IF_ERROR(fresh->Write(batch, LogIndex(applied), /*sync=*/true));
  }
  return std::unique_ptr<engine::Engine>(std::make_unique<SimEngine>(std::move(fresh), fs));
}

}  // namespace nds::sim
