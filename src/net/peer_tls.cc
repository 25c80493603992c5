// Peer mutual TLS contexts (peer_tls.h).
#include "net/peer_tls.h"

#include <utility>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

namespace nds::net {

Result<PeerTls::Contexts> PeerTls::Make(const PeerTlsFiles& files) {
  for (const auto& [flag, value] :
       {std::pair{"--peer-tls-cert", &files.cert_file},
        std::pair{"--peer-tls-key", &files.key_file}, std::pair{"--peer-tls-ca", &files.ca_file}}) {
    if (value->empty()) {
      return InvalidArgument(std::string("peer TLS needs all of --peer-tls-cert, --peer-tls-key "
                                         "and --peer-tls-ca; ") +
                             flag + " is missing");
    }
  }
  Contexts made;
  NDS_ASSIGN_OR_RETURN(made.server,
                       MakeServerTlsContext({files.cert_file, files.key_file, files.ca_file}));
  NDS_ASSIGN_OR_RETURN(made.client,
                       MakeClientTlsContext({files.ca_file, files.cert_file, files.key_file}));
  return made;
}

Result<std::shared_ptr<PeerTls>> PeerTls::Load(PeerTlsFiles files) {
  NDS_ASSIGN_OR_RETURN(Contexts made, Make(files));
  return std::make_shared<PeerTls>(std::move(files), std::move(made.server),
                                   std::move(made.client));
}

Status PeerTls::Reload() {
  NDS_ASSIGN_OR_RETURN(Contexts made, Make(files_));
  MutexLock lock(mu_);
  server_ = std::move(made.server);
  client_ = std::move(made.client);
  return Status::Ok();
}

std::shared_ptr<SslContext> PeerTls::Server() const {
  MutexLock lock(mu_);
  return server_;
}

std::shared_ptr<SslContext> PeerTls::Client() const {
  MutexLock lock(mu_);
  return client_;
}

Status PeerTls::CheckPeerCertificate(std::string_view pem) const {
  if (pem.empty()) return InvalidArgument("no peer certificate");
  if (pem.size() > kPeerCertificatePemBytesMax) {
    return InvalidArgument("the peer certificate is longer than " +
                           std::to_string(kPeerCertificatePemBytesMax) + " bytes");
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> leaf(
      bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr, &X509_free);
  if (!leaf) return InvalidArgument("the peer certificate is not a PEM certificate");
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> chain(
      sk_X509_new_null(), [](STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); });
  while (X509* more = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(chain.get(), more);
  }
  ERR_clear_error();  // the end of the PEM text ends the loop with an error on the queue
  std::shared_ptr<SslContext> server = Server();
  X509_STORE* trusted = SSL_CTX_get_cert_store(server->native_handle());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      &X509_STORE_CTX_free);
  if (!ctx || X509_STORE_CTX_init(ctx.get(), trusted, leaf.get(), chain.get()) != 1) {
    return InvalidArgument("cannot check the peer certificate (out of memory)");
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1) {
    return InvalidArgument(
        std::string("the peer certificate is not one this cluster's peer CA accepts: ") +
        X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  }
  return Status::Ok();
}

}  // namespace nds::net
