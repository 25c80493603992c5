#include "engine/swappable_engine.h"

#include "util/check.h"

namespace nds::engine {
namespace {

// A view of one inner engine that keeps that engine open while the view lives.
class PinnedView final : public View {
 public:
  PinnedView(std::shared_ptr<Engine> engine, std::unique_ptr<View> view)
      : engine_(std::move(engine)), view_(std::move(view)) {}
  Result<std::optional<std::string>> Get(std::string_view key) const override {
    return view_->Get(key);
  }
  std::unique_ptr<Iterator> NewIterator() const override { return view_->NewIterator(); }
  LogIndex applied_index() const override { return view_->applied_index(); }

 private:
  std::shared_ptr<Engine> engine_;  // destroyed after view_ (declared first)
  std::unique_ptr<View> view_;
};

}  // namespace

SwappableEngine::SwappableEngine(std::unique_ptr<Engine> inner)
    : name_(inner != nullptr ? std::string(inner->Name()) : std::string()),
      inner_(std::move(inner)) {
  NDS_CHECK(inner_ != nullptr);
}

void SwappableEngine::Replace(std::unique_ptr<Engine> next) {
  NDS_CHECK(next != nullptr);
  NDS_CHECK(next->Name() == name_);
  std::shared_ptr<Engine> old;
  {
    MutexLock lock(mu_);
    old = std::move(inner_);
    inner_ = std::move(next);
  }
  // `old` closes here unless a view still pins it.
}

std::shared_ptr<Engine> SwappableEngine::Current() const {
  MutexLock lock(mu_);
  return inner_;
}

Result<std::optional<std::string>> SwappableEngine::Get(std::string_view key) const {
  return Current()->Get(key);
}

Status SwappableEngine::Write(const WriteBatch& batch, LogIndex applied_index, bool sync) {
  return Current()->Write(batch, applied_index, sync);
}

Status SwappableEngine::WriteConsuming(WriteBatch* batch, LogIndex applied_index, bool sync) {
  return Current()->WriteConsuming(batch, applied_index, sync);
}

LogIndex SwappableEngine::AppliedIndex() const { return Current()->AppliedIndex(); }

std::unique_ptr<View> SwappableEngine::NewView() const {
  std::shared_ptr<Engine> e = Current();
  std::unique_ptr<View> v = e->NewView();
  return std::make_unique<PinnedView>(std::move(e), std::move(v));
}

Status SwappableEngine::Checkpoint(const std::string& dir) const {
  return Current()->Checkpoint(dir);
}

EngineStats SwappableEngine::Stats() const { return Current()->Stats(); }

std::string_view SwappableEngine::Name() const { return name_; }

}  // namespace nds::engine
