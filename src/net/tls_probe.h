// Test support (header only): TLS from the outside, one connection at a time, every wait bounded.
//   ProbeTls        dials 127.0.0.1:PORT with a client context, runs the TLS handshake, sends
//                   `payload` and reads the first answer: what a dialler gets from a TLS port.
//   TlsOneShotServer accepts one connection with a server context and runs the handshake: what
//                   a dialled process sees of the dialler.
//   PinnedClientContext a client context that speaks exactly one TLS version (TLS 1.0 to 1.3),
//                   with OpenSSL's security level lowered so that old versions are really offered.
// Included by *_test.cc files alone.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <openssl/ssl.h>

namespace nds::net::testing {

inline constexpr std::chrono::seconds kTlsProbeWaitMax{20};

struct TlsProbeResult {
  bool tls_ok = false;  // the client's side of the TLS handshake completed
  std::string answer;   // the first bytes the server sent after it (empty: none)
  std::string error;    // why it stopped (empty when an answer came)
};

inline TlsProbeResult ProbeTls(uint16_t port, boost::asio::ssl::context& ctx,
                               const std::string& payload) {
  namespace asio = boost::asio;
  using boost::system::error_code;
  asio::io_context ioc;
  asio::ssl::stream<asio::ip::tcp::socket> stream(ioc, ctx);
  TlsProbeResult result;
  result.error = "no answer within the test's bound";
  std::array<char, 4096> buf{};
  stream.next_layer().async_connect(
      {asio::ip::make_address("127.0.0.1"), port}, [&](error_code ec) {
        if (ec) {
          result.error = "connect: " + ec.message();
          return;
        }
        stream.async_handshake(asio::ssl::stream_base::client, [&](error_code hec) {
          if (hec) {
            result.error = "handshake: " + hec.message();
            return;
          }
          result.tls_ok = true;
          asio::async_write(stream, asio::buffer(payload), [&](error_code wec, size_t) {
            if (wec) {
              result.error = "write: " + wec.message();
              return;
            }
            stream.async_read_some(asio::buffer(buf), [&](error_code rec, size_t n) {
              if (rec) {
                result.error = "read: " + rec.message();
                return;
              }
              result.answer.assign(buf.data(), n);
              result.error.clear();
            });
          });
        });
      });
  ioc.run_for(kTlsProbeWaitMax);
  return result;
}

// Listens on 127.0.0.1 (a kernel-picked port) and, on Run, accepts one connection and runs the
// server side of the handshake; `handshake` then holds its outcome (nullopt: no connection came
// within the bound) and `received` the first bytes read after it.
class TlsOneShotServer {
 public:
  explicit TlsOneShotServer(boost::asio::ssl::context& ctx)
      : ctx_(ctx), acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {}
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void Run() {
    namespace asio = boost::asio;
    using boost::system::error_code;
    auto stream = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(ioc_, ctx_);
    std::array<char, 4096> buf{};
    acceptor_.async_accept(stream->next_layer(), [&](error_code ec) {
      if (ec) return;
      stream->async_handshake(asio::ssl::stream_base::server, [&](error_code hec) {
        handshake = hec;
        if (hec) return;
        stream->async_read_some(asio::buffer(buf), [&](error_code rec, size_t n) {
          if (!rec) received.assign(buf.data(), n);
          ioc_.stop();
        });
      });
    });
    ioc_.run_for(kTlsProbeWaitMax);
  }

  std::optional<boost::system::error_code> handshake;
  std::string received;

 private:
  boost::asio::ssl::context& ctx_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

// A client context offering only `version` (TLS1_VERSION ... TLS1_3_VERSION), trusting
// `ca_file`, presenting `cert_file`/`key_file` when they are not empty.
inline std::unique_ptr<boost::asio::ssl::context> PinnedClientContext(
    int version, const std::string& ca_file, const std::string& cert_file = "",
    const std::string& key_file = "") {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_security_level(native, 0);
  SSL_CTX_set_cipher_list(native, "DEFAULT:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version(native, version);
  SSL_CTX_set_max_proto_version(native, version);
  boost::system::error_code ec;
  ctx->load_verify_file(ca_file, ec);
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (!cert_file.empty()) {
    ctx->use_certificate_chain_file(cert_file, ec);
    ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  }
  return ctx;
}

}  // namespace nds::net::testing
