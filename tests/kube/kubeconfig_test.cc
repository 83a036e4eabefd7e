#include "kube/kubeconfig.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "kube/encoding.h"
#include "testing/status_matchers.h"

namespace gpufleet::kube {
namespace {

namespace fs = std::filesystem;
using ::gpufleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

fs::path TestdataDir() {
  if (const char* src = std::getenv("GPUFLEET_SOURCE_DIR")) {
    return fs::path(src) / "tests" / "kube" / "testdata";
  }
  return fs::path(__FILE__).parent_path() / "testdata";
}

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(TestdataDir() / name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A one-context kubeconfig: cluster "gpu" at https://gpu.example:6443, context "gpu", with the
// given YAML (indented 4) as the body of user "admin".
std::string OneContext(const std::string& user_body, const std::string& cluster_extra = "") {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: gpu\n"
         "  cluster:\n"
         "    server: https://gpu.example:6443\n" +
         cluster_extra +
         "contexts:\n"
         "- name: gpu\n"
         "  context: {cluster: gpu, user: admin}\n"
         "current-context: gpu\n"
         "users:\n"
         "- name: admin\n"
         "  user:\n" +
         user_body;
}

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("kubeconfig_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& relative, const std::string& content) {
    fs::path path = dir_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  // Copies ca.crt, client.crt, client.key and other.key from testdata into `relative_dir`.
  void CopyCerts(const std::string& relative_dir) {
    for (const char* name : {"ca.crt", "client.crt", "client.key", "other.key"}) {
      Write(relative_dir + "/" + name, ReadTestdata(name));
    }
  }

  KubeconfigOptions Env(std::map<std::string, std::string> env) {
    KubeconfigOptions options;
    options.getenv = [env = std::move(env)](std::string_view name) -> std::optional<std::string> {
      auto it = env.find(std::string(name));
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    return options;
  }
  Result<RestConfig> LoadFile(const fs::path& path, const std::string& context = "") {
    KubeconfigOptions options = Env({});
    options.paths = {path};
    options.context = context;
    return LoadKubeconfig(options);
  }
  Result<RestConfig> LoadContent(const std::string& content) {
    return LoadFile(Write("config", content));
  }

  fs::path dir_;
};

TEST_F(KubeconfigTest, TokenUserFromExplicitPath) {
  CopyCerts("certs");
  fs::path config = Write("config", OneContext("    token: static-token\n",
                                               "    certificate-authority: certs/ca.crt\n"));
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc, LoadFile(config));
  EXPECT_EQ(rc.server, "https://gpu.example:6443");
  EXPECT_EQ(rc.token, "static-token");
  EXPECT_EQ(rc.token_file, "");
  EXPECT_EQ(rc.ca_pem, ReadTestdata("ca.crt"));
  EXPECT_FALSE(rc.insecure_skip_tls_verify);
  EXPECT_FALSE(rc.exec.has_value());
  EXPECT_EQ(rc.source, "kubeconfig " + config.string() + " (context gpu)");
}

// Two files that both define cluster "shared", context "both" and a current-context.
class KubeconfigMergeTest : public KubeconfigTest {
 protected:
  void SetUp() override {
    KubeconfigTest::SetUp();
    a_ = Write("a/config",
               "clusters:\n"
               "- {name: shared, cluster: {server: 'https://a.example'}}\n"
               "contexts:\n"
               "- {name: ctx-a, context: {cluster: shared, user: user-a}}\n"
               "- {name: both, context: {cluster: shared, user: user-a}}\n"
               "users:\n"
               "- {name: user-a, user: {token: token-a}}\n"
               "current-context: ctx-a\n");
    b_ = Write("b/config",
               "clusters:\n"
               "- {name: shared, cluster: {server: 'https://b.example'}}\n"
               "- {name: only-b, cluster: {server: 'https://only-b.example'}}\n"
               "contexts:\n"
               "- {name: ctx-b, context: {cluster: only-b, user: user-b}}\n"
               "- {name: both, context: {cluster: only-b, user: user-b}}\n"
               "- {name: mixed, context: {cluster: shared, user: user-b}}\n"
               "users:\n"
               "- {name: user-a, user: {token: token-a-from-b}}\n"
               "- {name: user-b, user: {token: token-b}}\n"
               "current-context: ctx-b\n");
  }
  Result<RestConfig> Load(const std::string& kubeconfig, const std::string& context = "") {
    KubeconfigOptions options = Env({{"KUBECONFIG", kubeconfig}, {"HOME", dir_.string()}});
    options.context = context;
    return LoadKubeconfig(options);
  }
  fs::path a_, b_;
};

TEST_F(KubeconfigMergeTest, FirstFileWinsForMapsAndCurrentContext) {
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc, Load(a_.string() + ":" + b_.string()));
  EXPECT_EQ(rc.server, "https://a.example");  // current-context ctx-a, cluster shared from a
  EXPECT_EQ(rc.token, "token-a");             // user-a from a, not from b
  EXPECT_EQ(rc.source, "kubeconfig " + a_.string() + " (context ctx-a)");

  GF_ASSERT_OK_AND_ASSIGN(RestConfig reversed, Load(b_.string() + ":" + a_.string()));
  EXPECT_EQ(reversed.server, "https://only-b.example");  // current-context ctx-b
  EXPECT_EQ(reversed.token, "token-b");
}

TEST_F(KubeconfigMergeTest, EntriesFromLaterFilesAreUsableAndMixWithEarlierOnes) {
  // Context "both" is defined in both files: a's wins as a whole.
  GF_ASSERT_OK_AND_ASSIGN(RestConfig both, Load(a_.string() + ":" + b_.string(), "both"));
  EXPECT_EQ(both.server, "https://a.example");
  EXPECT_EQ(both.token, "token-a");
  // Context "mixed" exists only in b; it names cluster "shared", which a defines first.
  GF_ASSERT_OK_AND_ASSIGN(RestConfig mixed, Load(a_.string() + ":" + b_.string(), "mixed"));
  EXPECT_EQ(mixed.server, "https://a.example");
  EXPECT_EQ(mixed.token, "token-b");
  EXPECT_EQ(mixed.source, "kubeconfig " + b_.string() + " (context mixed)");
}

TEST_F(KubeconfigMergeTest, CurrentContextComesFromTheFirstFileThatSetsIt) {
  fs::path none = Write("none/config", "clusters: []\n");
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc,
                          Load(none.string() + ":" + b_.string() + ":" + a_.string()));
  EXPECT_EQ(rc.server, "https://only-b.example");
}

TEST_F(KubeconfigMergeTest, MissingFilesEmptyEntriesAndDuplicatesAreSkipped) {
  fs::path empty = Write("empty/config", "");
  const std::string list = "::" + (dir_ / "missing").string() + ":" + empty.string() + ":" +
                           b_.string() + ":" + b_.string() + ":" + a_.string() + ":";
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc, Load(list));
  EXPECT_EQ(rc.server, "https://only-b.example");
}

