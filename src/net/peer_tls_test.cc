// Goal: with peer TLS (peer_tls.h) the peer transport speaks only mutual TLS 1.2+ with processes
// holding a certificate of the peer CA, in both directions: a dialler without a certificate, with
// one from another CA, without TLS, or offering TLS 1.0/1.1 is refused before the peer handshake
// is answered; a transport does not complete TLS with an acceptor whose certificate another CA
// signed; a good pair exchanges frames both ways. Method: real transports on 127.0.0.1 with
// certificates made at test time (test_pki.h); the outside is played by a TLS probe client and a
// one-shot TLS server (tls_probe.h). Every wait is bounded.
#include "net/peer_tls.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "net/peer_frame.h"
#include "net/peer_handshake.h"
#include "net/peer_payload.h"
#include "net/peer_transport.h"
#include "net/raw_peer_client.h"
#include "net/test_pki.h"
#include "net/tls_probe.h"
#include "util/shared_bytes.h"

namespace nds::net {
namespace {

constexpr auto kWaitBound = std::chrono::seconds(30);
const std::string kSecret(32, 's');

// Accepts the hello "node:N" as peer N; records frames.
class Receiver : public PeerReceiver {
 public:
  Result<uint64_t> OnHello(std::string_view hello) override {
    if (!hello.starts_with("node:") || hello.size() != 6) return InvalidArgument("bad hello");
    return static_cast<uint64_t>(hello[5] - '0');
  }
  void OnFrame(uint64_t from, std::string frame) override {
    std::lock_guard<std::mutex> lock(mu_);
    frames_.push_back(std::to_string(from) + ":" + frame);
    cv_.notify_all();
  }
  bool WaitFrame(const std::string& want) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWaitBound, [&] {
      return std::find(frames_.begin(), frames_.end(), want) != frames_.end();
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> frames_;
};

class PeerTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(
        (std::filesystem::temp_directory_path() / ("nds-peer-tls-" + std::to_string(::getpid())))
            .string());
    std::filesystem::create_directories(*dir_);
    auto pki = testing::MakeTestPki(*dir_);
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = new testing::TestPki(*pki);
    ASSERT_TRUE(testing::MakeTestPeerCerts(*pki_).ok());
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    if (dir_ != nullptr) std::filesystem::remove_all(*dir_, ignored);
    delete pki_;
    delete dir_;
  }
  void SetUp() override { ASSERT_NE(pki_, nullptr); }

  // A node's files: its certificate `name`, trusting `ca`.
  PeerTlsFiles Files(const std::string& name, const std::string& ca = "ca") const {
    return {pki_->Cert(name), pki_->Key(name), pki_->Cert(ca)};
  }
  std::unique_ptr<PeerTransport> StartTransport(uint64_t id, std::shared_ptr<PeerTls> tls,
                                                Receiver* receiver) {
    PeerTransportOptions o;
    o.listen_address = "127.0.0.1";
    o.listen_port = 0;
    o.hello = "node:" + std::to_string(id);
    o.secret = kSecret;
    o.backoff_min = std::chrono::milliseconds(10);
    o.backoff_max = std::chrono::milliseconds(100);
    o.tls = std::move(tls);
    auto started = PeerTransport::Start(o, receiver);
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    return started.ok() ? std::move(started).value() : nullptr;
  }
  std::shared_ptr<PeerTls> Tls(const std::string& name, const std::string& ca = "ca") const {
    auto tls = PeerTls::Load(Files(name, ca));
    EXPECT_TRUE(tls.ok()) << tls.status().ToString();
    return tls.ok() ? *tls : nullptr;
  }
  // The first frame of the handshake, as a dialler sends it.
  static std::string HelloFrame() {
    return EncodePeerFrame(EncodeHandshakeHello({std::string(kPeerNonceBytes, 'n'), "node:1"}));
  }

  static std::string* dir_;
  static testing::TestPki* pki_;
};

std::string* PeerTlsTest::dir_ = nullptr;
testing::TestPki* PeerTlsTest::pki_ = nullptr;

TEST_F(PeerTlsTest, LoadNeedsAllThreeFilesAndNamesWhatIsWrong) {
  PeerTlsFiles no_key = Files("peer");
  no_key.key_file.clear();
  auto loaded = PeerTls::Load(no_key);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("--peer-tls-key is missing"), std::string::npos)
      << loaded.status().ToString();
  PeerTlsFiles missing = Files("peer");
  missing.ca_file = *dir_ + "/no-such-ca.pem";
  loaded = PeerTls::Load(missing);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("no-such-ca.pem"), std::string::npos)
      << loaded.status().ToString();
  PeerTlsFiles mismatched = Files("peer");
  mismatched.key_file = pki_->Key("peer2");
  EXPECT_FALSE(PeerTls::Load(mismatched).ok());
}

