// The one parser of "HOST:PORT" addresses (flags, peer addresses, member addresses, client
// servers). Callers add their own rules (a non-zero port, a non-empty host) and error text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nds {

struct HostPort {
  std::string host;  // without the brackets of "[IPV6]"; may be empty (":7777")
  uint16_t port = 0;
};

// Splits `text` at its last colon; a host in brackets loses them. nullopt when there is no colon
// or the port is not a decimal number from 0 to 65535 (no sign, no spaces).
std::optional<HostPort> SplitHostPort(std::string_view text);

// The address others dial for the listen address `listen`: a wildcard or empty host ("0.0.0.0",
// "::", "[::]", "") becomes this machine's host name ("localhost" when it has none); anything else
// is returned as it is.
std::string AdvertisedAddress(std::string_view listen);

}  // namespace nds
