// Byte coding for every wire and disk format: little-endian fixed-width integers and LEB128
// varints. Encoders append to a std::string; the Decoder reads from a string_view and reports
// truncated or malformed input as a Status (input may come from a peer or a damaged file).
// Not thread-safe per object.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace nds {

inline constexpr size_t kVarint64BytesMax = 10;

void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutVarint64(std::string* dst, uint64_t v);
// A varint length followed by the bytes.
void PutLengthPrefixed(std::string* dst, std::string_view bytes);

uint32_t DecodeFixed32(const char* p);
uint64_t DecodeFixed64(const char* p);
void EncodeFixed32(char* p, uint32_t v);
void EncodeFixed64(char* p, uint64_t v);

// Reads values in order from a byte range it does not own; the range must outlive the Decoder and
// the string_views it returns.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  Result<uint32_t> Fixed32();
  Result<uint64_t> Fixed64();
  // Rejects varints longer than 10 bytes or overflowing 64 bits.
  Result<uint64_t> Varint64();
  // A varint length then that many bytes; rejects a length beyond the remaining input.
  Result<std::string_view> LengthPrefixed();
  Result<std::string_view> Bytes(size_t n);

  size_t remaining() const { return in_.size(); }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace nds
