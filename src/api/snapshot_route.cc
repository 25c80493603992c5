// GET /snapshot (admin): streams a snapshot image (store/image_format.h, docs/formats/image.md)
// of this node's applied state, taken from one engine view after a linearizable read point, so
// the image holds at least every write acknowledged before the request. Any node serves it; a
// follower reads from its own engine. Memory stays bounded: one chunk at a time.
#include <chrono>

#include "api/http_errors.h"
#include "api/service.h"
#include "store/image_format.h"

namespace nds::api {

void ApiService::HandleSnapshot(const CallPtr& call) {
  if (call->request.method != "GET") {
    net::HttpResponse r = ErrorResponse(405, "method_not_allowed", "/snapshot is GET");
    r.SetHeader("Allow", "GET");
    return Finish(call, std::move(r));
  }
  AfterReadPoint(call, [this, call] {
    auto view = node_->engine().NewView();
    const uint64_t keys_estimate = node_->engine().Stats().keys_estimate;
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    auto writer = std::make_shared<store::ImageWriter>(
        std::move(view), node_->GetStatus().cluster_id,
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()));
    net::HttpResponse r;
    r.SetHeader("Content-Type", "application/vnd.nds.snapshot");
    r.SetHeader("Cache-Control", "no-store");
    r.SetHeader("X-Revision", std::to_string(writer->revision()));
    // For progress bars only: RocksDB's count is an estimate.
    r.SetHeader("X-Keys-Estimate", std::to_string(keys_estimate));
    const size_t chunk_bytes = options_.limits.stream_chunk_bytes;
    r.stream = [writer, chunk_bytes](std::string* out) { return writer->Pull(out, chunk_bytes); };
    Finish(call, std::move(r));
  });
}

}  // namespace nds::api
