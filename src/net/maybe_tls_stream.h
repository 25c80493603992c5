// A TCP socket that is plain or, once StartTls is called, carries TLS: one stream type for the
// HTTP server's connections, the client and the load generator, so that their HTTP code is
// written once for both. It meets Asio's AsyncReadStream and AsyncWriteStream requirements
// (and so Beast's): async_read_some / async_write_some go to the socket or through the TLS
// layer, chosen per call. Any completion token works (a callback, use_awaitable).
//
// Not movable: the TLS layer refers to the socket. Not thread-safe: one strand drives it.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "net/tls_context.h"

namespace nds::net {

class MaybeTlsStream {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  using TlsLayer = boost::asio::ssl::stream<Socket&>;
  using executor_type = Socket::executor_type;

  // Neither copyable nor movable, so this overload hides no copy or move constructor.
  template <typename ExecutorOrContext>
  // NOLINTNEXTLINE(bugprone-forwarding-reference-overload)
  explicit MaybeTlsStream(ExecutorOrContext&& executor)
      : socket_(std::forward<ExecutorOrContext>(executor)) {}
  explicit MaybeTlsStream(Socket socket) : socket_(std::move(socket)) {}
  MaybeTlsStream(const MaybeTlsStream&) = delete;
  MaybeTlsStream& operator=(const MaybeTlsStream&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  Socket& socket() { return socket_; }
  const Socket& socket() const { return socket_; }
  // Null until StartTls.
  TlsLayer* tls() { return tls_.get(); }
  bool is_tls() const { return tls_ != nullptr; }

  // From now on, reads and writes go through TLS with `context` (the caller then runs the
  // handshake on tls()). The context must outlive the stream's TLS use: the caller keeps it.
  void StartTls(SslContext& context) { tls_ = std::make_unique<TlsLayer>(socket_, context); }
  // Back to plain, for a new connection on the same object (the socket must be closed).
  void ResetTls() { tls_.reset(); }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Token>(token));
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }

  // Over TLS, a gather write whose first buffer is short (a response head before its body) is
  // copied into one staging buffer of up to a TLS record first: the TLS layer writes only the
  // first buffer of a sequence per call, which would cost a record and a syscall per piece.
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    if (tls_) {
      const auto first = boost::asio::buffer_sequence_begin(buffers);
      const size_t total = boost::asio::buffer_size(buffers);
      if (first != boost::asio::buffer_sequence_end(buffers) &&
          boost::asio::const_buffer(*first).size() < std::min(total, kTlsRecordBytes)) {
        write_staging_.resize(std::min(total, kTlsRecordBytes));
        boost::asio::buffer_copy(boost::asio::buffer(write_staging_), buffers);
        return tls_->async_write_some(boost::asio::buffer(write_staging_),
                                      std::forward<Token>(token));
      }
      return tls_->async_write_some(buffers, std::forward<Token>(token));
    }
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  // The largest TLS record's payload.
  static constexpr size_t kTlsRecordBytes = 16 << 10;

  Socket socket_;
  std::unique_ptr<TlsLayer> tls_;
  std::string write_staging_;  // the bytes of the one write in progress, when staged
};

}  // namespace nds::net
