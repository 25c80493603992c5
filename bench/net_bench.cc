// Requests per second of the HTTP/1.1 server (src/net) with a trivial Handler, over keep-alive
// connections from in-process Asio clients: one request at a time, and pipelined batches of 16.
// Threads(n) runs n client connections at once. Run: build/<dir>/bench/net_bench
//
// With --serve_port=N [--serve_seconds=S] it instead serves the same trivial Handler on
// 127.0.0.1:N for S seconds (default 60), so that an external load generator can be pointed at
// it, e.g.: wrk -t2 -c64 -d10s --latency http://127.0.0.1:N/
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include <benchmark/benchmark.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/core.h>

#include "net/http.h"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

class TrivialHandler : public nds::net::Handler {
 public:
  void Handle(nds::net::HttpRequest, nds::net::Responder respond) override {
    nds::net::HttpResponse response;
    response.SetHeader("Content-Type", "text/plain");
    response.body = "ok\n";
    respond(std::move(response));
  }
};

TrivialHandler handler;

std::unique_ptr<nds::net::HttpServer> StartServer(uint16_t port) {
  nds::net::HttpServerOptions options;
  options.address = "127.0.0.1";
  options.port = port;
  options.threads = 2;
  auto started = nds::net::HttpServer::Start(options, &handler);
  if (!started.ok()) {
    fmt::print(stderr, "cannot start the server: {}\n", started.status().ToString());
    std::exit(1);
  }
  return std::move(started).value();
}

nds::net::HttpServer* Server() {
  static std::unique_ptr<nds::net::HttpServer> server = StartServer(0);
  return server.get();
}

// A keep-alive client connection with blocking I/O.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port}, connect_error_);
    boost::system::error_code ec;
    if (!connect_error_) socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  }
  // Sends `batch` pipelined GETs in one write and reads their answers; false on any error.
  bool RoundTrip(int batch) {
    std::string requests;
    for (int i = 0; i < batch; ++i) requests += "GET /bench HTTP/1.1\r\nHost: b\r\n\r\n";
    if (connect_error_) return false;
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(requests), ec);
    if (ec) return false;
    for (int i = 0; i < batch; ++i) {
      http::response<http::string_body> response;
      http::read(socket_, buffer_, response, ec);
      if (ec || response.result_int() != 200) return false;
    }
    return true;
  }

 private:
  asio::io_context ioc_;
  asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  boost::system::error_code connect_error_;
};

void BM_KeepAliveRequests(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  Client client(Server()->port());
  for (auto _ : state) {
    if (!client.RoundTrip(batch)) {
      state.SkipWithError("request failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_KeepAliveRequests)->Arg(1)->Arg(16)->Threads(1)->Threads(4)->UseRealTime();

// Returns the value of `--name=value` in argv, or empty.
std::string_view Flag(int argc, char** argv, std::string_view name) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with(name) && arg.size() > name.size() && arg[name.size()] == '=') {
      return arg.substr(name.size() + 1);
    }
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view serve_port = Flag(argc, argv, "--serve_port");
  if (!serve_port.empty()) {
    const std::string_view seconds = Flag(argc, argv, "--serve_seconds");
    const int serve_seconds = seconds.empty() ? 60 : std::atoi(std::string(seconds).c_str());
    auto server = StartServer(static_cast<uint16_t>(std::atoi(std::string(serve_port).c_str())));
    fmt::print("serving on 127.0.0.1:{} for {} s\n", server->port(), serve_seconds);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(serve_seconds));
    server->Stop(std::chrono::milliseconds(1000));
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