TEST_F(KubeconfigMergeTest, ListWhereNoFileExistsIsNotFound) {
  EXPECT_THAT(Load((dir_ / "x").string() + ":" + (dir_ / "y").string()),
              StatusIs(StatusCode::kNotFound, HasSubstr("no kubeconfig file found (KUBECONFIG=")));
}

TEST_F(KubeconfigMergeTest, ExplicitPathWinsOverKubeconfigEnv) {
  KubeconfigOptions options = Env({{"KUBECONFIG", a_.string()}});
  options.paths = {b_};
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc, LoadKubeconfig(options));
  EXPECT_EQ(rc.server, "https://only-b.example");
}

TEST_F(KubeconfigMergeTest, ContextOverride) {
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc, Load(a_.string() + ":" + b_.string(), "ctx-b"));
  EXPECT_EQ(rc.server, "https://only-b.example");
  EXPECT_EQ(rc.token, "token-b");
  EXPECT_THAT(
      Load(a_.string(), "nope"),
      StatusIs(StatusCode::kNotFound, HasSubstr("context \"nope\" (--context) does not exist")));
}

TEST_F(KubeconfigTest, MissingExplicitFileIsNotFound) {
  KubeconfigOptions options = Env({{"KUBECONFIG", Write("config", OneContext("")).string()}});
  options.paths = {dir_ / "missing"};
  EXPECT_THAT(LoadKubeconfig(options),
              StatusIs(StatusCode::kNotFound, HasSubstr((dir_ / "missing").string())));
}

