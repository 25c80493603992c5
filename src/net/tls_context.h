// TLS contexts for HTTPS, loaded in one place: the server's (certificate, key, and optionally a
// CA that client certificates must be signed by), reloadable while connections are open; and
// the client's (the CA that server certificates are checked against, optionally a client
// certificate). OpenSSL 3 through Boost.Asio's ssl::context.
//
// Policy, the same for both sides: TLS 1.2 or later only; for TLS 1.2 only ECDHE key exchange
// with AEAD ciphers (AES-GCM, ChaCha20-Poly1305); no compression, no renegotiation. TLS 1.3 uses
// OpenSSL's default suites (all AEAD with forward secrecy).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>

#include "util/status.h"
#include "util/thread_annotations.h"

namespace nds::net {

using SslContext = boost::asio::ssl::context;

// A TLS record of type "handshake" starts with this byte; a ClientHello always does. Anything else
// as the first byte of a connection is not TLS (plain HTTP starts with a method's letter).
inline constexpr uint8_t kTlsHandshakeRecordType = 0x16;

// A PEM file larger than this is refused before OpenSSL reads it.
inline constexpr uint64_t kTlsFileBytesMax = 1 << 20;

struct TlsServerFiles {
  std::string cert_file;       // PEM: the server certificate, then any intermediates
  std::string key_file;        // PEM: its private key (unencrypted)
  std::string client_ca_file;  // PEM: when set, clients must present a certificate it signed
};

struct TlsClientFiles {
  std::string ca_file;    // PEM: CAs trusted for server certificates; empty: the system's
  std::string cert_file;  // PEM: a client certificate, for servers that ask for one
  std::string key_file;   // PEM: its private key
};

// Builds a server context. kInvalidArgument naming the file and the reason for a file that cannot
// be read, is not PEM, or a key that does not match the certificate.
Result<std::shared_ptr<SslContext>> MakeServerTlsContext(const TlsServerFiles& files);

// Builds a client context that verifies servers. Errors as above; a cert without a key (or the
// reverse) is kInvalidArgument.
Result<std::shared_ptr<SslContext>> MakeClientTlsContext(const TlsClientFiles& files);

// Prepares one client connection's SSL object to talk to `host` (a name or an IP address): sends
// it as SNI (names only) and makes the handshake fail unless the server's certificate is valid
// for it. `ssl` is the connection's native handle.
Status SetTlsPeerHost(SSL* ssl, std::string_view host);

// Why a client handshake failed, in words: the certificate verification result when there is one
// ("certificate has expired", "hostname mismatch", ...), else `error`'s message.
std::string DescribeTlsFailure(SSL* ssl, const boost::system::error_code& error);

// The server's current context, swapped whole by Reload. Thread-safe: connections take Current()
// when they start their handshake and keep it; Reload affects only later connections.
class TlsServerContext {
 public:
  static Result<std::shared_ptr<TlsServerContext>> Load(TlsServerFiles files);

  // Reads the files again. On failure keeps the current context and returns why.
  Status Reload();
  std::shared_ptr<SslContext> Current() const;
  bool requires_client_certificate() const { return !files_.client_ca_file.empty(); }
  const TlsServerFiles& files() const { return files_; }

  explicit TlsServerContext(TlsServerFiles files, std::shared_ptr<SslContext> context)
      : files_(std::move(files)), current_(std::move(context)) {}

 private:
  const TlsServerFiles files_;
  mutable Mutex mu_;
  std::shared_ptr<SslContext> current_ NDS_GUARDED_BY(mu_);
};

}  // namespace nds::net
