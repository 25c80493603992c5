// What the load generator's two Asio clients (runner.cc: the measured requests;
// background_load.cc: watchers and leases beside them) share: the names they use for Asio, and
// the size of each connection's read buffer.
#pragma once

#include <chrono>
#include <cstddef>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace nds::loadgen {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
inline constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Per connection: 10000 connections hold 160 MiB of read buffers at most.
inline constexpr size_t kReadBufferBytes = 16 << 10;

}  // namespace nds::loadgen
