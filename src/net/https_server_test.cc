// Goal: the HTTP server with a TLS context speaks HTTPS only (shared contract: "Security"): a
// request over TLS is answered; plain HTTP on the port gets a prompt 400 that says the port
// speaks HTTPS; with a client CA, a client without a certificate (or with one from another CA)
// gets no answer and one with a good certificate does; a reload switches new connections to the
// new certificate, and a reload from bad files keeps the old one; bad files at load name the file.
// Method: a real HttpServer on 127.0.0.1 with certificates made at test time (test_pki.h), and a
// TLS client built on MaybeTlsStream and the client context of tls_context.h; every wait bounded.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net/http.h"
#include "net/http_test_client.h"
#include "net/maybe_tls_stream.h"
#include "net/test_pki.h"
#include "net/tls_context.h"
#include "net/tls_probe.h"

namespace nds::net {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using std::chrono::milliseconds;
using testing::RawClient;
using testing::ReadsRefusal;
using testing::Reply;
using testing::TestHandler;

// What one HTTPS GET came to.
struct HttpsResult {
  std::string error;  // empty when a whole reply arrived
  int status = 0;
  std::string body;
  std::string server_cn;  // the common name of the certificate the server showed
};

std::string CommonName(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return {};
  char name[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
  X509_free(cert);
  return name;
}

// GET /hello over TLS to 127.0.0.1:`port`, verifying the server against `files.ca_file`.
HttpsResult HttpsGet(uint16_t port, const TlsClientFiles& files) {
  HttpsResult result;
  auto ctx = MakeClientTlsContext(files);
  if (!ctx.ok()) {
    result.error = ctx.status().ToString();
    return result;
  }
  asio::io_context ioc;
  MaybeTlsStream stream(ioc);
  error_code ec;
  stream.socket().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) {
    result.error = "connect: " + ec.message();
    return result;
  }
  stream.StartTls(**ctx);
  SSL* ssl = stream.tls()->native_handle();
  EXPECT_TRUE(SetTlsPeerHost(ssl, "127.0.0.1").ok());
  const std::string request = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  error_code failure = asio::error::would_block;
  stream.tls()->async_handshake(asio::ssl::stream_base::client, [&](error_code hec) {
    if (hec) {
      failure = hec;
      result.error = "handshake: " + DescribeTlsFailure(ssl, hec);
      return;
    }
    result.server_cn = CommonName(ssl);
    asio::async_write(stream, asio::buffer(request), [&](error_code wec, size_t) {
      if (wec) {
        failure = wec;
        result.error = "write: " + wec.message();
        return;
      }
      http::async_read(stream, buffer, response, [&](error_code rec, size_t) {
        failure = rec;
        if (rec) result.error = "read: " + rec.message();
      });
    });
  });
  ioc.run_for(testing::kWaitMax);
  if (failure == asio::error::would_block) {
    result.error = "no answer within the test's bound";
  } else if (!failure) {
    result.status = static_cast<int>(response.result_int());
    result.body = response.body();
  }
  return result;
}

class HttpsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(
        (std::filesystem::temp_directory_path() / ("nds-https-test-" + std::to_string(::getpid())))
            .string());
    std::filesystem::create_directories(*dir_);
    auto pki = testing::MakeTestPki(*dir_);
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = new testing::TestPki(*pki);
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    if (dir_ != nullptr) std::filesystem::remove_all(*dir_, ignored);
    delete pki_;
    delete dir_;
  }

  void SetUp() override {
    ASSERT_NE(pki_, nullptr);
    handler_.set_behaviour([](const HttpRequest&, const Responder& respond) {
      HttpResponse response;
      response.body = "hello";
      respond(std::move(response));
    });
  }

  void StartServer(const TlsServerFiles& files,
                   milliseconds header_read_timeout = milliseconds(10'000),
                   size_t connections_max = 4096) {
    auto tls = TlsServerContext::Load(files);
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    tls_ = *tls;
    HttpServerOptions options;
    options.tls = tls_;
    options.header_read_timeout = header_read_timeout;
    options.connections_max = connections_max;
    auto started = testing::StartLoopbackServer(&handler_, options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value();
  }
  void TearDown() override {
    if (server_) server_->Stop(milliseconds(1000));
  }
  uint16_t port() const { return server_->port(); }
  TlsServerFiles ServerFiles() const { return {pki_->Cert("server"), pki_->Key("server"), ""}; }
  TlsClientFiles Trusting(const std::string& ca) const { return {pki_->Cert(ca), "", ""}; }

  static std::string* dir_;
  static testing::TestPki* pki_;
  TestHandler handler_;  // declared first: outlives the server
  std::shared_ptr<TlsServerContext> tls_;
  std::unique_ptr<HttpServer> server_;
};

std::string* HttpsServerTest::dir_ = nullptr;
testing::TestPki* HttpsServerTest::pki_ = nullptr;

TEST_F(HttpsServerTest, RequestOverTlsIsAnswered) {
  StartServer(ServerFiles());
  HttpsResult r = HttpsGet(port(), Trusting("ca"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.server_cn, "nds-server");
  // Twice: the server's context serves every connection.
  EXPECT_EQ(HttpsGet(port(), Trusting("ca")).status, 200);
}

TEST_F(HttpsServerTest, TlsBelow12IsRefusedAnd12And13Work) {
  StartServer(ServerFiles());
  for (int version : {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION}) {
    auto ctx = testing::PinnedClientContext(version, pki_->Cert("ca"));
    testing::TlsProbeResult r = testing::ProbeTls(
        port(), *ctx, "GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    const bool modern = version >= TLS1_2_VERSION;
    EXPECT_EQ(r.tls_ok, modern) << "version " << version << ": " << r.error;
    EXPECT_EQ(r.answer.starts_with("HTTP/1.1 200"), modern)
        << "version " << version << ": " << r.error << r.answer;
  }
}

TEST_F(HttpsServerTest, PlainHttpGetsA400SayingThePortSpeaksHttps) {
  // A header read timeout far beyond the test's bound: the refusal must not wait for it.
  StartServer(ServerFiles(), milliseconds(600'000));
  RawClient client(port());
  ASSERT_FALSE(client.connect_error());
  ASSERT_FALSE(client.Send("GET /hello HTTP/1.1\r\nHost: h\r\n\r\n"));
  Reply reply;
  EXPECT_TRUE(ReadsRefusal(client, 400, "https_required", &reply));
  EXPECT_NE(reply.body.find("HTTPS"), std::string::npos) << reply.body;
  EXPECT_EQ(handler_.calls(), 0);
}

TEST_F(HttpsServerTest, OverTheConnectionLimitThe503ComesOverTls) {
  StartServer(ServerFiles(), milliseconds(10'000), /*connections_max=*/1);
  RawClient holder(port());  // takes the one connection, waiting in the handshake
  ASSERT_FALSE(holder.connect_error());
  HttpsResult r = HttpsGet(port(), Trusting("ca"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("overloaded"), std::string::npos) << r.body;
  EXPECT_EQ(handler_.calls(), 0);
}

TEST_F(HttpsServerTest, ClientThatDoesNotTrustTheCaFailsClearly) {
  StartServer(ServerFiles());
  HttpsResult r = HttpsGet(port(), Trusting("other_ca"));
  EXPECT_NE(r.error.find("certificate"), std::string::npos) << r.error;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(handler_.calls(), 0);
}

TEST_F(HttpsServerTest, CertificateForAnotherHostIsRefused) {
  // other_server is valid for 127.0.0.1 but signed by other_ca; server is signed by ca but the
  // client asks for a host name it does not carry.
  StartServer(ServerFiles());
  auto ctx = MakeClientTlsContext(Trusting("ca"));
  ASSERT_TRUE(ctx.ok());
  asio::io_context ioc;
  MaybeTlsStream stream(ioc);
  error_code ec;
  stream.socket().connect({asio::ip::make_address("127.0.0.1"), port()}, ec);
  ASSERT_FALSE(ec) << ec.message();
  stream.StartTls(**ctx);
  SSL* ssl = stream.tls()->native_handle();
  ASSERT_TRUE(SetTlsPeerHost(ssl, "nds.example.com").ok());
  error_code handshake = asio::error::would_block;
  stream.tls()->async_handshake(asio::ssl::stream_base::client,
                                [&](error_code hec) { handshake = hec; });
  ioc.run_for(testing::kWaitMax);
  ASSERT_TRUE(handshake && handshake != asio::error::would_block);
  EXPECT_NE(DescribeTlsFailure(ssl, handshake).find("hostname mismatch"), std::string::npos)
      << DescribeTlsFailure(ssl, handshake);
}

TEST_F(HttpsServerTest, ClientCaRequiresAClientCertificateSignedByIt) {
  TlsServerFiles files = ServerFiles();
  files.client_ca_file = pki_->Cert("ca");
  StartServer(files);
  HttpsResult none = HttpsGet(port(), Trusting("ca"));
  EXPECT_FALSE(none.error.empty());
  EXPECT_EQ(none.status, 0);
  HttpsResult foreign =
      HttpsGet(port(), {pki_->Cert("ca"), pki_->Cert("other_client"), pki_->Key("other_client")});
  EXPECT_FALSE(foreign.error.empty());
  EXPECT_EQ(foreign.status, 0);
  EXPECT_EQ(handler_.calls(), 0);
  HttpsResult good =
      HttpsGet(port(), {pki_->Cert("ca"), pki_->Cert("client"), pki_->Key("client")});
  ASSERT_TRUE(good.error.empty()) << good.error;
  EXPECT_EQ(good.status, 200);
}

TEST_F(HttpsServerTest, ReloadSwitchesNewConnectionsAndABadReloadKeepsTheOld) {
  // The server reads copies, so that the test can replace them.
  const std::string cert = *dir_ + "/live.pem";
  const std::string key = *dir_ + "/live.key";
  std::filesystem::copy_file(pki_->Cert("server"), cert,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(pki_->Key("server"), key,
                             std::filesystem::copy_options::overwrite_existing);
  StartServer({cert, key, ""});
  EXPECT_EQ(HttpsGet(port(), Trusting("ca")).server_cn, "nds-server");

  std::filesystem::copy_file(pki_->Cert("server2"), cert,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(pki_->Key("server2"), key,
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(tls_->Reload().ok());
  HttpsResult after = HttpsGet(port(), Trusting("ca"));
  ASSERT_TRUE(after.error.empty()) << after.error;
  EXPECT_EQ(after.server_cn, "nds-server-2");

  {
    std::ofstream broken(key, std::ios::trunc);
    broken << "not a key\n";
  }
  Status failed = tls_->Reload();
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find(key), std::string::npos) << failed.message();
  HttpsResult kept = HttpsGet(port(), Trusting("ca"));
  ASSERT_TRUE(kept.error.empty()) << kept.error;
  EXPECT_EQ(kept.server_cn, "nds-server-2");
}

TEST_F(HttpsServerTest, BadFilesAtLoadNameTheFile) {
  const std::string missing = *dir_ + "/missing.pem";
  auto no_cert = TlsServerContext::Load({missing, pki_->Key("server"), ""});
  ASSERT_FALSE(no_cert.ok());
  EXPECT_NE(no_cert.status().message().find(missing), std::string::npos);
  // A key that is not the certificate's.
  auto mismatch = TlsServerContext::Load({pki_->Cert("server"), pki_->Key("server2"), ""});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("mismatch"), std::string::npos)
      << mismatch.status().message();
  // Not PEM at all.
  auto not_pem = TlsServerContext::Load({pki_->Cert("server"), pki_->Dir("ca.srl"), ""});
  ASSERT_FALSE(not_pem.ok());
  EXPECT_NE(not_pem.status().message().find("PEM"), std::string::npos)
      << not_pem.status().message();
}

}  // namespace
}  // namespace nds::net
