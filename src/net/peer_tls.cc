// Peer mutual TLS contexts (peer_tls.h).
#include "net/peer_tls.h"

#include <utility>

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

}  // namespace nds::net
