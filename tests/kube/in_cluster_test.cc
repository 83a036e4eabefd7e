#include "kube/in_cluster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/clock.h"
#include "kube/credentials.h"
#include "testing/status_matchers.h"

namespace gpufleet::kube {
namespace {

namespace fs = std::filesystem;
using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string ReadTestdata(const std::string& name) {
  fs::path dir = std::getenv("GPUFLEET_SOURCE_DIR") != nullptr
                     ? fs::path(std::getenv("GPUFLEET_SOURCE_DIR")) / "tests" / "kube" / "testdata"
                     : fs::path(__FILE__).parent_path() / "testdata";
  std::ifstream in(dir / name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class InClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("in_cluster_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Write("token", "sa-token-1\n");
    Write("ca.crt", ReadTestdata("ca.crt"));
    env_ = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
  }
  Result<RestConfig> Load() {
    InClusterOptions options;
    options.service_account_dir = dir_;
    options.getenv = [env = env_](std::string_view name) -> std::optional<std::string> {
      auto it = env.find(std::string(name));
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    return InClusterConfig(options);
  }

  fs::path dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(InClusterTest, BuildsServerTokenAndCa) {
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc, Load());
  EXPECT_EQ(rc.server, "https://10.96.0.1:443");
  EXPECT_EQ(rc.token, "sa-token-1");
  EXPECT_EQ(rc.token_file, (dir_ / "token").string());
  EXPECT_EQ(rc.ca_pem, ReadTestdata("ca.crt"));
  EXPECT_EQ(rc.source, "in-cluster");
  EXPECT_FALSE(rc.insecure_skip_tls_verify);
  EXPECT_FALSE(rc.exec.has_value());
}

TEST_F(InClusterTest, Ipv6HostIsBracketed) {
  env_["KUBERNETES_SERVICE_HOST"] = "fd00:10:96::1";
  env_["KUBERNETES_SERVICE_PORT"] = "6443";
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc, Load());
  EXPECT_EQ(rc.server, "https://[fd00:10:96::1]:6443");
}

TEST_F(InClusterTest, OutsideAClusterIsFailedPrecondition) {
  env_.erase("KUBERNETES_SERVICE_HOST");
  EXPECT_THAT(Load(), StatusIs(StatusCode::kFailedPrecondition,
                               HasSubstr("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT")));
  env_["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
  env_["KUBERNETES_SERVICE_PORT"] = "";
  EXPECT_THAT(Load(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(InClusterTest, TokenMustBeReadable) {
  fs::remove(dir_ / "token");
  EXPECT_THAT(Load(), StatusIs(StatusCode::kNotFound, HasSubstr((dir_ / "token").string())));
  Write("token", "\n");
  EXPECT_THAT(Load(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("is empty")));
}

TEST_F(InClusterTest, MissingOrBadCaFallsBackToSystemRoots) {
  fs::remove(dir_ / "ca.crt");
  GF_ASSERT_OK_AND_ASSIGN(RestConfig missing, Load());
  EXPECT_EQ(missing.ca_pem, "");
  Write("ca.crt", "not a certificate");
  GF_ASSERT_OK_AND_ASSIGN(RestConfig bad, Load());
  EXPECT_EQ(bad.ca_pem, "");
}

TEST_F(InClusterTest, RotatedTokenIsPickedUpWithinAMinute) {
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc, Load());
  core::FakeClock clock;
  auto source = MakeCredentialSource(rc, clock);
  GF_ASSERT_OK_AND_ASSIGN(Credentials first, source->Current());
  EXPECT_EQ(first.bearer_token, "sa-token-1");
  Write("token", "sa-token-2\n");  // the kubelet rotates the projected token
  clock.Advance(30s);
  GF_ASSERT_OK_AND_ASSIGN(Credentials cached, source->Current());
  EXPECT_EQ(cached.bearer_token, "sa-token-1");
  clock.Advance(31s);
  GF_ASSERT_OK_AND_ASSIGN(Credentials rotated, source->Current());
  EXPECT_EQ(rotated.bearer_token, "sa-token-2");
}

}  // namespace
}  // namespace gpufleet::kube
