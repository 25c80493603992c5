// The TLS side of `nds start`: the peer mutual TLS flags (--peer-tls-cert/--peer-tls-key/
// --peer-tls-ca, net/peer_tls.h), and the main thread's wait for a stop signal that reloads every
// TLS certificate on SIGHUP.
#pragma once

#include <memory>

#include <CLI/CLI.hpp>

#include "net/peer_tls.h"
#include "net/tls_context.h"
#include "util/status.h"

namespace nds::cli {

// Adds the three --peer-tls-* flags to `start`, filling `files`.
void AddPeerTlsFlags(CLI::App* start, net::PeerTlsFiles* files);

// Checks the files of the flags: nullptr when none was given; kInvalidArgument when only some
// were (naming the missing flag) or a file is unusable (naming it and why).
Result<std::shared_ptr<net::PeerTls>> LoadPeerTlsFlags(const net::PeerTlsFiles& files);

// Waits for SIGINT or SIGTERM (blocked before any thread started) and returns which; on SIGHUP in
// between, reloads the API's certificate and key and the peer TLS files (each when on): a reload
// that fails keeps the files in use and logs why. Either pointer may be null.
int WaitForStopReloadingTls(net::TlsServerContext* api_tls, net::PeerTls* peer_tls);

}  // namespace nds::cli
