// Acceptor (acceptor.h): listen, the accept loop with its retry timer, and stop.
#include "net/acceptor.h"

#include <future>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

namespace nds::net {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

Acceptor::Acceptor(asio::io_context& ioc, std::string name)
    : ioc_(ioc),
      name_(std::move(name)),
      acceptor_(asio::make_strand(ioc)),
      retry_timer_(acceptor_.get_executor()) {}

Acceptor::Acceptor(IoContextPool& pool, std::string name)
    : ioc_(pool.first()),
      pool_(&pool),
      name_(std::move(name)),
      acceptor_(asio::make_strand(ioc_)),
      retry_timer_(acceptor_.get_executor()) {}

Status Acceptor::Listen(const std::string& address, uint16_t port, int backlog) {
  error_code ec;
  const asio::ip::address ip = asio::ip::make_address(address, ec);
  if (ec) {
    return InvalidArgument(
        fmt::format("bad {} listen address '{}': {}", name_, address, ec.message()));
  }
  const tcp::endpoint endpoint(ip, port);
  const std::string where = fmt::format("{}:{}", address, port);
  if (acceptor_.open(endpoint.protocol(), ec)) {
    return Unavailable(fmt::format("cannot open a socket for {}: {}", where, ec.message()));
  }
  if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec)) {
    return Unavailable(fmt::format("cannot set SO_REUSEADDR for {}: {}", where, ec.message()));
  }
  if (acceptor_.bind(endpoint, ec)) {
    if (ec == boost::system::errc::address_not_available) {
      return InvalidArgument(fmt::format("cannot bind {}: {}", where, ec.message()));
    }
    return Unavailable(fmt::format("cannot bind {}: {}", where, ec.message()));
  }
  if (acceptor_.listen(backlog, ec)) {
    return Unavailable(fmt::format("cannot listen on {}: {}", where, ec.message()));
  }
  const tcp::endpoint local = acceptor_.local_endpoint(ec);
  if (ec) return Unavailable(fmt::format("cannot read the port of {}: {}", where, ec.message()));
  port_ = local.port();
  return Status::Ok();
}

void Acceptor::Start(OnAccepted on_accepted) {
  if (started_ || stopped_) return;
  started_ = true;
  on_accepted_ = std::move(on_accepted);
  accepting_ = true;
  asio::post(acceptor_.get_executor(), [this] { StartAccept(); });
}

void Acceptor::StartAccept() {
  if (!accepting_) return;
  asio::io_context& socket_context = pool_ != nullptr ? pool_->Next() : ioc_;
  acceptor_.async_accept(
      asio::make_strand(socket_context),
      [this](error_code ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void Acceptor::OnAccept(error_code ec, tcp::socket socket) {
  if (!accepting_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    spdlog::warn("{} listener: accept failed: {}", name_, ec.message());
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([this](error_code wait_ec) {
      if (!wait_ec) StartAccept();
    });
    return;
  }
  // Answers are small and clients wait for each: without this, Nagle's algorithm and delayed
  // acknowledgements hold them back for tens of milliseconds.
  error_code option_ec;
  socket.set_option(tcp::no_delay(true), option_ec);
  on_accepted_(std::move(socket));
  StartAccept();
}

void Acceptor::CloseOnStrand() {
  accepting_ = false;
  error_code ec;
  acceptor_.close(ec);
  retry_timer_.cancel();
}

void Acceptor::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!started_ || ioc_.stopped()) {
    // No handler of the acceptor was ever queued, or none will run any more: a post would never
    // be served and the wait below would never end.
    CloseOnStrand();
    return;
  }
  std::promise<void> closed;
  asio::post(acceptor_.get_executor(), [this, &closed] {
    CloseOnStrand();
    closed.set_value();
  });
  closed.get_future().wait();
}

}  // namespace nds::net
