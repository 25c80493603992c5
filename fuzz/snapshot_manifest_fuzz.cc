// Fuzz target: wal/snapshot_manifest's decoder, which reads a manifest from disk or from the
// leader's snapshot stream. Properties: no crash; an accepted manifest has only safe paths and
// survives re-encoding.
#include "fuzz/fuzz_check.h"
#include "wal/snapshot_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto manifest = nds::wal::DecodeManifest(nds::fuzz::AsView(data, size));
  if (!manifest.ok()) return 0;
  for (const auto& file : manifest->files) {
    FUZZ_CHECK(nds::wal::ValidateSnapshotPath(file.path).ok());
  }
  auto again = nds::wal::DecodeManifest(nds::wal::EncodeManifest(*manifest));
  FUZZ_CHECK(again.ok() && *again == *manifest);
  return 0;
}
