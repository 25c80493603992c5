// See host_port.h.
#include "util/host_port.h"

#include <charconv>
#include <unistd.h>

namespace nds {

std::optional<HostPort> SplitHostPort(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view port_text = text.substr(colon + 1);
  if (port_text.empty() || port_text.front() < '0' || port_text.front() > '9') return std::nullopt;
  uint32_t port = 0;
  const char* end = port_text.data() + port_text.size();
  auto [p, ec] = std::from_chars(port_text.data(), end, port);
  if (ec != std::errc() || p != end || port > 65535) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

std::string AdvertisedAddress(std::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return std::string(listen);
  std::string host(listen.substr(0, colon));
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") {
    char name[256] = {};
    host = ::gethostname(name, sizeof name - 1) == 0 && name[0] != 0 ? name : "localhost";
  }
  return host + std::string(listen.substr(colon));
}

}  // namespace nds
