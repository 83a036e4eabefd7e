#include "apiserver/kubeconfig_writer.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/auth.h"
#include "apiserver/pki.h"
#include "core/yaml.h"
#include "testing/status_matchers.h"

namespace gpufleet::apiserver {
namespace {

namespace fs = std::filesystem;
using ::gpufleet::testing::IsOk;
using ::gpufleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kArn[] = "arn:aws:eks:us-west-2:123456789012:cluster/gpufleet";
constexpr char kKubectl[] = "/usr/bin/kubectl";

std::string Base64Decode(const std::string& text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return "<invalid base64>";
  size_t pad = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

mode_t Mode(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result{-1, ""};
  FILE* f = ::popen((command + " 2>&1").c_str(), "r");
  if (f == nullptr) return result;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) result.output.append(buf, n);
  int status = ::pclose(f);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    for (char& c : name) c = (c == '/' ? '_' : c);
    root_ =
        fs::path(::testing::TempDir()) / ("gpufleet_" + name + "_" + std::to_string(::getpid()));
    std::error_code ec;
    fs::remove_all(root_, ec);
    fs::create_directories(root_);
    Result<Pki> pki = LoadOrCreatePki(root_ / "data", {});
    ASSERT_THAT(pki, IsOk());
    pki_ = *pki;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  KubeconfigSpec TokenSpec(const std::string& server, const std::string& token) const {
    return KubeconfigSpec{.server = server,
                          .cluster_name = kArn,
                          .context_name = kArn,
                          .user_name = "gpufleet-admin",
                          .ca_cert_pem = pki_.ca_cert_pem,
                          .token = token};
  }
  KubeconfigSpec CertSpec(const std::string& server) const {
    KubeconfigSpec spec = TokenSpec(server, "");
    spec.client_cert_pem = pki_.admin_cert_pem;
    spec.client_key_pem = pki_.admin_key_pem;
    return spec;
  }
  // Runs kubectl with only `kubeconfig` and a private HOME (so nothing of the user's leaks in).
  CommandResult Kubectl(const fs::path& kubeconfig, const std::string& args) const {
    return RunCommand("env -u KUBECONFIG HOME='" + root_.string() + "' timeout 60 " + kKubectl +
                      " --kubeconfig '" + kubeconfig.string() + "' " + args);
  }

  fs::path root_;
  Pki pki_;
};

TEST(KubeconfigBase64, MatchesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  bytes += bytes + bytes;
  std::string encoded = Base64Encode(bytes);
  EXPECT_EQ(encoded.find_first_of("\n\r"), std::string::npos);
  EXPECT_EQ(Base64Decode(encoded), bytes);
}

TEST_F(KubeconfigTest, TokenConfigParsesBackWithExpectedFields) {
  const fs::path path = root_ / "kubeconfig";
  GF_ASSERT_OK(WriteKubeconfig(path, TokenSpec("https://127.0.0.1:6443", "tok123")));
  EXPECT_EQ(Mode(path), 0600u);
  GF_ASSERT_OK_AND_ASSIGN(nlohmann::json config, core::YamlToJsonSingle(Read(path)));
  EXPECT_EQ(config["apiVersion"], "v1");
  EXPECT_EQ(config["kind"], "Config");
  EXPECT_EQ(config["current-context"], kArn);
  ASSERT_EQ(config["clusters"].size(), 1u);
  EXPECT_EQ(config["clusters"][0]["name"], kArn);
  EXPECT_EQ(config["clusters"][0]["cluster"]["server"], "https://127.0.0.1:6443");
  EXPECT_EQ(Base64Decode(config["clusters"][0]["cluster"]["certificate-authority-data"]),
            pki_.ca_cert_pem);
  ASSERT_EQ(config["users"].size(), 1u);
  EXPECT_EQ(config["users"][0],
            (nlohmann::json{{"name", "gpufleet-admin"}, {"user", {{"token", "tok123"}}}}));
  ASSERT_EQ(config["contexts"].size(), 1u);
  EXPECT_EQ(config["contexts"][0],
            (nlohmann::json{{"name", kArn},
                            {"context", {{"cluster", kArn}, {"user", "gpufleet-admin"}}}}));
  EXPECT_EQ(config, *BuildKubeconfig(TokenSpec("https://127.0.0.1:6443", "tok123")));
}

TEST_F(KubeconfigTest, ClientCertificateConfigEmbedsCertAndKey) {
  KubeconfigSpec spec = CertSpec("https://localhost:6443");
  spec.namespace_name = "kube-system";
  GF_ASSERT_OK_AND_ASSIGN(nlohmann::json config, BuildKubeconfig(spec));
  const nlohmann::json& user = config["users"][0]["user"];
  EXPECT_EQ(Base64Decode(user["client-certificate-data"]), pki_.admin_cert_pem);
  EXPECT_EQ(Base64Decode(user["client-key-data"]), pki_.admin_key_pem);
  EXPECT_FALSE(user.contains("token"));
  EXPECT_EQ(config["contexts"][0]["context"]["namespace"], "kube-system");
  GF_ASSERT_OK_AND_ASSIGN(nlohmann::json back, core::YamlToJsonSingle(core::JsonToYaml(config)));
  EXPECT_EQ(back, config);
}

TEST_F(KubeconfigTest, ReplacesExistingFileAndCreatesParents) {
  const fs::path path = root_ / "home" / ".kube" / "config";
  GF_ASSERT_OK(WriteKubeconfig(path, TokenSpec("https://127.0.0.1:1", "first")));
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  GF_ASSERT_OK(WriteKubeconfig(path, TokenSpec("https://127.0.0.1:2", "second")));
  EXPECT_EQ(Mode(path), 0600u);
  EXPECT_EQ(Mode(path.parent_path()), 0700u);
  EXPECT_THAT(Read(path), HasSubstr("https://127.0.0.1:2"));
  EXPECT_THAT(Read(path), Not(HasSubstr("first")));
  EXPECT_EQ(std::distance(fs::directory_iterator(path.parent_path()), fs::directory_iterator()), 1);
}

struct BadSpecCase {
  std::string name;
  std::function<void(KubeconfigSpec&)> change;
  std::string message;
};

class KubeconfigBadSpecTest : public KubeconfigTest,
                              public ::testing::WithParamInterface<BadSpecCase> {};

TEST_P(KubeconfigBadSpecTest, IsInvalidArgumentWithoutTheToken) {
  KubeconfigSpec spec = TokenSpec("https://127.0.0.1:6443", "s3cr3t-token");
  GetParam().change(spec);
  const fs::path path = root_ / "kubeconfig";
  Status status = WriteKubeconfig(path, spec);
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument, HasSubstr(GetParam().message)));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("s3cr3t")));
  EXPECT_FALSE(fs::exists(path));
}

