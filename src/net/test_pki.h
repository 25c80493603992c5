// Test-only: certificates made at test time with the `openssl` command line tool, in a directory
// the caller owns. EC P-256 keys (fast to make), valid for two days:
//   ca            the test CA
//   server        signed by ca, for IP 127.0.0.1 and DNS localhost (CN "nds-server")
//   server2       the same names, a different CN ("nds-server-2"): to see a reload switch
//   client        signed by ca, for client authentication
//   other_ca      an unrelated CA; other_server and other_client are signed by it
// and, from MakeTestPeerCerts, node certificates for peer mutual TLS (serverAuth and clientAuth):
//   peer, peer2   signed by ca
//   other_peer    signed by other_ca
// Header-only, included by *_test.cc files alone (net, client, tests/).
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "util/status.h"

namespace nds::net::testing {

struct TestPki {
  std::string dir;
  std::string Cert(const std::string& name) const { return dir + "/" + name + ".pem"; }
  std::string Key(const std::string& name) const { return dir + "/" + name + ".key"; }
  std::string Dir(const std::string& file) const { return dir + "/" + file; }
};

namespace test_pki_internal {

inline Status Run(const std::string& dir, const std::string& command) {
  const std::string line = fmt::format("cd '{}' && {} >>openssl.log 2>&1", dir, command);
  if (std::system(line.c_str()) != 0) {
    return IoError(fmt::format("openssl failed (see {}/openssl.log): {}", dir, command));
  }
  return Status::Ok();
}

inline Status MakeCa(const std::string& dir, const std::string& name) {
  return Run(dir, fmt::format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                              "-nodes -keyout {0}.key -out {0}.pem -days 2 -subj /CN={0}",
                              name));
}

inline Status MakeLeaf(const std::string& dir, const std::string& name, const std::string& ca,
                       const std::string& cn, const std::string& extensions) {
  {
    std::ofstream ext(dir + "/" + name + ".ext");
    ext << extensions << "\n";
  }
  NDS_RETURN_IF_ERROR(Run(dir, fmt::format("openssl req -newkey ec -pkeyopt "
                                           "ec_paramgen_curve:P-256 -nodes -keyout {0}.key "
                                           "-out {0}.csr -subj /CN={1}",
                                           name, cn)));
  return Run(dir, fmt::format("openssl x509 -req -in {0}.csr -CA {1}.pem -CAkey {1}.key "
                              "-CAcreateserial -out {0}.pem -days 2 -extfile {0}.ext",
                              name, ca));
}

}  // namespace test_pki_internal

// Makes every certificate above in `dir` (which must exist).
inline Result<TestPki> MakeTestPki(const std::string& dir) {
  using test_pki_internal::MakeCa;
  using test_pki_internal::MakeLeaf;
  const std::string server_ext =
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth";
  const std::string client_ext = "extendedKeyUsage=clientAuth";
  NDS_RETURN_IF_ERROR(MakeCa(dir, "ca"));
  NDS_RETURN_IF_ERROR(MakeCa(dir, "other_ca"));
  NDS_RETURN_IF_ERROR(MakeLeaf(dir, "server", "ca", "nds-server", server_ext));
  NDS_RETURN_IF_ERROR(MakeLeaf(dir, "server2", "ca", "nds-server-2", server_ext));
  NDS_RETURN_IF_ERROR(MakeLeaf(dir, "client", "ca", "nds-client", client_ext));
  NDS_RETURN_IF_ERROR(MakeLeaf(dir, "other_server", "other_ca", "nds-other", server_ext));
  NDS_RETURN_IF_ERROR(MakeLeaf(dir, "other_client", "other_ca", "nds-other-client", client_ext));
  return TestPki{dir};
}

// Adds the peer certificates above to a directory MakeTestPki filled.
inline Status MakeTestPeerCerts(const TestPki& pki) {
  const std::string peer_ext =
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth";
  for (const auto& [name, ca] : {std::pair<std::string, std::string>{"peer", "ca"},
                                 {"peer2", "ca"},
                                 {"other_peer", "other_ca"}}) {
    NDS_RETURN_IF_ERROR(test_pki_internal::MakeLeaf(pki.dir, name, ca, "nds-" + name, peer_ext));
  }
  return Status::Ok();
}

}  // namespace nds::net::testing
