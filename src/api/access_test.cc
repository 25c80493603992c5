// Goal: the access rules (which role each route needs, prefixed tokens) and the token records and
// names are exactly as docs/api.md says. Method: table tests of the pure pieces, no node.
#include "api/access.h"

#include <string>

#include <gtest/gtest.h>

#include "crypto/access_token.h"
#include "store/auth_state.h"

namespace nds::api {
namespace {

using store::TokenRole;

TEST(Access, RoutesNeedTheRolesOfTheTable) {
  struct Row {
    const char* method;
    const char* target;
    bool open;
    TokenRole role;
  };
  const Row rows[] = {
      {"GET", "/healthz", true, TokenRole::kRead},
      {"GET", "/readyz", true, TokenRole::kRead},
      {"GET", "/role", true, TokenRole::kRead},
      {"GET", "/metrics", true, TokenRole::kRead},
      {"POST", "/cluster/members", true, TokenRole::kRead},
      {"GET", "/store/k", false, TokenRole::kRead},
      {"HEAD", "/store/k", false, TokenRole::kRead},
      {"PUT", "/store/k", false, TokenRole::kWrite},
      {"POST", "/store/k", false, TokenRole::kWrite},
      {"DELETE", "/store/k", false, TokenRole::kWrite},
      {"PATCH", "/store/k", false, TokenRole::kWrite},
      {"GET", "/keys", false, TokenRole::kRead},
      {"GET", "/getAll", false, TokenRole::kRead},
      {"GET", "/get?k=a", false, TokenRole::kRead},
      {"GET", "/is?k=a", false, TokenRole::kRead},
      {"GET", "/set?k=a&v=1", false, TokenRole::kWrite},
      {"GET", "/rm?k=a", false, TokenRole::kWrite},
      {"GET", "/clear", false, TokenRole::kAdmin},
      {"GET", "/secrets/s", false, TokenRole::kWrite},
      {"POST", "/secrets/s", false, TokenRole::kWrite},
      {"GET", "/status", false, TokenRole::kRead},
      {"GET", "/cluster/members", false, TokenRole::kRead},
      {"DELETE", "/cluster/members/2", false, TokenRole::kAdmin},
      {"POST", "/cluster/leader", false, TokenRole::kAdmin},
      {"GET", "/auth/tokens", false, TokenRole::kAdmin},
      {"POST", "/auth/tokens", false, TokenRole::kAdmin},
      {"DELETE", "/auth/tokens/x", false, TokenRole::kAdmin},
      {"GET", "/snapshot", false, TokenRole::kAdmin},
      {"GET", "/ui/", true, TokenRole::kRead},
      {"GET", "/ui/app.js", true, TokenRole::kRead},
      {"GET", "/ui/data", false, TokenRole::kRead},
      {"POST", "/txn", false, TokenRole::kWrite},
      {"POST", "/ui/", false, TokenRole::kAdmin},
      {"GET", "/unknown", false, TokenRole::kRead},
      {"POST", "/unknown", false, TokenRole::kAdmin},
  };
  for (const Row& r : rows) {
    AccessNeed need = NeedFor(r.method, *ParseTarget(r.target));
    EXPECT_EQ(need.open, r.open) << r.method << " " << r.target;
    if (!r.open) {
      EXPECT_EQ(need.role, r.role) << r.method << " " << r.target;
    }
  }
  EXPECT_EQ(*NeedFor("GET", *ParseTarget("/store/a%2Fb")).key, "a/b");
  EXPECT_EQ(*NeedFor("GET", *ParseTarget("/set?k=a+b&v=1")).key, "a b");
  EXPECT_FALSE(NeedFor("GET", *ParseTarget("/store/%zz")).key.has_value());
  EXPECT_TRUE(NeedFor("GET", *ParseTarget("/getKeys")).listing);
}

TEST(Access, PrefixedTokensTouchOnlyTheirKeys) {
  store::TokenRecord writer{TokenRole::kWrite, "a/", std::string(32, 'h')};
  auto need = [](const char* method, const char* target) {
    return NeedFor(method, *ParseTarget(target));
  };
  EXPECT_EQ(Forbidden(writer, need("PUT", "/store/a/x"), std::nullopt), "");
  EXPECT_NE(Forbidden(writer, need("PUT", "/store/b/x"), std::nullopt), "");
  EXPECT_NE(Forbidden(writer, need("PUT", "/store/a"), std::nullopt), "");
  EXPECT_NE(Forbidden(writer, need("GET", "/store/%zz"), std::nullopt), "");  // fails closed
  EXPECT_NE(Forbidden(writer, need("GET", "/clear"), std::nullopt), "");
  EXPECT_EQ(Forbidden(writer, need("GET", "/keys"), "a/b"), "");
  EXPECT_NE(Forbidden(writer, need("GET", "/keys"), "b"), "");
  EXPECT_NE(Forbidden(writer, need("GET", "/keys"), ""), "");
  EXPECT_EQ(Forbidden(writer, need("GET", "/keys"), std::nullopt), "");  // clamped by the service
  store::TokenRecord reader{TokenRole::kRead, "", std::string(32, 'h')};
  EXPECT_EQ(Forbidden(reader, need("GET", "/getAll"), std::nullopt), "");
  EXPECT_NE(Forbidden(reader, need("GET", "/set?k=a&v=1"), std::nullopt), "");
  EXPECT_NE(Forbidden(reader, need("POST", "/secrets/s"), std::nullopt), "");
}

TEST(AccessToken, NamesAndSecretsParseAndHashesMatchInConstantTime) {
  std::string t = crypto::GenerateAccessToken("ci-bot");
  EXPECT_EQ(*crypto::AccessTokenName(t), "ci-bot");
  EXPECT_NE(crypto::GenerateAccessToken("ci-bot"), t);
  EXPECT_TRUE(crypto::AccessTokenMatches(crypto::HashAccessToken(t), t));
  EXPECT_FALSE(crypto::AccessTokenMatches(crypto::HashAccessToken(t), t + "x"));
  for (const std::string& bad :
       {std::string("no-dot"), std::string(".") + std::string(43, 'a'),
        std::string("n.") + std::string(42, 'a'), std::string("n.") + std::string(43, '+'),
        std::string("n.") + std::string(257, 'a')}) {
    EXPECT_FALSE(crypto::AccessTokenName(bad).has_value()) << bad;
  }
}

TEST(TokenRecords, RoundTripAndRejectDamage) {
  store::TokenRecord r{TokenRole::kWrite, "p/", std::string(32, '\x07')};
  std::string bytes = store::EncodeTokenRecord(r);
  EXPECT_EQ(*store::DecodeTokenRecord(bytes), r);
  EXPECT_FALSE(store::DecodeTokenRecord(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(store::DecodeTokenRecord(bytes + "x").ok());
  std::string bad_role = bytes;
  bad_role[1] = 9;
  EXPECT_FALSE(store::DecodeTokenRecord(bad_role).ok());
  EXPECT_FALSE(store::ValidateTokenName("").ok());
  EXPECT_FALSE(store::ValidateTokenName("a.b").ok());
  EXPECT_FALSE(store::ValidateTokenName(std::string(65, 'a')).ok());
  EXPECT_TRUE(store::ValidateTokenName("Ci_bot-2").ok());
  EXPECT_FALSE(store::ValidateTokenScope(TokenRole::kAdmin, "p").ok());
  EXPECT_FALSE(store::ValidateTokenScope(TokenRole::kRead, std::string(1025, 'p')).ok());
}
}  // namespace
}  // namespace nds::api
