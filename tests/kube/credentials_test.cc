#include "kube/credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time_format.h"
#include "kube/encoding.h"
#include "kube/exec_plugin.h"
#include "testing/status_matchers.h"

namespace gpufleet::kube {
namespace {

namespace fs = std::filesystem;
using ::gpufleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr char kV1[] = "client.authentication.k8s.io/v1";
constexpr char kV1beta1[] = "client.authentication.k8s.io/v1beta1";

fs::path TestdataDir() {
  if (const char* src = std::getenv("GPUFLEET_SOURCE_DIR")) {
    return fs::path(src) / "tests" / "kube" / "testdata";
  }
  return fs::path(__FILE__).parent_path() / "testdata";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("credentials_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    core::log::Configure(core::log::Level::kInfo, core::log::Format::kConsole);
    fs::remove_all(dir_);
  }
  void Write(const fs::path& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
  }

  // A config whose exec plugin is the fake script run by /bin/sh with `mode` (and extra args).
  RestConfig ExecConfigFor(const std::string& mode, std::vector<std::string> extra = {}) {
    RestConfig config;
    config.server = "https://gpu.example:6443";
    config.source = "test";
    ExecConfig exec;
    exec.api_version = kV1;
    exec.command = "/bin/sh";
    exec.args = {(TestdataDir() / "fake_exec_plugin.sh").string(), dir_.string(), mode};
    for (std::string& a : extra) exec.args.push_back(std::move(a));
    exec.interactive_mode = "Never";
    config.exec = std::move(exec);
    return config;
  }
  // How many times the fake plugin ran.
  int Runs() const {
    std::ifstream in(dir_ / "runs");
    int n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }
  std::unique_ptr<CredentialSource> Make(const RestConfig& config,
                                         std::chrono::milliseconds timeout = 10s) {
    CredentialSourceOptions options;
    options.exec_timeout = timeout;
    return MakeCredentialSource(config, clock_, options);
  }
  std::string Token(CredentialSource& source) {
    Result<Credentials> c = source.Current();
    if (!c.ok()) return "error: " + c.status().ToString();
    return c->bearer_token;
  }

  fs::path dir_;
  core::FakeClock clock_;  // 2026-01-01T00:00:00Z
};

TEST_F(CredentialsTest, StaticTokenAndCertificate) {
  RestConfig config;
  config.token = "static";
  config.client_cert_pem = "CERT";
  config.client_key_pem = "KEY";
  auto source = Make(config);
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, source->Current());
  EXPECT_EQ(c, (Credentials{"static", "CERT", "KEY"}));
  source->OnUnauthorized(c);
  EXPECT_EQ(Token(*source), "static");
}

TEST_F(CredentialsTest, NothingConfiguredIsAnonymous) {
  auto source = Make(RestConfig{});
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, source->Current());
  EXPECT_EQ(c, Credentials{});
}

TEST_F(CredentialsTest, TokenFileIsReReadOnlyAfterAMinute) {
  RestConfig config;
  config.token_file = (dir_ / "token").string();
  config.client_cert_pem = "CERT";
  config.client_key_pem = "KEY";
  Write(dir_ / "token", "token-1\n");
  auto source = Make(config);
  GF_ASSERT_OK_AND_ASSIGN(Credentials first, source->Current());
  EXPECT_EQ(first, (Credentials{"token-1", "CERT", "KEY"}));

  Write(dir_ / "token", "token-2\n");
  clock_.Advance(59s);
  EXPECT_EQ(Token(*source), "token-1");
  clock_.Advance(1s);
  EXPECT_EQ(Token(*source), "token-2");
  Write(dir_ / "token", "token-3");
  clock_.Advance(30s);
  EXPECT_EQ(Token(*source), "token-2");
}

TEST_F(CredentialsTest, TokenFileIsReReadAfterUnauthorized) {
  RestConfig config;
  config.token_file = (dir_ / "token").string();
  Write(dir_ / "token", "token-1");
  auto source = Make(config);
  EXPECT_EQ(Token(*source), "token-1");
  Write(dir_ / "token", "token-2");
  EXPECT_EQ(Token(*source), "token-1");
  source->OnUnauthorized(Credentials{.bearer_token = "token-1"});
  EXPECT_EQ(Token(*source), "token-2");
  // A late 401 for the token already replaced does not force another read.
  Write(dir_ / "token", "token-3");
  source->OnUnauthorized(Credentials{.bearer_token = "token-1"});
  EXPECT_EQ(Token(*source), "token-2");
}