INSTANTIATE_TEST_SUITE_P(
    Kubeconfig, KubeconfigBadSpecTest,
    ::testing::Values(
        BadSpecCase{"NoServer", [](KubeconfigSpec& s) { s.server.clear(); }, "server"},
        BadSpecCase{"NoScheme", [](KubeconfigSpec& s) { s.server = "127.0.0.1:6443"; }, "https://"},
        BadSpecCase{"OtherScheme", [](KubeconfigSpec& s) { s.server = "ftp://x"; }, "https://"},
        BadSpecCase{"NoHost", [](KubeconfigSpec& s) { s.server = "https://"; }, "server host"},
        BadSpecCase{"NoCluster", [](KubeconfigSpec& s) { s.cluster_name.clear(); }, "cluster_name"},
        BadSpecCase{"NoContext", [](KubeconfigSpec& s) { s.context_name.clear(); }, "context_name"},
        BadSpecCase{"NoUser", [](KubeconfigSpec& s) { s.user_name.clear(); }, "user_name"},
        BadSpecCase{"NoCredentials", [](KubeconfigSpec& s) { s.token.clear(); }, "exactly one"},
        BadSpecCase{"TokenAndCert",
                    [](KubeconfigSpec& s) {
                      s.client_cert_pem = "cert";
                      s.client_key_pem = "key";
                    },
                    "exactly one"},
        BadSpecCase{"CertWithoutKey",
                    [](KubeconfigSpec& s) {
                      s.token.clear();
                      s.client_cert_pem = "cert";
                    },
                    "together"}),
    [](const ::testing::TestParamInfo<BadSpecCase>& param_info) { return param_info.param.name; });

// ---- Real kubectl ----

class KubeconfigKubectlTest : public KubeconfigTest {
 protected:
  void SetUp() override {
    if (::access(kKubectl, X_OK) != 0) GTEST_SKIP() << kKubectl << " not installed";
    KubeconfigTest::SetUp();
  }
};

