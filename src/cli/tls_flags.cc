// The TLS flags and the SIGHUP reload of `nds start` (tls_flags.h).
#include "cli/tls_flags.h"

#include <signal.h>

#include <spdlog/spdlog.h>

namespace nds::cli {

void AddPeerTlsFlags(CLI::App* start, net::PeerTlsFiles* files) {
  start->add_option("--peer-tls-cert", files->cert_file,
                    "PEM certificate of this node for peer mutual TLS (with --peer-tls-key and "
                    "--peer-tls-ca; reloaded on SIGHUP)");
  start->add_option("--peer-tls-key", files->key_file, "PEM private key of --peer-tls-cert");
  start->add_option("--peer-tls-ca", files->ca_file,
                    "PEM peer CA: peers must present a certificate it signed, in both directions");
}

Result<std::shared_ptr<net::PeerTls>> LoadPeerTlsFlags(const net::PeerTlsFiles& files) {
  if (!files.AnySet()) return std::shared_ptr<net::PeerTls>();
  return net::PeerTls::Load(files);
}

int WaitForStopReloadingTls(net::TlsServerContext* api_tls, net::PeerTls* peer_tls) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig != SIGHUP) return sig;
    if (api_tls == nullptr && peer_tls == nullptr) {
      spdlog::info("SIGHUP: neither --tls-cert nor --peer-tls-cert given, nothing to reload");
      continue;
    }
    if (api_tls == nullptr) {
      // no API TLS
    } else if (Status s = api_tls->Reload(); !s.ok()) {
      spdlog::error("SIGHUP: TLS reload failed, still serving the previous certificate: {}",
                    s.message());
    } else {
      spdlog::info("SIGHUP: reloaded the TLS certificate {} and key {}; new connections use them",
                   api_tls->files().cert_file, api_tls->files().key_file);
    }
    if (peer_tls == nullptr) {
      // no peer TLS
    } else if (Status s = peer_tls->Reload(); !s.ok()) {
      spdlog::error("SIGHUP: peer TLS reload failed, peers still use the previous files: {}",
                    s.message());
    } else {
      spdlog::info(
          "SIGHUP: reloaded the peer TLS certificate {}, key {} and CA {}; new peer connections "
          "use them",
          peer_tls->files().cert_file, peer_tls->files().key_file, peer_tls->files().ca_file);
    }
  }
}

}  // namespace nds::cli