TEST_F(CredentialsTest, TokenFileWinsOverStaticTokenWhileReadable) {
  RestConfig config;
  config.token = "static";
  config.token_file = (dir_ / "token").string();
  auto source = Make(config);
  // Not there yet: the static token is the fallback (client-go's bearerAuthRoundTripper).
  EXPECT_EQ(Token(*source), "static");
  Write(dir_ / "token", "from-file");
  EXPECT_EQ(Token(*source), "from-file");
  // Once read, a vanished file keeps the last token rather than the static one.
  fs::remove(dir_ / "token");
  clock_.Advance(2min);
  EXPECT_EQ(Token(*source), "from-file");
}

TEST_F(CredentialsTest, TokenFileThatCannotBeReadIsAnErrorWithoutFallback) {
  RestConfig config;
  config.token_file = (dir_ / "missing").string();
  auto source = Make(config);
  EXPECT_THAT(source->Current(),
              StatusIs(StatusCode::kNotFound, HasSubstr((dir_ / "missing").string())));
  Write(dir_ / "missing", " \n");
  EXPECT_THAT(source->Current(), StatusIs(StatusCode::kUnavailable, HasSubstr("is empty")));
}

TEST_F(CredentialsTest, StaticCredentialsDisableTheExecPlugin) {
  RestConfig config = ExecConfigFor("fail");
  config.token = "static";
  auto source = Make(config);
  EXPECT_EQ(Token(*source), "static");
  EXPECT_EQ(Runs(), 0);
}

TEST_F(CredentialsTest, ExecTokenIsCachedUntilExpiry) {
  RestConfig config = ExecConfigFor("token");
  config.exec->env = {{"FAKE_PLUGIN_EXPIRY", "2026-01-01T00:10:00Z"}};
  auto source = Make(config);
  EXPECT_EQ(Token(*source), "token-1");
  EXPECT_EQ(Token(*source), "token-1");
  clock_.Advance(10min);  // exactly at the expiry: still valid (client-go: now.After(exp))
  EXPECT_EQ(Token(*source), "token-1");
  EXPECT_EQ(Runs(), 1);
  clock_.Advance(1s);
  EXPECT_EQ(Token(*source), "token-2");
  EXPECT_EQ(Runs(), 2);
}

TEST_F(CredentialsTest, ExecIsReRunAfterUnauthorized) {
  RestConfig config = ExecConfigFor("token");
  config.exec->env = {{"FAKE_PLUGIN_EXPIRY", "2026-01-01T01:00:00Z"}};
  auto source = Make(config);
  EXPECT_EQ(Token(*source), "token-1");
  source->OnUnauthorized(Credentials{.bearer_token = "token-1"});
  EXPECT_EQ(Token(*source), "token-2");
  EXPECT_EQ(Token(*source), "token-2");
  EXPECT_EQ(Runs(), 2);
  // Other requests that were sent with token-1 fail late: the plugin does not run again.
  source->OnUnauthorized(Credentials{.bearer_token = "token-1"});
  source->OnUnauthorized(Credentials{.bearer_token = "token-1"});
  EXPECT_EQ(Token(*source), "token-2");
  EXPECT_EQ(Runs(), 2);
}

TEST_F(CredentialsTest, ExecWithoutExpiryIsCachedUntilUnauthorized) {
  auto source = Make(ExecConfigFor("token"));
  EXPECT_EQ(Token(*source), "token-1");
  clock_.Advance(24h * 365);
  EXPECT_EQ(Token(*source), "token-1");
  source->OnUnauthorized(Credentials{.bearer_token = "token-1"});
  EXPECT_EQ(Token(*source), "token-2");
}

