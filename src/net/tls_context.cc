// TLS context loading (tls_context.h).
#include "net/tls_context.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "util/file_system.h"

namespace nds::net {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;

// TLS 1.2 suites: ECDHE only (forward secrecy), AEAD only.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Result<std::string> ReadPem(std::string_view what, const std::string& path) {
  Result<std::string> bytes = ReadWholeFile(DefaultFileSystem(), path, kTlsFileBytesMax);
  if (!bytes.ok()) {
    return InvalidArgument(
        fmt::format("cannot read the {} file {}: {}", what, path, bytes.status().message()));
  }
  if (bytes->find("-----BEGIN ") == std::string::npos) {
    return InvalidArgument(fmt::format("the {} file {} holds no PEM block", what, path));
  }
  return bytes;
}

Status Failed(std::string_view what, const std::string& path, const error_code& ec) {
  return InvalidArgument(fmt::format("cannot use the {} file {}: {}", what, path, ec.message()));
}

// The settings both sides share: versions, ciphers, options.
Status ApplyPolicy(SslContext* ctx) {
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::no_compression | ssl::context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return InvalidArgument("the TLS library refused the TLS 1.2+ policy");
  }
  return Status::Ok();
}

Status UseCertificateAndKey(SslContext* ctx, const std::string& cert_file,
                            const std::string& key_file) {
  NDS_ASSIGN_OR_RETURN(std::string cert, ReadPem("certificate", cert_file));
  NDS_ASSIGN_OR_RETURN(std::string key, ReadPem("key", key_file));
  error_code ec;
  if (ctx->use_certificate_chain(asio::buffer(cert), ec)) {
    return Failed("certificate", cert_file, ec);
  }
  if (ctx->use_private_key(asio::buffer(key), ssl::context::pem, ec)) {
    return Failed("key", key_file, ec);
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return InvalidArgument(
        fmt::format("the key in {} does not match the certificate in {}", key_file, cert_file));
  }
  return Status::Ok();
}

Status TrustCas(SslContext* ctx, const std::string& ca_file) {
  NDS_ASSIGN_OR_RETURN(std::string pem, ReadPem("CA", ca_file));
  error_code ec;
  if (ctx->add_certificate_authority(asio::buffer(pem), ec)) return Failed("CA", ca_file, ec);
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<SslContext>> MakeServerTlsContext(const TlsServerFiles& files) {
  if (files.cert_file.empty() || files.key_file.empty()) {
    return InvalidArgument("TLS needs both a certificate file and a key file");
  }
  auto ctx = std::make_shared<SslContext>(ssl::context::tls_server);
  NDS_RETURN_IF_ERROR(ApplyPolicy(ctx.get()));
  NDS_RETURN_IF_ERROR(UseCertificateAndKey(ctx.get(), files.cert_file, files.key_file));
  // No TLS 1.3 session tickets: our clients do not resume sessions, and tickets arriving on an
  // idle kept-alive connection would make it look closed to the client's reuse check.
  SSL_CTX_set_num_tickets(ctx->native_handle(), 0);
  if (!files.client_ca_file.empty()) {
    NDS_RETURN_IF_ERROR(TrustCas(ctx.get(), files.client_ca_file));
    error_code ec;
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
    // Tells clients which CA to pick a certificate for.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
  }
  return ctx;
}

Result<std::shared_ptr<SslContext>> MakeClientTlsContext(const TlsClientFiles& files) {
  if (files.cert_file.empty() != files.key_file.empty()) {
    return InvalidArgument("a client certificate needs both --cert and --key");
  }
  auto ctx = std::make_shared<SslContext>(ssl::context::tls_client);
  NDS_RETURN_IF_ERROR(ApplyPolicy(ctx.get()));
  error_code ec;
  if (files.ca_file.empty()) {
    if (ctx->set_default_verify_paths(ec)) {
      return InvalidArgument(fmt::format("cannot load the system's CAs: {}", ec.message()));
    }
  } else {
    NDS_RETURN_IF_ERROR(TrustCas(ctx.get(), files.ca_file));
  }
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (!files.cert_file.empty()) {
    NDS_RETURN_IF_ERROR(UseCertificateAndKey(ctx.get(), files.cert_file, files.key_file));
  }
  return ctx;
}

Status SetTlsPeerHost(SSL* ssl, std::string_view host_view) {
  const std::string host(host_view);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  error_code ec;
  asio::ip::make_address(host, ec);
  if (!ec) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
      return InvalidArgument(fmt::format("cannot verify certificates for address {}", host));
    }
    return Status::Ok();
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1 ||
      SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    return InvalidArgument(fmt::format("cannot verify certificates for host {}", host));
  }
  return Status::Ok();
}

std::string DescribeTlsFailure(SSL* ssl, const error_code& error) {
  const long verify = ssl != nullptr ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (verify != X509_V_OK) {
    return fmt::format("the server's certificate was refused: {}",
                       X509_verify_cert_error_string(verify));
  }
  std::string reason = error.message();
  if (error == asio::error::eof || error == asio::error::connection_reset) {
    reason +=
        " (the server closed the connection during the TLS handshake: does it speak "
        "HTTPS, and does it want a client certificate (--cert/--key)?)";
  }
  return reason;
}

Result<std::shared_ptr<TlsServerContext>> TlsServerContext::Load(TlsServerFiles files) {
  NDS_ASSIGN_OR_RETURN(std::shared_ptr<SslContext> ctx, MakeServerTlsContext(files));
  return std::make_shared<TlsServerContext>(std::move(files), std::move(ctx));
}

Status TlsServerContext::Reload() {
  NDS_ASSIGN_OR_RETURN(std::shared_ptr<SslContext> ctx, MakeServerTlsContext(files_));
  MutexLock lock(mu_);
  current_ = std::move(ctx);
  return Status::Ok();
}

std::shared_ptr<SslContext> TlsServerContext::Current() const {
  MutexLock lock(mu_);
  return current_;
}

}  // namespace nds::net