// What the join route checks before adding a node (docs/security.md, "Joining"): the PEM a
// joiner shows must be a certificate the peer CA signed; anything else is refused with the reason.
TEST_F(PeerTlsTest, CheckPeerCertificateTakesOnlyCertificatesOfThePeerCa) {
  std::shared_ptr<PeerTls> tls = Tls("peer");
  ASSERT_NE(tls, nullptr);
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string peer2 = read(pki_->Cert("peer2"));
  ASSERT_FALSE(peer2.empty());
  EXPECT_TRUE(tls->CheckPeerCertificate(peer2).ok());
  Status other = tls->CheckPeerCertificate(read(pki_->Cert("other_peer")));
  EXPECT_EQ(other.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(other.message().find("not one this cluster's peer CA accepts"), std::string::npos)
      << other.ToString();
  EXPECT_FALSE(tls->CheckPeerCertificate("").ok());
  EXPECT_FALSE(tls->CheckPeerCertificate("-----BEGIN CERTIFICATE-----\nnot base64\n").ok());
  EXPECT_FALSE(tls->CheckPeerCertificate(peer2.substr(0, peer2.size() / 2)).ok());
  EXPECT_FALSE(tls->CheckPeerCertificate(std::string(kPeerCertificatePemBytesMax + 1, 'x')).ok());
}

TEST_F(PeerTlsTest, AGoodPairExchangesFramesBothWays) {
  Receiver ra, rb;
  auto a = StartTransport(1, Tls("peer"), &ra);
  auto b = StartTransport(2, Tls("peer2"), &rb);
  ASSERT_TRUE(a && b);
  a->SetPeer(2, "127.0.0.1:" + std::to_string(b->port()));
  b->SetPeer(1, "127.0.0.1:" + std::to_string(a->port()));
  EXPECT_TRUE(a->Send(2, "from-a"));
  EXPECT_TRUE(b->Send(1, "from-b"));
  EXPECT_TRUE(rb.WaitFrame("1:from-a"));
  EXPECT_TRUE(ra.WaitFrame("2:from-b"));
  // A frame in pieces (net/peer_payload.h) goes through TLS by gather write as its flat bytes.
  const SharedBytes big(std::string(2 << 20, 'v'));
  PeerPayload pieces("head|");
  pieces.AppendShared(big);
  pieces.own_bytes()->append("|middle|");
  pieces.AppendShared(big);
  const std::string want = "1:" + pieces.Flatten();
  EXPECT_TRUE(a->Send(2, std::move(pieces)));
  EXPECT_TRUE(rb.WaitFrame(want));
  a->Stop();
  b->Stop();
}

TEST_F(PeerTlsTest, ADiallerWithoutACertificateOfThePeerCaIsRefused) {
  Receiver rb;
  auto b = StartTransport(2, Tls("peer2"), &rb);
  ASSERT_TRUE(b);
  // The control: a certificate of the peer CA gets the handshake's challenge.
  auto good = testing::PinnedClientContext(TLS1_3_VERSION, pki_->Cert("ca"), pki_->Cert("peer"),
                                           pki_->Key("peer"));
  testing::TlsProbeResult r = testing::ProbeTls(b->port(), *good, HelloFrame());
  EXPECT_TRUE(r.tls_ok) << r.error;
  EXPECT_FALSE(r.answer.empty()) << r.error;

  auto no_cert = testing::PinnedClientContext(TLS1_3_VERSION, pki_->Cert("ca"));
  r = testing::ProbeTls(b->port(), *no_cert, HelloFrame());
  EXPECT_TRUE(r.answer.empty()) << "answered a dialler without a certificate";
  EXPECT_FALSE(r.error.empty());

  auto other = testing::PinnedClientContext(TLS1_2_VERSION, pki_->Cert("ca"),
                                            pki_->Cert("other_peer"), pki_->Key("other_peer"));
  r = testing::ProbeTls(b->port(), *other, HelloFrame());
  EXPECT_FALSE(r.tls_ok) << "TLS 1.2 with a certificate of another CA completed";
  EXPECT_TRUE(r.answer.empty());

  // Without TLS at all: the plain handshake gets no challenge.
  RawPeerClient plain;
  ASSERT_TRUE(plain.Connect(b->port()));
  EXPECT_EQ(plain.RunHandshake(kSecret, "node:1"), RawPeerClient::Handshake::kNoChallenge);
  b->Stop();
}

TEST_F(PeerTlsTest, TlsBelow12IsRefusedAnd12And13Work) {
  Receiver rb;
  auto b = StartTransport(2, Tls("peer2"), &rb);
  ASSERT_TRUE(b);
  for (int version : {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION}) {
    auto ctx = testing::PinnedClientContext(version, pki_->Cert("ca"), pki_->Cert("peer"),
                                            pki_->Key("peer"));
    testing::TlsProbeResult r = testing::ProbeTls(b->port(), *ctx, HelloFrame());
    const bool modern = version >= TLS1_2_VERSION;
    EXPECT_EQ(r.tls_ok, modern) << "version " << version << ": " << r.error;
    EXPECT_EQ(!r.answer.empty(), modern) << "version " << version << ": " << r.error;
  }
  b->Stop();
}

TEST_F(PeerTlsTest, ATransportCompletesTlsOnlyWithAnAcceptorOfItsPeerCa) {
  struct Case {
    std::string acceptor_cert;
    bool dialler_tls;
    bool completes;
  };
  for (const Case& c :
       {Case{"peer2", true, true}, Case{"other_peer", true, false}, Case{"peer2", false, false}}) {
    auto ctx = MakeServerTlsContext(
        {pki_->Cert(c.acceptor_cert), pki_->Key(c.acceptor_cert), pki_->Cert("ca")});
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    testing::TlsOneShotServer server(**ctx);
    Receiver ra;
    auto a = StartTransport(1, c.dialler_tls ? Tls("peer") : nullptr, &ra);
    ASSERT_TRUE(a);
    a->SetPeer(2, "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_TRUE(a->Send(2, "frame"));
    server.Run();
    ASSERT_TRUE(server.handshake.has_value()) << c.acceptor_cert << ": no dial came";
    EXPECT_EQ(!*server.handshake, c.completes)
        << c.acceptor_cert << " tls=" << c.dialler_tls << ": " << server.handshake->message();
    // Over a completed TLS session the dialler starts the peer handshake; over none, nothing.
    EXPECT_EQ(!server.received.empty(), c.completes);
    a->Stop();
  }
}

TEST_F(PeerTlsTest, ReloadSwitchesNewConnectionsAndABadReloadKeepsTheOld) {
  // The node reads copies that the test replaces.
  const PeerTlsFiles live{*dir_ + "/live.pem", *dir_ + "/live.key", *dir_ + "/live-ca.pem"};
  const auto copy = [](const std::string& from, const std::string& to) {
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  };
  copy(pki_->Cert("peer2"), live.cert_file);
  copy(pki_->Key("peer2"), live.key_file);
  copy(pki_->Cert("ca"), live.ca_file);
  auto tls = PeerTls::Load(live);
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  Receiver rb;
  auto b = StartTransport(2, *tls, &rb);
  ASSERT_TRUE(b);
  auto ours = testing::PinnedClientContext(TLS1_3_VERSION, pki_->Cert("ca"), pki_->Cert("peer"),
                                           pki_->Key("peer"));
  auto theirs = testing::PinnedClientContext(TLS1_3_VERSION, pki_->Cert("other_ca"),
                                             pki_->Cert("other_peer"), pki_->Key("other_peer"));
  EXPECT_FALSE(testing::ProbeTls(b->port(), *ours, HelloFrame()).answer.empty());
  EXPECT_TRUE(testing::ProbeTls(b->port(), *theirs, HelloFrame()).answer.empty());

  // The node moves to the other CA: after Reload, only that CA's nodes are answered.
  copy(pki_->Cert("other_peer"), live.cert_file);
  copy(pki_->Key("other_peer"), live.key_file);
  copy(pki_->Cert("other_ca"), live.ca_file);
  ASSERT_TRUE((*tls)->Reload().ok());
  EXPECT_TRUE(testing::ProbeTls(b->port(), *ours, HelloFrame()).answer.empty());
  EXPECT_FALSE(testing::ProbeTls(b->port(), *theirs, HelloFrame()).answer.empty());

  // A key that does not match: the reload fails and the contexts in use stay.
  copy(pki_->Key("peer"), live.key_file);
  EXPECT_FALSE((*tls)->Reload().ok());
  EXPECT_FALSE(testing::ProbeTls(b->port(), *theirs, HelloFrame()).answer.empty());
  b->Stop();
}

}  // namespace
}  // namespace nds::net