TEST_F(KubeconfigTest, DefaultsToHomeKubeConfig) {
  Write("home/.kube/config", OneContext("    token: from-home\n"));
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc, LoadKubeconfig(Env({{"HOME", (dir_ / "home").string()}})));
  EXPECT_EQ(rc.token, "from-home");
  // An empty KUBECONFIG is as good as unset.
  GF_ASSERT_OK_AND_ASSIGN(
      RestConfig again,
      LoadKubeconfig(Env({{"HOME", (dir_ / "home").string()}, {"KUBECONFIG", ""}})));
  EXPECT_EQ(again.token, "from-home");
}

TEST_F(KubeconfigTest, NoKubeconfigAnywhereIsNotFound) {
  EXPECT_THAT(LoadKubeconfig(Env({{"HOME", (dir_ / "nohome").string()}})),
              StatusIs(StatusCode::kNotFound, HasSubstr("no kubeconfig file found")));
  EXPECT_THAT(LoadKubeconfig(Env({})),
              StatusIs(StatusCode::kNotFound, HasSubstr("neither KUBECONFIG nor HOME is set")));
}

TEST_F(KubeconfigTest, RelativePathsResolveAgainstTheDefiningFile) {
  CopyCerts("one/certs");
  CopyCerts("two/pki");
  Write("two/tokens/t", "file-token\n");
  fs::path one = Write("one/config",
                       "clusters:\n"
                       "- name: c\n"
                       "  cluster: {server: 'https://c.example', certificate-authority: "
                       "certs/ca.crt}\n"
                       "contexts:\n"
                       "- {name: certs, context: {cluster: c, user: cert-user}}\n"
                       "- {name: token, context: {cluster: c, user: token-user}}\n"
                       "- {name: exec, context: {cluster: c, user: exec-user}}\n"
                       "- {name: path-exec, context: {cluster: c, user: path-exec-user}}\n"
                       "current-context: certs\n");
  fs::path two = Write("two/config",
                       "users:\n"
                       "- name: cert-user\n"
                       "  user: {client-certificate: pki/client.crt, client-key: "
                       "./pki/../pki/client.key}\n"
                       "- name: token-user\n"
                       "  user: {tokenFile: tokens/t}\n"
                       "- name: exec-user\n"
                       "  user:\n"
                       "    exec: {apiVersion: client.authentication.k8s.io/v1, command: "
                       "./bin/get-token, interactiveMode: Never}\n"
                       "- name: path-exec-user\n"
                       "  user:\n"
                       "    exec: {apiVersion: client.authentication.k8s.io/v1, command: aws, "
                       "interactiveMode: Never}\n");
  // The working directory is elsewhere: paths must not resolve against it.
  const std::string list = one.string() + ":" + two.string();
  auto load = [&](const std::string& context) {
    KubeconfigOptions options = Env({{"KUBECONFIG", list}});
    options.context = context;
    return LoadKubeconfig(options);
  };
  GF_ASSERT_OK_AND_ASSIGN(RestConfig certs, load("certs"));
  EXPECT_EQ(certs.ca_pem, ReadTestdata("ca.crt"));  // one/certs/ca.crt
  EXPECT_EQ(certs.client_cert_pem, ReadTestdata("client.crt"));
  EXPECT_EQ(certs.client_key_pem, ReadTestdata("client.key"));

  GF_ASSERT_OK_AND_ASSIGN(RestConfig token, load("token"));
  EXPECT_EQ(token.token_file, (dir_ / "two" / "tokens" / "t").string());
  EXPECT_EQ(token.token, "file-token");

  GF_ASSERT_OK_AND_ASSIGN(RestConfig exec, load("exec"));
  ASSERT_TRUE(exec.exec.has_value());
  EXPECT_EQ(exec.exec->command, (dir_ / "two" / "bin" / "get-token").string());

  GF_ASSERT_OK_AND_ASSIGN(RestConfig path_exec, load("path-exec"));
  ASSERT_TRUE(path_exec.exec.has_value());
  EXPECT_EQ(path_exec.exec->command, "aws");  // looked up in PATH later
}

