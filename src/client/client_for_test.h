// Test-only: a Client whose one server is a FakeHttpServer, retrying without delay.
#pragma once

#include <chrono>
#include <memory>

#include "client/client.h"
#include "client/fake_http_server.h"

namespace nds::client::testing {

inline std::unique_ptr<Client> ClientFor(const FakeHttpServer& server) {
  ClientOptions options;
  options.servers = {server.address()};
  options.retry_delay_max = std::chrono::milliseconds(0);
  return Client::Create(options).value();
}

}  // namespace nds::client::testing