TEST_F(CredentialsTest, ExecInfoWithoutClusterInfo) {
  auto source = Make(ExecConfigFor("token"));
  EXPECT_EQ(Token(*source), "token-1");
  GF_ASSERT_OK_AND_ASSIGN(nlohmann::json info, core::ParseJson(ReadFile(dir_ / "exec_info.json")));
  EXPECT_EQ(info, nlohmann::json::parse(R"({"apiVersion":"client.authentication.k8s.io/v1",
      "kind":"ExecCredential","spec":{"interactive":false}})"));
}

TEST_F(CredentialsTest, ExecInfoWithClusterInfo) {
  RestConfig config = ExecConfigFor("token");
  config.exec->api_version = kV1beta1;
  config.exec->provide_cluster_info = true;
  config.exec->env = {{"FAKE_PLUGIN_API_VERSION", kV1beta1}};
  config.ca_pem = ReadFile(TestdataDir() / "ca.crt");
  config.tls_server_name = "api.internal";
  config.proxy_url = "http://proxy:3128";
  auto source = Make(config);
  EXPECT_EQ(Token(*source), "token-1");
  GF_ASSERT_OK_AND_ASSIGN(nlohmann::json info, core::ParseJson(ReadFile(dir_ / "exec_info.json")));
  EXPECT_EQ(info["apiVersion"], kV1beta1);
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
  const nlohmann::json& cluster = info["spec"]["cluster"];
  EXPECT_EQ(cluster["server"], "https://gpu.example:6443");
  EXPECT_EQ(cluster["tls-server-name"], "api.internal");
  EXPECT_EQ(cluster["proxy-url"], "http://proxy:3128");
  EXPECT_EQ(cluster["certificate-authority-data"], Base64Encode(config.ca_pem));
  EXPECT_FALSE(cluster.contains("insecure-skip-tls-verify"));
}

TEST_F(CredentialsTest, ExecClientCertificate) {
  RestConfig config = ExecConfigFor(
      "cert", {(TestdataDir() / "client.crt").string(), (TestdataDir() / "client.key").string()});
  auto source = Make(config);
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, source->Current());
  EXPECT_EQ(c.bearer_token, "");
  EXPECT_EQ(c.client_cert_pem, ReadFile(TestdataDir() / "client.crt"));
  EXPECT_EQ(c.client_key_pem, ReadFile(TestdataDir() / "client.key"));

  RestConfig mismatched = ExecConfigFor(
      "cert", {(TestdataDir() / "client.crt").string(), (TestdataDir() / "other.key").string()});
  EXPECT_THAT(Make(mismatched)->Current(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("does not match")));
}

TEST_F(CredentialsTest, FailingPluginNamesTheCommandAndLogsStderrAtDebug) {
  std::ostringstream log;
  core::log::Configure(core::log::Level::kDebug, core::log::Format::kConsole, &log);
  auto source = Make(ExecConfigFor("fail"));
  EXPECT_THAT(source->Current(),
              StatusIs(StatusCode::kUnavailable,
                       AllOf(HasSubstr("exec plugin \"/bin/sh\" failed with exit code 1"),
                             HasSubstr("run 'fake-plugin login'"))));
  EXPECT_THAT(log.str(), AllOf(HasSubstr("exec plugin stderr"),
                               HasSubstr("credentials for profile gpu have expired")));
  // A failure caches nothing: the next call runs the plugin again.
  EXPECT_THAT(source->Current(), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(Runs(), 2);
}

TEST_F(CredentialsTest, MissingCommandShowsTheInstallHint) {
  RestConfig config = ExecConfigFor("token");
  config.exec->command = "gpufleet-no-such-credential-plugin";
  config.exec->install_hint = "Install it with: apt install gpufleet-auth";
  EXPECT_THAT(Make(config)->Current(),
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("exec plugin \"gpufleet-no-such-credential-plugin\""),
                             HasSubstr("not found in $PATH"),
                             HasSubstr("Install it with: apt install gpufleet-auth"))));
  config.exec->command = (dir_ / "bin" / "plugin").string();
  EXPECT_THAT(Make(config)->Current(),
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(config.exec->command), HasSubstr("no such file"),
                             HasSubstr("apt install gpufleet-auth"))));
}