TEST_F(KubeconfigTest, TokenFileIsReadNowAndKeptForRefresh) {
  fs::path token = Write("token", "  secret-from-file\n");
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc,
                          LoadContent(OneContext("    tokenFile: " + token.string() + "\n")));
  EXPECT_EQ(rc.token, "secret-from-file");
  EXPECT_EQ(rc.token_file, token.string());

  EXPECT_THAT(LoadContent(OneContext("    tokenFile: missing-token\n")),
              StatusIs(StatusCode::kNotFound,
                       AllOf(HasSubstr("users[0].user.tokenFile"), HasSubstr("missing-token"))));
  Write("empty-token", "\n");
  EXPECT_THAT(LoadContent(OneContext("    tokenFile: empty-token\n")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is empty")));
}

TEST_F(KubeconfigTest, TokenAndTokenFileAreBothKept) {
  // client-go does not read the file at load time when a token is given; the credential source
  // prefers the file whenever it is readable and falls back to the token.
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc, LoadContent(OneContext("    token: static\n"
                                                                "    tokenFile: not-yet\n")));
  EXPECT_EQ(rc.token, "static");
  EXPECT_EQ(rc.token_file, (dir_ / "not-yet").string());
}

TEST_F(KubeconfigTest, ClientCertificateFiles) {
  CopyCerts("certs");
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc,
                          LoadContent(OneContext("    client-certificate: certs/client.crt\n"
                                                 "    client-key: certs/client.key\n")));
  EXPECT_EQ(rc.client_cert_pem, ReadTestdata("client.crt"));
  EXPECT_EQ(rc.client_key_pem, ReadTestdata("client.key"));
  EXPECT_EQ(rc.token, "");

  EXPECT_THAT(LoadContent(OneContext("    client-certificate: certs/client.crt\n"
                                     "    client-key: certs/missing.key\n")),
              StatusIs(StatusCode::kNotFound, HasSubstr("users[0].user.client-key")));
  EXPECT_THAT(LoadContent(OneContext("    client-certificate: certs/client.crt\n"
                                     "    client-key: certs/other.key\n")),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("client key does not match the client certificate")));
}

TEST_F(KubeconfigTest, ClientCertificateData) {
  GF_ASSERT_OK_AND_ASSIGN(
      RestConfig rc,
      LoadContent(OneContext(
          "    client-certificate-data: " + Base64Encode(ReadTestdata("client.crt")) + "\n" +
              "    client-key-data: " + Base64Encode(ReadTestdata("client.key")) + "\n",
          "    certificate-authority-data: " + Base64Encode(ReadTestdata("ca.crt")) + "\n")));
  EXPECT_EQ(rc.client_cert_pem, ReadTestdata("client.crt"));
  EXPECT_EQ(rc.client_key_pem, ReadTestdata("client.key"));
  EXPECT_EQ(rc.ca_pem, ReadTestdata("ca.crt"));
}

TEST_F(KubeconfigTest, ClientCertificateRulesFollowClientGoValidation) {
  CopyCerts("certs");
  const std::string cert_data = Base64Encode(ReadTestdata("client.crt"));
  const std::string key_data = Base64Encode(ReadTestdata("client.key"));
  EXPECT_THAT(LoadContent(OneContext("    client-certificate: certs/client.crt\n")),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("client-key-data or client-key must be specified for user "
                                 "\"admin\"")));
  EXPECT_THAT(LoadContent(OneContext("    client-certificate: certs/client.crt\n"
                                     "    client-certificate-data: " +
                                     cert_data + "\n" + "    client-key: certs/client.key\n")),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("client-certificate-data and client-certificate are both")));
  EXPECT_THAT(
      LoadContent(OneContext("    client-certificate-data: " + cert_data + "\n" +
                             "    client-key-data: " + key_data + "\n" +
                             "    client-key: certs/client.key\n")),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("client-key-data and client-key are both")));
  EXPECT_THAT(LoadContent(OneContext("",
                                     "    certificate-authority: certs/ca.crt\n"
                                     "    certificate-authority-data: " +
                                         Base64Encode(ReadTestdata("ca.crt")) + "\n")),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("certificate-authority-data and certificate-authority are both "
                                 "specified for cluster \"gpu\"")));
  EXPECT_THAT(LoadContent(OneContext("", "    certificate-authority-data: " +
                                             Base64Encode("not a certificate") + "\n")),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("clusters[0].cluster.certificate-authority-data: no PEM")));
}

