// Goal: nds::Client speaks HTTPS to servers given as https://HOST:PORT (shared contract:
// "Security"): it verifies the server against --cacert and the host, fails with an error that
// says why and what to do when it does not trust the server, presents --cert/--key to a server
// that requires a client certificate; server lists accept http:// and https:// URLs.
// Method: net::HttpServer with TLS on 127.0.0.1 and certificates made at test time (test_pki.h).
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "client/client.h"
#include "client/options.h"
#include "net/http.h"
#include "net/test_pki.h"
#include "net/tls_context.h"

namespace nds::client {
namespace {

using std::chrono::milliseconds;

class HelloHandler : public net::Handler {
 public:
  void Handle(net::HttpRequest request, net::Responder respond) override {
    net::HttpResponse response;
    response.body = "hello " + request.target;
    respond(std::move(response));
  }
};

class TlsClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string((std::filesystem::temp_directory_path() /
                            ("nds-tls-client-test-" + std::to_string(::getpid())))
                               .string());
    std::filesystem::create_directories(*dir_);
    auto pki = net::testing::MakeTestPki(*dir_);
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = new net::testing::TestPki(*pki);
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    if (dir_ != nullptr) std::filesystem::remove_all(*dir_, ignored);
    delete pki_;
    delete dir_;
  }

  void StartServer(bool require_client_certificate) {
    ASSERT_NE(pki_, nullptr);
    net::TlsServerFiles files{pki_->Cert("server"), pki_->Key("server"), ""};
    if (require_client_certificate) files.client_ca_file = pki_->Cert("ca");
    auto tls = net::TlsServerContext::Load(files);
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    net::HttpServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.tls = *tls;
    auto started = net::HttpServer::Start(options, &handler_);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value();
  }
  void TearDown() override {
    if (server_) server_->Stop(milliseconds(1000));
  }

  std::unique_ptr<Client> MakeClient(const std::string& scheme, ClientTlsOptions tls) {
    ClientOptions options;
    options.servers =
        ParseServerList(scheme + "127.0.0.1:" + std::to_string(server_->port())).value();
    options.tls = std::move(tls);
    options.connect_timeout = milliseconds(5'000);
    options.request_timeout = milliseconds(5'000);
    options.attempts_max = 1;
    return Client::Create(std::move(options)).value();
  }

  static std::string* dir_;
  static net::testing::TestPki* pki_;
  HelloHandler handler_;
  std::unique_ptr<net::HttpServer> server_;
};

std::string* TlsClientTest::dir_ = nullptr;
net::testing::TestPki* TlsClientTest::pki_ = nullptr;

TEST(ServerListUrls, HttpAndHttpsUrlsAreAccepted) {
  auto plain = ParseServerList("http://127.0.0.1:7777");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ((*plain)[0], (ServerAddress{"127.0.0.1", 7777, false}));
  auto mixed = ParseServerList("https://a.example:1/, http://[::1]:2,b:3");
  ASSERT_TRUE(mixed.ok()) << mixed.status().ToString();
  EXPECT_EQ((*mixed)[0], (ServerAddress{"a.example", 1, true}));
  EXPECT_EQ((*mixed)[1], (ServerAddress{"::1", 2, false}));
  EXPECT_EQ((*mixed)[2], (ServerAddress{"b", 3, false}));
  // ToString reads back as the same address.
  EXPECT_EQ((*mixed)[0].ToString(), "https://a.example:1");
  EXPECT_EQ(ParseServerList((*mixed)[0].ToString()).value()[0], (*mixed)[0]);
  EXPECT_EQ((*mixed)[0].HostPort(), "a.example:1");
  EXPECT_FALSE(ParseServerList("ftp://h:1").ok());
  EXPECT_FALSE(ParseServerList("https://h:1/path").ok());
  EXPECT_FALSE(ParseServerList("https://h").ok());
}

TEST_F(TlsClientTest, HttpsRoundTripTrustingTheCa) {
  StartServer(false);
  auto c = MakeClient("https://", {pki_->Cert("ca"), "", ""});
  for (int i = 0; i < 3; ++i) {  // on one kept-alive connection
    auto reply = c->Raw("GET", "/x");
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, "hello /x");
  }
}

TEST_F(TlsClientTest, UntrustedServerFailsWithAClearError) {
  StartServer(false);
  auto c = MakeClient("https://", {pki_->Cert("other_ca"), "", ""});
  auto reply = c->Raw("GET", "/x");
  ASSERT_FALSE(reply.ok());
  const std::string message = reply.status().message();
  EXPECT_NE(message.find("certificate"), std::string::npos) << message;
  EXPECT_NE(message.find("--cacert"), std::string::npos) << message;
}

TEST_F(TlsClientTest, PlainClientOnTheTlsPortGetsTheRefusal) {
  StartServer(false);
  auto c = MakeClient("http://", {});
  auto reply = c->Raw("GET", "/x");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 400);
  EXPECT_NE(reply->body.find("HTTPS"), std::string::npos) << reply->body;
}

TEST_F(TlsClientTest, ClientCertificateIsRequiredAndPresented) {
  StartServer(true);
  auto without = MakeClient("https://", {pki_->Cert("ca"), "", ""});
  EXPECT_FALSE(without->Raw("GET", "/x").ok());
  auto with = MakeClient("https://", {pki_->Cert("ca"), pki_->Cert("client"), pki_->Key("client")});
  auto reply = with->Raw("GET", "/x");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 200);
}

TEST_F(TlsClientTest, MissingCaFileIsAnInvalidArgumentNamingIt) {
  StartServer(false);
  const std::string missing = *dir_ + "/nope.pem";
  auto c = MakeClient("https://", {missing, "", ""});
  auto reply = c->Raw("GET", "/x");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(reply.status().message().find(missing), std::string::npos) << reply.status().message();
}

}  // namespace
}  // namespace nds::client