TEST_F(CredentialsTest, BareCommandIsFoundInPath) {
  RestConfig config = ExecConfigFor("token");
  config.exec->command = "sh";
  EXPECT_EQ(Token(*Make(config)), "token-1");
}

TEST_F(CredentialsTest, PluginThatHangsIsKilledAtTheTimeout) {
  auto source = Make(ExecConfigFor("hang"), 300ms);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(source->Current(),
              StatusIs(StatusCode::kDeadlineExceeded,
                       AllOf(HasSubstr("exec plugin \"/bin/sh\""), HasSubstr("300ms"))));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST_F(CredentialsTest, NoisyStderrDoesNotDeadlock) {
  EXPECT_EQ(Token(*Make(ExecConfigFor("noisy"))), "token-1");
}

TEST_F(CredentialsTest, BadOutputIsAnError) {
  EXPECT_THAT(Make(ExecConfigFor("badjson"))->Current(),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("exec plugin \"/bin/sh\""), HasSubstr("decoding stdout"))));
  RestConfig wrong = ExecConfigFor("token");
  wrong.exec->env = {{"FAKE_PLUGIN_API_VERSION", kV1beta1}};
  EXPECT_THAT(Make(wrong)->Current(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("is configured to use API version client.authentication.k8s.io/"
                                 "v1, plugin returned version \"client.authentication.k8s.io/"
                                 "v1beta1\"")));
}

TEST_F(CredentialsTest, InteractiveModeAlwaysIsRefused) {
  RestConfig config = ExecConfigFor("token");
  config.exec->interactive_mode = "Always";
  EXPECT_THAT(Make(config)->Current(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("interactiveMode Always")));
  EXPECT_EQ(Runs(), 0);
}

TEST_F(CredentialsTest, ConcurrentCallersRunThePluginOnce) {
  RestConfig config = ExecConfigFor("token");
  config.exec->env = {{"FAKE_PLUGIN_SLEEP", "0.3"}, {"FAKE_PLUGIN_EXPIRY", "2026-01-01T00:10:00Z"}};
  auto source = Make(config);
  auto race = [&] {
    std::string a, b;
    std::thread t1([&] { a = Token(*source); });
    std::thread t2([&] { b = Token(*source); });
    t1.join();
    t2.join();
    return std::make_pair(a, b);
  };
  EXPECT_EQ(race(), std::make_pair(std::string("token-1"), std::string("token-1")));
  EXPECT_EQ(Runs(), 1);
  source->OnUnauthorized(Credentials{.bearer_token = "token-1"});  // the next pair share one new run
  EXPECT_EQ(race(), std::make_pair(std::string("token-2"), std::string("token-2")));
  EXPECT_EQ(Runs(), 2);
}

TEST(ExecCredentialParseTest, RejectsIncompleteResponses) {
  auto parse = [](const std::string& status) {
    return ParseExecCredential(
        R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential")" + status + "}",
        kV1, "plugin");
  };
  EXPECT_THAT(parse(""), StatusIs(StatusCode::kInvalidArgument,
                                  "exec plugin \"plugin\" didn't return a status field"));
  EXPECT_THAT(parse(R"(,"status":{})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("didn't return a token")));
  EXPECT_THAT(parse(R"(,"status":{"clientCertificateData":"x"})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("only certificate or key")));
  EXPECT_THAT(parse(R"(,"status":{"token":"t","expirationTimestamp":"tomorrow"})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("status.expirationTimestamp")));
  EXPECT_THAT(ParseExecCredential(R"({"apiVersion":"client.authentication.k8s.io/v1",
                  "kind":"Pod","status":{"token":"t"}})",
                                  kV1, "plugin"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("want ExecCredential")));
  GF_ASSERT_OK_AND_ASSIGN(
      ExecCredentialResponse ok,
      parse(R"(,"status":{"token":"t","expirationTimestamp":"2026-01-01T00:10:00Z"})"));
  EXPECT_EQ(ok.credentials.bearer_token, "t");
  ASSERT_TRUE(ok.expiration.has_value());
  EXPECT_EQ(core::FormatRfc3339(*ok.expiration), "2026-01-01T00:10:00Z");
}

}  // namespace
}  // namespace gpufleet::kube