TEST_F(KubeconfigTest, ExecV1) {
  GF_ASSERT_OK_AND_ASSIGN(
      RestConfig rc, LoadContent(OneContext("    exec:\n"
                                            "      apiVersion: client.authentication.k8s.io/v1\n"
                                            "      command: aws\n"
                                            "      args: [eks, get-token, --cluster-name, gpu]\n"
                                            "      env:\n"
                                            "      - {name: AWS_PROFILE, value: gpu}\n"
                                            "      - {name: EMPTY}\n"
                                            "      installHint: install the AWS CLI\n"
                                            "      provideClusterInfo: true\n"
                                            "      interactiveMode: Never\n")));
  ASSERT_TRUE(rc.exec.has_value());
  EXPECT_EQ(rc.exec->api_version, "client.authentication.k8s.io/v1");
  EXPECT_EQ(rc.exec->command, "aws");
  EXPECT_THAT(rc.exec->args, ElementsAre("eks", "get-token", "--cluster-name", "gpu"));
  EXPECT_THAT(rc.exec->env, ElementsAre(Pair("AWS_PROFILE", "gpu"), Pair("EMPTY", "")));
  EXPECT_EQ(rc.exec->install_hint, "install the AWS CLI");
  EXPECT_TRUE(rc.exec->provide_cluster_info);
  EXPECT_EQ(rc.exec->interactive_mode, "Never");
  EXPECT_EQ(rc.token, "");
}

TEST_F(KubeconfigTest, ExecV1beta1DefaultsInteractiveModeToIfAvailable) {
  GF_ASSERT_OK_AND_ASSIGN(
      RestConfig rc,
      LoadContent(OneContext("    exec: {apiVersion: client.authentication.k8s.io/v1beta1, "
                             "command: gke-gcloud-auth-plugin}\n")));
  ASSERT_TRUE(rc.exec.has_value());
  EXPECT_EQ(rc.exec->interactive_mode, "IfAvailable");
  EXPECT_FALSE(rc.exec->provide_cluster_info);
}

TEST_F(KubeconfigTest, ExecValidation) {
  EXPECT_THAT(LoadContent(OneContext("    exec: {apiVersion: client.authentication.k8s.io/v1, "
                                     "command: aws}\n")),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("users[0].user.exec.interactiveMode"),
                             HasSubstr("interactiveMode must be specified for user \"admin\""))));
  EXPECT_THAT(LoadContent(OneContext("    exec: {apiVersion: client.authentication.k8s.io/v1, "
                                     "command: aws, interactiveMode: Sometimes}\n")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("invalid interactiveMode")));
  EXPECT_THAT(LoadContent(OneContext("    exec: {apiVersion: client.authentication.k8s.io/"
                                     "v1alpha1, command: aws}\n")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("invalid apiVersion")));
  EXPECT_THAT(LoadContent(OneContext("    exec: {apiVersion: client.authentication.k8s.io/v1, "
                                     "interactiveMode: Never}\n")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("command must be specified")));
  EXPECT_THAT(LoadContent(OneContext("    exec: {apiVersion: client.authentication.k8s.io/v1, "
                                     "command: aws, interactiveMode: Never, env: [{value: x}]}\n")),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("users[0].user.exec.env[0].name: env variable name")));
}

TEST_F(KubeconfigTest, InsecureTlsServerNameAndProxyUrl) {
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc,
                          LoadContent(OneContext("    token: t\n",
                                                 "    insecure-skip-tls-verify: true\n"
                                                 "    tls-server-name: api.internal\n"
                                                 "    proxy-url: socks5://proxy.example:1080\n")));
  EXPECT_TRUE(rc.insecure_skip_tls_verify);
  EXPECT_EQ(rc.tls_server_name, "api.internal");
  EXPECT_EQ(rc.proxy_url, "socks5://proxy.example:1080");
  EXPECT_EQ(rc.ca_pem, "");

  EXPECT_THAT(
      LoadContent(OneContext("", "    proxy-url: ftp://proxy.example\n")),
      StatusIs(StatusCode::kInvalidArgument, AllOf(HasSubstr("clusters[0].cluster.proxy-url"),
                                                   HasSubstr("must be http, https, or socks5"))));
}

