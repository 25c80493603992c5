// `nds snapshot restore FILE --data DIR`: a new data directory for a new one-member cluster (a
// new cluster id, cluster secret and join token) holding exactly the records of a snapshot image
// (store/image_format.h). Revisions go on from the image's: the engine and the Raft snapshot sit
// at the image's revision, so the first new write gets the next one. Built in DIR.tmp-XXXXXX
// beside DIR and renamed into place, so DIR is either absent (or empty) or complete.
// Main thread only.
#pragma once

#include <string>

#include "store/image_format.h"
#include "util/status.h"

namespace nds::cli {

struct RestoreOptions {
  std::string data_dir;
  std::string engine = "rocksdb";
  std::string name = "node1";
  std::string api_address;   // advertised, HOST:PORT
  std::string peer_address;  // advertised, HOST:PORT
  // Records per engine write while loading (bounds the memory a restore takes).
  size_t batch_bytes = 4 << 20;
};

struct RestoreReport {
  std::string cluster_id;
  std::string join_token;
  uint64_t revision = 0;
  store::ImageTotals totals;
};

// Precondition: reader.ReadHeader() succeeded. kFailedPrecondition when DIR exists and is not
// empty; kCorruption (with the byte offset) for a damaged image, in which case nothing is left
// behind; errors from the disk and the engine likewise.
Result<RestoreReport> RestoreImage(store::ImageReader& reader, const RestoreOptions& options);

}  // namespace nds::cli