TEST_F(KubeconfigKubectlTest, ConfigViewAndGetContextsReadTheFile) {
  const fs::path path = root_ / "kubeconfig";
  GF_ASSERT_OK(WriteKubeconfig(path, TokenSpec("https://127.0.0.1:6443", "tok123")));
  struct {
    const char* jsonpath;
    std::string want;
  } cases[] = {
      {"{.clusters[0].cluster.server}", "https://127.0.0.1:6443"},
      {"{.current-context}", kArn},
      {"{.contexts[0].context.cluster}", kArn},
      {"{.users[0].user.token}", "tok123"},
      {"{.clusters[0].cluster.certificate-authority-data}", Base64Encode(pki_.ca_cert_pem)},
  };
  for (const auto& c : cases) {
    CommandResult r =
        Kubectl(path, std::string("config view --raw -o jsonpath='") + c.jsonpath + "'");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output, c.want) << c.jsonpath;
  }

  CommandResult contexts = Kubectl(path, "config get-contexts --no-headers");
  ASSERT_EQ(contexts.exit_code, 0) << contexts.output;
  std::istringstream columns(contexts.output);
  std::vector<std::string> fields{std::istream_iterator<std::string>(columns), {}};
  EXPECT_THAT(fields, ElementsAre("*", kArn, kArn, "gpufleet-admin")) << contexts.output;

  CommandResult current = Kubectl(path, "config current-context");
  ASSERT_EQ(current.exit_code, 0) << current.output;
  std::vector<std::string> parts;
  std::istringstream arn(current.output.substr(0, current.output.find('\n')));
  for (std::string part; std::getline(arn, part, ':');) parts.push_back(part);
  ASSERT_GE(parts.size(), 4u) << current.output;
  EXPECT_EQ(parts[3], "us-west-2");
}

// A one-request-per-connection HTTPS server on 127.0.0.1 that answers GET /version for callers
// the Authenticator accepts, and 401 otherwise. Client certificates are requested, not required.
class TlsTestServer {
 public:
  TlsTestServer(const Pki& pki, const Authenticator& auth) : auth_(auth) {
    ::signal(SIGPIPE, SIG_IGN);
    ctx_.reset(SSL_CTX_new(TLS_server_method()));
    auto bio = [](const std::string& pem) { return BIO_new_mem_buf(pem.data(), -1); };
    BIO* cert = bio(pki.server_cert_pem);
    BIO* key = bio(pki.server_key_pem);
    BIO* ca = bio(pki.ca_cert_pem);
    X509* cert_x509 = PEM_read_bio_X509(cert, nullptr, nullptr, nullptr);
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key, nullptr, nullptr, nullptr);
    X509* ca_x509 = PEM_read_bio_X509(ca, nullptr, nullptr, nullptr);
    ok_ = SSL_CTX_use_certificate(ctx_.get(), cert_x509) == 1 &&
          SSL_CTX_use_PrivateKey(ctx_.get(), pkey) == 1 &&
          X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_.get()), ca_x509) == 1 &&
          SSL_CTX_add_client_CA(ctx_.get(), ca_x509) == 1;
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    X509_free(cert_x509);
    X509_free(ca_x509);
    EVP_PKEY_free(pkey);
    BIO_free(cert);
    BIO_free(key);
    BIO_free(ca);

    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ok_ = ok_ && listen_fd_ >= 0 &&
          ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          ::listen(listen_fd_, 16) == 0 &&
          ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    port_ = ntohs(addr.sin_port);
    if (ok_) thread_ = std::thread([this] { Loop(); });
  }
  ~TlsTestServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }
  bool ok() const { return ok_; }
  int port() const { return port_; }
  // One line per request: "<path> <user> <groups,...> cert|token", or "401 <reason>".
  std::vector<std::string> seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      timeval tv{10, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      Serve(fd);
      ::close(fd);
    }
  }

  void Serve(int fd) {
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx_.get()), SSL_free);
    SSL_set_fd(ssl.get(), fd);
    if (SSL_accept(ssl.get()) != 1) {
      ERR_clear_error();
      return;
    }
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
      int n = SSL_read(ssl.get(), buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    std::string authorization, path;
    std::istringstream lines(request);
    std::string line;
    std::getline(lines, line);
    if (size_t a = line.find(' '), b = line.rfind(' '); a != b)
      path = line.substr(a + 1, b - a - 1);
    path = path.substr(0, path.find('?'));
    while (std::getline(lines, line)) {
      if (line.size() > 14 && strncasecmp(line.c_str(), "authorization:", 14) == 0) {
        authorization = line.substr(14);
      }
    }
    X509* peer = SSL_get0_peer_certificate(ssl.get());
    if (peer != nullptr && SSL_get_verify_result(ssl.get()) != X509_V_OK) peer = nullptr;
    Result<UserInfo> user = auth_.Authenticate(authorization, peer);
    std::string status = "200 OK";
    std::string body = R"({"major":"1","minor":"32","gitVersion":"v1.32.0-gpufleet-test"})";
    std::string record;
    if (user.ok()) {
      record = path + " " + user->name + " ";
      for (const std::string& g : user->groups) record += g + ",";
      record += peer != nullptr ? " cert" : " token";
    } else {
      status = "401 Unauthorized";
      body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
             R"("message":"Unauthorized","reason":"Unauthorized","code":401})";
      record = "401 " + std::string(user.status().message());
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(record);
    }
    std::string response =
        "HTTP/1.1 " + status +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    SSL_write(ssl.get(), response.data(), static_cast<int>(response.size()));
    SSL_shutdown(ssl.get());
    ERR_clear_error();
  }

  const Authenticator& auth_;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx_{nullptr, SSL_CTX_free};
  int listen_fd_ = -1;
  int port_ = 0;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::string> seen_;
};

