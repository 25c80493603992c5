// Fuzz target: net/peer_frame's stream decoder, fed the bytes in chunks whose sizes the input's
// first byte chooses (frames split at every boundary), as the peer transport reads them. That
// byte also chooses the limit: the hello's, or one above kPeerFrameDirectPayloadBytesMin so that
// headers can start a frame read directly into its payload string.
// Properties: no crash; each payload returned is at most the limit; the space offered never
// exceeds the bytes still to come of a direct frame (checked by the decoder's Commit); after an
// error the caller stops, as the transport closes the connection.
#include <algorithm>
#include <cstring>

#include "fuzz/fuzz_check.h"
#include "net/peer_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 64;
  const size_t payload_bytes_max = (data[0] & 0x40) != 0
                                       ? nds::net::kPeerFrameDirectPayloadBytesMin + (1 << 16)
                                       : nds::net::kPeerHelloBytesMax;
  std::string_view in = nds::fuzz::AsView(data + 1, size - 1);
  if (auto header = nds::net::DecodePeerFrameHeader(in, payload_bytes_max); header.ok()) {
    FUZZ_CHECK(header->payload_bytes <= payload_bytes_max);
  }
  nds::net::PeerFrameDecoder decoder(payload_bytes_max);
  while (!in.empty()) {
    std::span<char> space = decoder.WritableSpace();
    FUZZ_CHECK(!space.empty());
    const size_t n = std::min({step, space.size(), in.size()});
    std::memcpy(space.data(), in.data(), n);
    decoder.Commit(n);
    in.remove_prefix(n);
    while (true) {
      auto next = decoder.Next();
      if (!next.ok()) return 0;
      if (!next->has_value()) break;
      FUZZ_CHECK((*next)->size() <= payload_bytes_max);
    }
  }
  return 0;
}