TEST_F(KubeconfigTest, InsecureWithCertificateAuthorityIsAnError) {
  CopyCerts("certs");
  const std::string message =
      "specifying a root certificates file with the insecure flag is not "
      "allowed";
  EXPECT_THAT(LoadContent(OneContext("",
                                     "    insecure-skip-tls-verify: true\n"
                                     "    certificate-authority: certs/ca.crt\n")),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(message),
                             HasSubstr("clusters[0].cluster.insecure-skip-tls-verify"))));
  EXPECT_THAT(LoadContent(OneContext("",
                                     "    insecure-skip-tls-verify: true\n"
                                     "    certificate-authority-data: " +
                                         Base64Encode(ReadTestdata("ca.crt")) + "\n")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(message)));
}

TEST_F(KubeconfigTest, Impersonation) {
  GF_ASSERT_OK_AND_ASSIGN(RestConfig rc,
                          LoadContent(OneContext("    token: t\n"
                                                 "    as: alice\n"
                                                 "    as-groups: [gpu-admins, system:masters]\n")));
  EXPECT_EQ(rc.impersonate_user, "alice");
  EXPECT_THAT(rc.impersonate_groups, ElementsAre("gpu-admins", "system:masters"));
  EXPECT_THAT(LoadContent(OneContext("    as-groups: [gpu-admins]\n")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("without impersonating a user")));
}

TEST_F(KubeconfigTest, UnsupportedUserKindsAreUnimplemented) {
  EXPECT_THAT(LoadContent(OneContext("    username: admin\n    password: hunter2\n")),
              StatusIs(StatusCode::kUnimplemented, HasSubstr("basic authentication")));
  EXPECT_THAT(LoadContent(OneContext("    auth-provider: {name: oidc, config: {}}\n")),
              StatusIs(StatusCode::kUnimplemented, HasSubstr("auth-provider \"oidc\"")));
}

TEST_F(KubeconfigTest, ContextNamingMissingClusterOrUser) {
  const std::string base =
      "clusters:\n"
      "- {name: gpu, cluster: {server: 'https://gpu.example'}}\n"
      "users:\n"
      "- {name: admin, user: {token: t}}\n";
  fs::path config = Write("config", base +
                                        "contexts:\n"
                                        "- {name: gpu, context: {cluster: gone, user: admin}}\n"
                                        "current-context: gpu\n");
  EXPECT_THAT(
      LoadFile(config),
      StatusIs(StatusCode::kInvalidArgument,
               AllOf(HasSubstr("kubeconfig " + config.string() + ": contexts[0].context.cluster"),
                     HasSubstr("cluster \"gone\" does not exist"))));
  EXPECT_THAT(
      LoadContent(base + "contexts:\n"
                         "- {name: gpu, context: {cluster: gpu, user: nobody}}\n"
                         "current-context: gpu\n"),
      StatusIs(StatusCode::kInvalidArgument, AllOf(HasSubstr("contexts[0].context.user"),
                                                   HasSubstr("user \"nobody\" does not exist"))));
  // No user at all is an anonymous client.
  GF_ASSERT_OK_AND_ASSIGN(RestConfig anonymous,
                          LoadContent(base + "contexts:\n"
                                             "- {name: gpu, context: {cluster: gpu}}\n"
                                             "current-context: gpu\n"));
  EXPECT_EQ(anonymous.token, "");
}

TEST_F(KubeconfigTest, CurrentContextProblems) {
  EXPECT_THAT(LoadContent("clusters: []\n"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("no current-context is set and no context was given")));
  fs::path config = Write("config", "current-context: ghost\n");
  EXPECT_THAT(LoadFile(config),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("kubeconfig " + config.string() +
                                 ": current-context: context \"ghost\" does not exist")));
}

TEST_F(KubeconfigTest, BadBase64NamesTheField) {
  fs::path config =
      Write("config",
            OneContext("    client-certificate-data: " + Base64Encode(ReadTestdata("client.crt")) +
                       "\n    client-key-data: 'AB*D'\n"));
  EXPECT_THAT(LoadFile(config),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("kubeconfig " + config.string() +
                                 ": users[0].user.client-key-data: illegal base64 data at input "
                                 "byte 2")));
}

TEST_F(KubeconfigTest, BadBase64InAnUnusedEntryFailsTheLoadAsInClientGo) {
  EXPECT_THAT(LoadContent(OneContext("    token: t\n") + "- name: other\n"
                                                         "  user: {client-key-data: 'QQ'}\n"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("users[1].user.client-key-data: illegal base64")));
}