TEST_F(KubeconfigKubectlTest, KubectlTalksToTheServerWithTokenAndWithClientCertificate) {
  GF_ASSERT_OK_AND_ASSIGN(std::vector<TokenRecord> tokens, LoadOrCreateTokenFile(root_ / "data"));
  GF_ASSERT_OK_AND_ASSIGN(std::string admin_token, TokenForUser(tokens, kAdminUser));
  Authenticator auth(tokens);
  TlsTestServer server(pki_, auth);
  ASSERT_TRUE(server.ok());
  const std::string port = std::to_string(server.port());

  struct Case {
    std::string name;
    KubeconfigSpec spec;
    std::string want_output;  // substring
    int want_exit;
    std::string want_seen;  // substring of the server's record; empty: no request reached it
  } cases[] = {
      {"token via IP SAN", TokenSpec("https://127.0.0.1:" + port, admin_token),
       "v1.32.0-gpufleet-test", 0, "/version gpufleet-admin system:masters, token"},
      {"token via DNS SAN", TokenSpec("https://localhost:" + port, admin_token),
       "v1.32.0-gpufleet-test", 0, "/version gpufleet-admin system:masters, token"},
      {"client certificate", CertSpec("https://127.0.0.1:" + port), "v1.32.0-gpufleet-test", 0,
       "/version gpufleet-admin system:masters, cert"},
      {"wrong token", TokenSpec("https://127.0.0.1:" + port, std::string(64, '0')), "Unauthorized",
       1, "401 invalid bearer token"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path path = root_ / "kubeconfig";
    GF_ASSERT_OK(WriteKubeconfig(path, c.spec));
    size_t before = server.seen().size();
    CommandResult r = Kubectl(path, "get --raw /version --request-timeout=20s");
    EXPECT_EQ(r.exit_code, c.want_exit) << r.output;
    EXPECT_THAT(r.output, HasSubstr(c.want_output));
    std::vector<std::string> seen = server.seen();
    ASSERT_GT(seen.size(), before) << r.output;
    EXPECT_THAT(seen.back(), HasSubstr(c.want_seen));
  }

  // A kubeconfig trusting another CA must not reach the handler: kubectl rejects the server.
  GF_ASSERT_OK_AND_ASSIGN(Pki other, LoadOrCreatePki(root_ / "other", {}));
  KubeconfigSpec spec = TokenSpec("https://127.0.0.1:" + port, admin_token);
  spec.ca_cert_pem = other.ca_cert_pem;
  GF_ASSERT_OK(WriteKubeconfig(root_ / "kubeconfig", spec));
  size_t before = server.seen().size();
  CommandResult r = Kubectl(root_ / "kubeconfig", "get --raw /version --request-timeout=20s");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("certificate signed by unknown authority"));
  EXPECT_EQ(server.seen().size(), before);
}

}  // namespace
}  // namespace gpufleet::apiserver
