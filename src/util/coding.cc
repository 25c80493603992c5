// Little-endian fixed integers and LEB128 varints.
#include "util/coding.h"

#include <cstring>

namespace nds {

void EncodeFixed32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void EncodeFixed64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  EncodeFixed32(buf, v);
  dst->append(buf, sizeof buf);
}

void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  EncodeFixed64(buf, v);
  dst->append(buf, sizeof buf);
}

void PutVarint64(std::string* dst, uint64_t v) {
  char buf[kVarint64BytesMax];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  dst->append(buf, n);
}

void PutLengthPrefixed(std::string* dst, std::string_view bytes) {
  PutVarint64(dst, bytes.size());
  dst->append(bytes);
}

Result<uint32_t> Decoder::Fixed32() {
  if (in_.size() < 4) return Corruption("truncated fixed32");
  uint32_t v = DecodeFixed32(in_.data());
  in_.remove_prefix(4);
  return v;
}

Result<uint64_t> Decoder::Fixed64() {
  if (in_.size() < 8) return Corruption("truncated fixed64");
  uint64_t v = DecodeFixed64(in_.data());
  in_.remove_prefix(8);
  return v;
}

Result<uint64_t> Decoder::Varint64() {
  uint64_t v = 0;
  for (size_t i = 0; i < kVarint64BytesMax; ++i) {
    if (i >= in_.size()) return Corruption("truncated varint");
    auto byte = static_cast<uint8_t>(in_[i]);
    // The tenth byte may carry only the top bit of a 64-bit value.
    if (i == kVarint64BytesMax - 1 && byte > 1) return Corruption("varint overflows 64 bits");
    v |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      in_.remove_prefix(i + 1);
      return v;
    }
  }
  return Corruption("varint longer than 10 bytes");
}

Result<std::string_view> Decoder::LengthPrefixed() {
  NDS_ASSIGN_OR_RETURN(uint64_t n, Varint64());
  return Bytes(n);
}

Result<std::string_view> Decoder::Bytes(size_t n) {
  if (n > in_.size()) {
    return Corruption("length " + std::to_string(n) + " beyond the " + std::to_string(in_.size()) +
                      " bytes left");
  }
  std::string_view out = in_.substr(0, n);
  in_.remove_prefix(n);
  return out;
}

}  // namespace nds