TEST_F(KubeconfigTest, MalformedYamlNamesTheFile) {
  fs::path config = Write("config", "clusters:\n- name: [unclosed\n");
  EXPECT_THAT(LoadFile(config),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("kubeconfig " + config.string()), HasSubstr("line"))));
  EXPECT_THAT(LoadContent("just a string\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("expected a mapping")));
}

TEST_F(KubeconfigTest, WrongFieldTypeNamesThePath) {
  EXPECT_THAT(LoadContent("clusters:\n- {name: gpu, cluster: {server: 6443}}\n"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("clusters[0].cluster.server: expected string, got number")));
  EXPECT_THAT(
      LoadContent(OneContext("    as-groups: admins\n")),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("users[0].user.as-groups: expected array")));
}

TEST_F(KubeconfigTest, DuplicateNameInOneFileIsAnError) {
  EXPECT_THAT(LoadContent("clusters:\n"
                          "- {name: gpu, cluster: {server: 'https://a'}}\n"
                          "- {name: gpu, cluster: {server: 'https://b'}}\n"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("clusters[1].name: duplicate name \"gpu\" (first at "
                                 "clusters[0])")));
}

TEST_F(KubeconfigTest, ServerRules) {
  auto with_server = [](const std::string& server) {
    return "clusters:\n- {name: gpu, cluster: {server: '" + server +
           "'}}\ncontexts:\n- {name: gpu, context: {cluster: gpu}}\ncurrent-context: gpu\n";
  };
  GF_ASSERT_OK_AND_ASSIGN(RestConfig slash, LoadContent(with_server("https://gpu.example:6443/")));
  EXPECT_EQ(slash.server, "https://gpu.example:6443");
  GF_ASSERT_OK_AND_ASSIGN(RestConfig prefix,
                          LoadContent(with_server("https://rancher.example/k8s/clusters/c-1/")));
  EXPECT_EQ(prefix.server, "https://rancher.example/k8s/clusters/c-1");
  EXPECT_THAT(LoadContent(with_server("")),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("clusters[0].cluster.server: no server found for cluster "
                                 "\"gpu\"")));
  EXPECT_THAT(LoadContent(with_server("gpu.example:6443")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("must start with https://")));
}

TEST_F(KubeconfigTest, PlainHttpServerDropsCredentialsAsClientGoDoes) {
  GF_ASSERT_OK_AND_ASSIGN(
      RestConfig rc,
      LoadContent("clusters:\n- {name: gpu, cluster: {server: 'http://127.0.0.1:8080', "
                  "tls-server-name: x}}\n"
                  "users:\n- {name: admin, user: {token: t, as: alice}}\n"
                  "contexts:\n- {name: gpu, context: {cluster: gpu, user: admin}}\n"
                  "current-context: gpu\n"));
  EXPECT_EQ(rc.server, "http://127.0.0.1:8080");
  EXPECT_EQ(rc.token, "");
  EXPECT_EQ(rc.tls_server_name, "");
  EXPECT_EQ(rc.impersonate_user, "alice");  // impersonation is applied before the TLS check
}

TEST(KubeconfigBase64Test, DecodesLikeGoStdEncoding) {
  EXPECT_EQ(Base64Decode("aGVsbG8=").value_or("?"), "hello");
  EXPECT_EQ(Base64Decode("aGVs\r\nbG8=\n").value_or("?"), "hello");
  EXPECT_EQ(Base64Decode("").value_or("?"), "");
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
  EXPECT_EQ(Base64Encode("hell"), "aGVsbA==");
  EXPECT_THAT(Base64Decode("aGVsbG8"),
              StatusIs(StatusCode::kInvalidArgument, "illegal base64 data at input byte 4"));
  EXPECT_THAT(Base64Decode("aGV$bG8="),
              StatusIs(StatusCode::kInvalidArgument, "illegal base64 data at input byte 3"));
  EXPECT_THAT(Base64Decode("aGVsbG8=aGVs"),
              StatusIs(StatusCode::kInvalidArgument, "illegal base64 data at input byte 8"));
  EXPECT_THAT(Base64Decode("a==="),
              StatusIs(StatusCode::kInvalidArgument, "illegal base64 data at input byte 1"));
}

}  // namespace
}  // namespace gpufleet::kube
