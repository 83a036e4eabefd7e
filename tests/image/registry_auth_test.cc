// WWW-Authenticate challenges and auth files as registries and docker/podman write them; a bad
// auth file is named without showing its secret.
#include "image/registry_auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace gpufleet::image {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RegistryAuth, ParsesChallenges) {
  auto c = ParseChallenges(R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c[0].params["scope"], "repository:library/ubuntu:pull");
  c = ParseChallenges(R"(Basic realm="Registry Realm", Bearer realm="https://x/token", service=x)");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "Registry Realm");
  EXPECT_EQ(c[1].params["service"], "x");
  EXPECT_TRUE(ParseChallenges("").empty());
  EXPECT_EQ(ParseChallenges(R"(Bearer realm="unterminated)").size(), 1u);
}

TEST(RegistryAuth, AuthFiles) {
  const std::string dir = ::testing::TempDir() + "/gpufleet-auth-test";
  std::filesystem::create_directories(dir);
  const std::string a = dir + "/auth.json", b = dir + "/config.json";
  std::ofstream(a) << R"({"auths":{"registry.example.com":{"auth":"dXNlcjpwYXNzOndpdGg6Y29sb25z"}}})";  // user:pass:with:colons
  std::ofstream(b) << R"({"auths":{"https://index.docker.io/v1/":{"username":"hub","password":"pw"},
                          "ghcr.io":{"identitytoken":"refresh"}}})";
  auto c = LookupCredentials("registry.example.com", {a, b});
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->username, "user");
  EXPECT_EQ((*c)->password, "pass:with:colons");
  c = LookupCredentials("docker.io", {a, b});
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->username, "hub");
  EXPECT_EQ(LookupCredentials("ghcr.io", {a, b})->value().identity_token, "refresh");
  EXPECT_FALSE(LookupCredentials("other.io", {a, b, dir + "/missing.json"})->has_value());

  std::ofstream(a) << R"({"auths":{"bad.io":{"auth":"c2VjcmV0LW5vLWNvbG9u"}}})";  // "secret-no-colon"
  auto bad = LookupCredentials("bad.io", {a});
  EXPECT_THAT(bad.status().message(), HasSubstr(a));
  EXPECT_THAT(bad.status().message(), Not(HasSubstr("secret")));
  std::ofstream(a) << "{not json";
  EXPECT_THAT(LookupCredentials("x", {a}).status().message(), HasSubstr(a));
}

TEST(RegistryAuth, TokenAnswers) {
  EXPECT_EQ(*ParseTokenResponse(R"({"token":"abc","expires_in":300})"), "abc");
  EXPECT_EQ(*ParseTokenResponse(R"({"access_token":"xyz"})"), "xyz");
  EXPECT_FALSE(ParseTokenResponse("<html>").ok());
  EXPECT_FALSE(ParseTokenResponse(R"({"token":""})").ok());
}

}  // namespace
}  // namespace gpufleet::image
