// A FileSystem that forwards everything to another but makes Sync a no-op, for the simulator's
// --break-fsync: what a crash keeps is then only what was durable before, so a run shows what
// the node loses when its fsyncs do nothing.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/file_system.h"

namespace nds::sim {

// Files and directories of `inner`, whose Sync and SyncDir do nothing (--break-fsync).
class NoSyncFileSystem final : public FileSystem {
 public:
  explicit NoSyncFileSystem(FileSystem* inner) : inner_(inner) {}
  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override {
    NDS_ASSIGN_OR_RETURN(auto f, inner_->Open(path, mode));
    return std::unique_ptr<File>(std::make_unique<NoSyncFile>(std::move(f)));
  }
  nds::Status Rename(const std::string& from, const std::string& to) override {
    return inner_->Rename(from, to);
  }
  nds::Status Remove(const std::string& path) override { return inner_->Remove(path); }
  nds::Status CreateDir(const std::string& path) override { return inner_->CreateDir(path); }
  Result<std::vector<DirEntry>> ListDir(const std::string& path) override {
    return inner_->ListDir(path);
  }
  nds::Status SyncDir(const std::string&) override { return nds::Status::Ok(); }
  Result<bool> Exists(const std::string& path) override { return inner_->Exists(path); }
  Result<uint64_t> FreeBytes(const std::string& path) override { return inner_->FreeBytes(path); }

 private:
  class NoSyncFile final : public File {
   public:
    explicit NoSyncFile(std::unique_ptr<File> f) : f_(std::move(f)) {}
    nds::Status WriteAt(uint64_t offset, std::string_view data) override {
      return f_->WriteAt(offset, data);
    }
    nds::Status WriteAtGather(uint64_t offset, std::span<const std::string_view> pieces) override {
      return f_->WriteAtGather(offset, pieces);
    }
    Result<size_t> ReadAt(uint64_t offset, size_t n, char* dst) const override {
      return f_->ReadAt(offset, n, dst);
    }
    nds::Status Sync() override { return nds::Status::Ok(); }
    nds::Status Preallocate(uint64_t size_bytes) override { return f_->Preallocate(size_bytes); }
    nds::Status Truncate(uint64_t size_bytes) override { return f_->Truncate(size_bytes); }
    Result<uint64_t> Size() const override { return f_->Size(); }
    const std::string& path() const override { return f_->path(); }

   private:
    std::unique_ptr<File> f_;
  };
  FileSystem* inner_;
};

}  // namespace nds::sim
