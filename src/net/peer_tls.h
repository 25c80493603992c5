// Mutual TLS for the peer transport (`nds start --peer-tls-cert/--peer-tls-key/--peer-tls-ca`):
// one node certificate and key used in both directions (as the server certificate when accepting,
// as the client certificate when dialling) and one peer CA that the other side's certificate must
// be signed by. Built on the same contexts and policy as HTTPS (net/tls_context.h): TLS 1.2+,
// ECDHE with AEAD only.
//
// Any certificate the peer CA signed is accepted as a member's: names in it are not checked (a
// node is dialled at whatever address the membership records), so the peer CA must sign nothing
// but node certificates of this cluster. Each certificate needs both the serverAuth and the
// clientAuth extended key usage, or none at all.
//
// Thread-safe: connections take the current contexts when they start their handshake and keep
// them; Reload affects only later connections.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "net/tls_context.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace nds::net {

// The longest peer certificate chain (PEM) a join request may carry.
inline constexpr size_t kPeerCertificatePemBytesMax = 64 * 1024;

struct PeerTlsFiles {
  std::string cert_file;  // PEM: this node's certificate (then any intermediates)
  std::string key_file;   // PEM: its private key (unencrypted)
  std::string ca_file;    // PEM: the peer CA that signs every node's certificate

  bool AnySet() const { return !cert_file.empty() || !key_file.empty() || !ca_file.empty(); }
};

class PeerTls {
 public:
  // Reads and checks the three files (all are required). kInvalidArgument naming the missing
  // flag, or the file and the reason (unreadable, not PEM, key not matching the certificate).
  static Result<std::shared_ptr<PeerTls>> Load(PeerTlsFiles files);

  // Reads the files again. On failure keeps the current contexts and returns why.
  Status Reload();

  // The acceptor's context (requires a client certificate signed by the peer CA) and the
  // dialler's (verifies the acceptor's certificate against the peer CA, presents ours).
  std::shared_ptr<SslContext> Server() const;
  std::shared_ptr<SslContext> Client() const;
  const PeerTlsFiles& files() const { return files_; }

  // Whether `pem` (a certificate, then any intermediates) is one this node's acceptor would take
  // from a peer: signed by the peer CA, valid now, fit for TLS client use. Checked before a joiner
  // is added, so that a node whose certificate the members would refuse is not added as a
  // learner that can never catch up. It proves nothing about who sends it (certificates are
  // public; the private key is proven by the handshake). kInvalidArgument saying why not.
  Status CheckPeerCertificate(std::string_view pem) const;

  PeerTls(PeerTlsFiles files, std::shared_ptr<SslContext> server,
          std::shared_ptr<SslContext> client)
      : files_(std::move(files)), server_(std::move(server)), client_(std::move(client)) {}

 private:
  struct Contexts {
    std::shared_ptr<SslContext> server;
    std::shared_ptr<SslContext> client;
  };
  static Result<Contexts> Make(const PeerTlsFiles& files);

  const PeerTlsFiles files_;
  mutable Mutex mu_;
  std::shared_ptr<SslContext> server_ NDS_GUARDED_BY(mu_);
  std::shared_ptr<SslContext> client_ NDS_GUARDED_BY(mu_);
};

}  // namespace nds::net
