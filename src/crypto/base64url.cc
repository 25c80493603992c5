// base64url by table lookup: 3 bytes <-> 4 characters, with the short last group handled apart.
#include "crypto/base64url.h"

#include <array>

#include "crypto/secure.h"

namespace nds::crypto {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static_assert(kAlphabet.size() == 64);

constexpr uint8_t kInvalid = 0xff;

// Maps each character to its 6-bit value, or kInvalid.
constexpr std::array<uint8_t, 256> MakeDecodeTable() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<uint8_t>(i);
  }
  return table;
}
constexpr std::array<uint8_t, 256> kDecodeTable = MakeDecodeTable();

// Returns `text` without its trailing padding once Base64UrlDecodedBytes accepted it.
std::string_view StripPadding(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  return text;
}

}  // namespace

std::string Base64UrlEncode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = uint32_t{bytes[i]} << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    const uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) { return Base64UrlEncode(AsBytes(bytes)); }

Result<size_t> Base64UrlDecodedBytes(std::string_view text) {
  size_t padding_chars = 0;
  while (padding_chars < text.size() && text[text.size() - 1 - padding_chars] == '=') {
    ++padding_chars;
  }
  const size_t data_chars = text.size() - padding_chars;
  const size_t last_group_chars = data_chars % 4;
  if (last_group_chars == 1) {
    return InvalidArgument(
        fmt::format("base64url text of {} characters has an impossible length", data_chars));
  }
  if (padding_chars > 0) {
    const size_t needed = last_group_chars == 0 ? 0 : 4 - last_group_chars;
    if (padding_chars != needed) {
      return InvalidArgument(
          fmt::format("base64url text of {} characters has {} padding characters, want 0 or {}",
                      data_chars, padding_chars, needed));
    }
  }
  return data_chars / 4 * 3 + (last_group_chars == 0 ? 0 : last_group_chars - 1);
}

Status Base64UrlDecodeInto(std::string_view text, std::span<uint8_t> out) {
  NDS_ASSIGN_OR_RETURN(const size_t decoded_bytes, Base64UrlDecodedBytes(text));
  if (out.size() != decoded_bytes) {
    return InvalidArgument(fmt::format("base64url text decodes to {} bytes, buffer holds {}",
                                       decoded_bytes, out.size()));
  }
  const std::string_view data = StripPadding(text);
  uint32_t bits = 0;     // the last bits_held bits are pending output
  size_t bits_held = 0;  // always < 8 after a byte is written
  size_t written = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    const uint8_t v = kDecodeTable[static_cast<uint8_t>(data[i])];
    if (v == kInvalid) {
      return InvalidArgument(
          fmt::format("base64url text has an invalid character at offset {}", i));
    }
    bits = (bits << 6) | v;
    bits_held += 6;
    if (bits_held >= 8) {
      bits_held -= 8;
      out[written++] = static_cast<uint8_t>(bits >> bits_held);
      bits &= (uint32_t{1} << bits_held) - 1;
    }
  }
  // The 2 or 4 bits left over by a short last group must be zero in the canonical encoding.
  if (bits != 0) {
    return InvalidArgument("base64url text has non-zero bits after its last byte");
  }
  NDS_CHECK(written == out.size());
  return Status::Ok();
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  NDS_ASSIGN_OR_RETURN(const size_t decoded_bytes, Base64UrlDecodedBytes(text));
  std::string out(decoded_bytes, '\0');
  NDS_RETURN_IF_ERROR(
      Base64UrlDecodeInto(text, {reinterpret_cast<uint8_t*>(out.data()), out.size()}));
  return out;
}

}  // namespace nds::crypto
