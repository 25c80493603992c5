// Fuzz target: node/raft_codec's DecodeHello, the first bytes any peer connection sends.
// Properties: no crash; an accepted hello keeps its address bounds and survives re-encoding.
#include "fuzz/fuzz_check.h"
#include "node/raft_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto hello = nds::node::DecodeHello(nds::fuzz::AsView(data, size));
  if (!hello.ok()) return 0;
  FUZZ_CHECK(hello->peer_address.size() <= nds::node::kHelloAddressBytesMax);
  FUZZ_CHECK(hello->api_address.size() <= nds::node::kHelloAddressBytesMax);
  auto again = nds::node::DecodeHello(nds::node::EncodeHello(*hello));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *hello);
  return 0;
}
