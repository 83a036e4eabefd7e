#include "cloud/aws/credentials.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "apiserver/http.h"
#include "apiserver/http_server.h"
#include "cloud/aws/aws_config.h"
#include "cloud/aws/http_client.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/time_format.h"
#include "testing/status_matchers.h"

namespace gpufleet::cloud::aws {
namespace {

namespace fs = std::filesystem;
using ::gpufleet::testing::IsOk;
using ::gpufleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// Distinctive secrets: no error message or log line may ever contain one.
constexpr char kEnvSecret[] = "ENVSECRETwJalrXUtnFEMIK7MDENGbPxRfiCY";
constexpr char kFileSecret[] = "FILESECRETzzzzzzzzzzzzzzzzzzzzzzzzzz";
constexpr char kStsSecret[] = "STSSECRETyyyyyyyyyyyyyyyyyyyyyyyyyyyy";
constexpr char kSessionToken[] = "SESSIONTOKENxxxxxxxxxxxxxxxxxxxxxxxxx";
constexpr char kWebIdentityToken[] = "eyJhbGciOiJSUzI1NiJ9.WEBIDENTITYJWT.c2lnbmF0dXJl";
constexpr char kPodToken[] = "PODIDENTITYTOKENqqqqqqqqqqqqqqqqqqqq";

// A plain-HTTP server on 127.0.0.1 that records what it was sent.
class FakeServer {
 public:
  using Handler = std::function<apiserver::HttpResponse(const apiserver::HttpRequest&)>;
  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    apiserver::HttpServer::Options o;
    o.plain_http = true;
    o.listen = "127.0.0.1:0";
    auto started = apiserver::HttpServer::Start(
        o,
        [this](apiserver::HttpRequest& r) {
          {
            std::lock_guard lock(mu_);
            requests_.push_back(r);
          }
          return handler_(r);
        },
        [](const apiserver::HttpRequest&, X509*) -> Result<std::string> { return std::string("test"); });
    EXPECT_THAT(started, IsOk());
    if (started.ok()) server_ = std::move(*started);
  }
  ~FakeServer() {
    if (server_) server_->Stop();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_ ? server_->port() : 1); }
  std::vector<apiserver::HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t count() const { return requests().size(); }

 private:
  Handler handler_;
  mutable std::mutex mu_;
  std::vector<apiserver::HttpRequest> requests_;
  std::unique_ptr<apiserver::HttpServer> server_;
};

apiserver::HttpResponse Respond(int status, std::string body, std::string content_type = "application/json") {
  apiserver::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

// A value shared between the test thread and a fake server's connection threads.
template <typename T>
class Guarded {
 public:
  explicit Guarded(T v = T()) : v_(std::move(v)) {}
  T get() const {
    std::lock_guard lock(mu_);
    return v_;
  }
  void set(T v) {
    std::lock_guard lock(mu_);
    v_ = std::move(v);
  }

 private:
  mutable std::mutex mu_;
  T v_;
};

// The real curl client, refusing (and failing the test for) anything but 127.0.0.1, so no test
// reaches IMDS, STS or any other real endpoint.
class LoopbackOnlyClient final : public HttpClient {
 public:
  Result<HttpResponse> Send(const HttpRequest& request) override {
    if (request.url.rfind("http://127.0.0.1:", 0) != 0) {
      if (!expect_refusals) ADD_FAILURE() << "request to a non-loopback URL: " << request.url;
      return UnavailableError("test: refused " + request.url);
    }
    ++sent;
    return curl_->Send(request);
  }
  std::atomic<int> sent{0};
  bool expect_refusals = false;  // set before the chain runs

 private:
  std::unique_ptr<HttpClient> curl_ = NewCurlHttpClient();
};

std::string StsResponse(const std::string& key, core::TimePoint expiration) {
  return "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
         "  <AssumeRoleWithWebIdentityResult>\n"
         "    <SubjectFromWebIdentityToken>system:serviceaccount:gpufleet:controller</SubjectFromWebIdentityToken>\n"
         "    <Credentials>\n"
         "      <AccessKeyId>" + key + "</AccessKeyId>\n"
         "      <SecretAccessKey>" + kStsSecret + "</SecretAccessKey>\n"
         "      <SessionToken>" + kSessionToken + "</SessionToken>\n"
         "      <Expiration>" + core::FormatRfc3339(expiration) + "</Expiration>\n"
         "    </Credentials>\n"
         "  </AssumeRoleWithWebIdentityResult>\n"
         "  <ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId></ResponseMetadata>\n"
         "</AssumeRoleWithWebIdentityResponse>\n";
}

std::string CredentialsJson(const std::string& key, core::TimePoint expiration, bool imds = false) {
  return std::string("{") + (imds ? "\"Code\":\"Success\",\"Type\":\"AWS-HMAC\"," : "") + "\"AccessKeyId\":\"" +
         key + "\",\"SecretAccessKey\":\"" + kStsSecret + "\",\"Token\":\"" + kSessionToken +
         "\",\"Expiration\":\"" + core::FormatRfc3339(expiration) + "\"}";
}

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("aws_credentials_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(home());
    // Nothing listens on port 1: IMDS, when a test reaches it, is refused at once.
    vars_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:1";
  }
  void TearDown() override {
    core::log::Configure(core::log::Level::kInfo, core::log::Format::kConsole);
    fs::remove_all(dir_);
  }
  std::string home() const { return (dir_ / "home").string(); }
  std::string Write(const std::string& relative, const std::string& content) {
    fs::path p = dir_ / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  void WriteCredentialsFile(const std::string& content) { Write("home/.aws/credentials", content); }
  void WriteConfigFile(const std::string& content) { Write("home/.aws/config", content); }

  Environment Env() const { return Environment::FromMap({vars_.begin(), vars_.end()}, home()); }
  std::unique_ptr<CredentialsProvider> Chain(std::string profile = "") {
    ChainOptions o;
    o.env = Env();
    o.http = &http_;
    o.clock = &clock_;
    o.profile = std::move(profile);
    return NewDefaultCredentialsChain(std::move(o));
  }
  // Expects an error and checks that it carries no secret.
  Status ErrorOf(const Result<Credentials>& r) {
    EXPECT_FALSE(r.ok()) << "source " << (r.ok() ? r->source : "");
    Status s = r.status();
    for (const char* secret : {kEnvSecret, kFileSecret, kStsSecret, kSessionToken, kWebIdentityToken, kPodToken}) {
      EXPECT_THAT(std::string(s.message()), Not(HasSubstr(secret)));
    }
    return s;
  }

  fs::path dir_;
  std::map<std::string, std::string> vars_;
  LoopbackOnlyClient http_;
  core::FakeClock clock_;
};

// ---- environment ----

TEST_F(CredentialsTest, EnvironmentOnly) {
  vars_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  vars_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  vars_["AWS_SESSION_TOKEN"] = kSessionToken;
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, Chain()->Get());
  EXPECT_EQ(c.access_key_id, "AKIAENV");
  EXPECT_EQ(c.secret_access_key, kEnvSecret);
  EXPECT_EQ(c.session_token, kSessionToken);
  EXPECT_EQ(c.source, "environment");
  EXPECT_FALSE(c.expiration.has_value());
  EXPECT_EQ(http_.sent, 0);
}

TEST_F(CredentialsTest, EnvironmentBeatsFilesAndAwsProfile) {
  WriteCredentialsFile("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = " + std::string(kFileSecret) +
                       "\n[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = x\n");
  vars_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  vars_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  vars_["AWS_PROFILE"] = "dev";  // AWS_PROFILE does not turn the environment off (botocore)
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, Chain()->Get());
  EXPECT_EQ(c.access_key_id, "AKIAENV");
  EXPECT_EQ(c.source, "environment");
}

TEST_F(CredentialsTest, PartialEnvironmentIsAnError) {
  vars_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  WriteCredentialsFile("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = x\n");
  EXPECT_THAT(ErrorOf(Chain()->Get()),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("environment"), HasSubstr("AWS_ACCESS_KEY_ID is not"))));
  vars_.erase("AWS_SECRET_ACCESS_KEY");
  vars_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  EXPECT_THAT(ErrorOf(Chain()->Get()), StatusIs(StatusCode::kInvalidArgument, HasSubstr("AWS_SECRET_ACCESS_KEY")));
}

// ---- shared files ----

TEST_F(CredentialsTest, CredentialsFileDefaultProfile) {
  WriteCredentialsFile("# a comment\n; another\n[default]\n  AWS_Access_Key_ID=AKIAFILE\n"
                       "aws_secret_access_key : " + std::string(kFileSecret) + "\naws_session_token = " +
                       kSessionToken + "\n\n");
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, Chain()->Get());
  EXPECT_EQ(c.access_key_id, "AKIAFILE");
  EXPECT_EQ(c.secret_access_key, kFileSecret);
  EXPECT_EQ(c.session_token, kSessionToken);
  EXPECT_EQ(c.source, "shared-credentials-file:default");
}

TEST_F(CredentialsTest, ProfileFromAwsProfileAndFromOptions) {
  WriteCredentialsFile("[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = a\n"
                       "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = b\n"
                       "[prod]\naws_access_key_id = AKIAPROD\naws_secret_access_key = c\n");
  vars_["AWS_PROFILE"] = "dev";
  GF_ASSERT_OK_AND_ASSIGN(Credentials dev, Chain()->Get());
  EXPECT_EQ(dev.access_key_id, "AKIADEV");
  EXPECT_EQ(dev.source, "shared-credentials-file:dev");

  // --profile beats AWS_PROFILE, and an explicitly named profile turns the environment off.
  vars_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  vars_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  GF_ASSERT_OK_AND_ASSIGN(Credentials prod, Chain("prod")->Get());
  EXPECT_EQ(prod.access_key_id, "AKIAPROD");
  EXPECT_EQ(prod.source, "shared-credentials-file:prod");
}

TEST_F(CredentialsTest, CredentialsFileWinsOverConfigFile) {
  WriteConfigFile("[default]\nregion = us-west-2\n"
                  "[profile dev]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = " +
                  std::string(kFileSecret) + "\naws_session_token = " + kSessionToken + "\n"
                  "[profile cfgonly]\naws_access_key_id = AKIACFGONLY\naws_secret_access_key = s\n"
                  "[dev]\naws_access_key_id = AKIANOTAPROFILE\naws_secret_access_key = s\n");
  WriteCredentialsFile("[dev]\naws_access_key_id = AKIACREDS\naws_secret_access_key = s2\n");
  vars_["AWS_PROFILE"] = "dev";
  GF_ASSERT_OK_AND_ASSIGN(Credentials dev, Chain()->Get());
  EXPECT_EQ(dev.access_key_id, "AKIACREDS");
  EXPECT_EQ(dev.secret_access_key, "s2");
  EXPECT_EQ(dev.session_token, kSessionToken);  // merged key by key, as the aws CLI does
  EXPECT_EQ(dev.source, "shared-credentials-file:dev");

  vars_["AWS_PROFILE"] = "cfgonly";
  GF_ASSERT_OK_AND_ASSIGN(Credentials cfg, Chain()->Get());
  EXPECT_EQ(cfg.access_key_id, "AKIACFGONLY");
  EXPECT_EQ(cfg.source, "shared-config-file:cfgonly");
}

TEST_F(CredentialsTest, FileLocationsFromTheEnvironment) {
  std::string creds = Write("elsewhere/creds", "[ci]\naws_access_key_id = AKIACI\naws_secret_access_key = s\n");
  std::string config = Write("elsewhere/config", "[profile ci]\nregion = eu-west-1\n");
  vars_["AWS_SHARED_CREDENTIALS_FILE"] = creds;
  vars_["AWS_CONFIG_FILE"] = config;
  vars_["AWS_PROFILE"] = "ci";
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, Chain()->Get());
  EXPECT_EQ(c.access_key_id, "AKIACI");
  EXPECT_EQ(ResolveRegion(Env(), "", "").value_or(""), "eu-west-1");
}

TEST_F(CredentialsTest, NamedProfileThatDoesNotExist) {
  WriteCredentialsFile("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\n");
  vars_["AWS_PROFILE"] = "nope";
  EXPECT_THAT(ErrorOf(Chain()->Get()),
              StatusIs(StatusCode::kNotFound, AllOf(HasSubstr("shared-files"), HasSubstr("\"nope\""),
                                                    HasSubstr(home() + "/.aws/credentials"))));
}

TEST_F(CredentialsTest, BrokenProfiles) {
  WriteCredentialsFile("[half]\naws_access_key_id = AKIAHALF\n"
                       "[assume]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = default\n"
                       "[sso]\nsso_session = corp\n"
                       "[process]\ncredential_process = /bin/echo\n");
  EXPECT_THAT(ErrorOf(Chain("half")->Get()),
              StatusIs(StatusCode::kInvalidArgument, AllOf(HasSubstr("\"half\""), HasSubstr("aws_secret_access_key"))));
  EXPECT_THAT(ErrorOf(Chain("assume")->Get()), StatusIs(StatusCode::kUnimplemented, HasSubstr("source_profile")));
  EXPECT_THAT(ErrorOf(Chain("sso")->Get()), StatusIs(StatusCode::kUnimplemented, HasSubstr("sso")));
  EXPECT_THAT(ErrorOf(Chain("process")->Get()), StatusIs(StatusCode::kUnimplemented, HasSubstr("credential_process")));
}

TEST_F(CredentialsTest, MalformedFileIsAnErrorOfTheSharedFilesSource) {
  WriteConfigFile("[default]\nregion = us-east-1\nregion = us-west-2\n");
  EXPECT_THAT(ErrorOf(Chain()->Get()),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("shared-files"), HasSubstr(home() + "/.aws/config:3"))));
  // Environment credentials still work next to it.
  vars_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  vars_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  EXPECT_THAT(Chain()->Get(), IsOk());
}

// ---- web identity ----

class WebIdentityTest : public CredentialsTest {
 protected:
  void SetUp() override {
    CredentialsTest::SetUp();
    sts_ = std::make_unique<FakeServer>([this](const apiserver::HttpRequest&) {
      if (auto failure = fail_with_.get()) return *failure;
      return Respond(200, StsResponse("ASIASTS" + std::to_string(++issued_), clock_.Now() + 1h), "text/xml");
    });
  }
  std::unique_ptr<FakeServer> sts_;
  std::atomic<int> issued_{0};
  Guarded<std::optional<apiserver::HttpResponse>> fail_with_;
};

TEST_F(WebIdentityTest, AssumesTheRoleWithTheTokenFile) {
  std::string token_file = Write("token", std::string(kWebIdentityToken) + "\n");
  vars_["AWS_WEB_IDENTITY_TOKEN_FILE"] = token_file;
  vars_["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/gpufleet";
  vars_["AWS_ROLE_SESSION_NAME"] = "controller";
  vars_["AWS_ENDPOINT_URL_STS"] = sts_->url();
  WriteCredentialsFile("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\n");  // comes later
  auto chain = Chain();
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, chain->Get());
  EXPECT_EQ(c.access_key_id, "ASIASTS1");
  EXPECT_EQ(c.secret_access_key, kStsSecret);
  EXPECT_EQ(c.session_token, kSessionToken);
  EXPECT_EQ(c.source, "web-identity");
  ASSERT_TRUE(c.expiration.has_value());
  EXPECT_EQ(core::FormatRfc3339(*c.expiration), core::FormatRfc3339(clock_.Now() + 1h));

  auto requests = sts_->requests();
  ASSERT_EQ(requests.size(), 1u);
  const apiserver::HttpRequest& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/");
  EXPECT_EQ(r.Header("content-type"), "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_EQ(r.Header("authorization"), "");  // unsigned
  auto form = apiserver::ParseQuery(r.body);
  EXPECT_EQ(form["Action"], "AssumeRoleWithWebIdentity");
  EXPECT_EQ(form["Version"], "2011-06-15");
  EXPECT_EQ(form["RoleArn"], "arn:aws:iam::123456789012:role/gpufleet");
  EXPECT_EQ(form["RoleSessionName"], "controller");
  EXPECT_EQ(form["WebIdentityToken"], kWebIdentityToken);

  // Cached until 5 minutes before expiry; the token file is re-read for the refresh.
  clock_.Advance(54min);
  EXPECT_EQ(chain->Get()->access_key_id, "ASIASTS1");
  EXPECT_EQ(sts_->count(), 1u);
  Write("token", "rotated-token");
  clock_.Advance(2min);
  EXPECT_EQ(chain->Get()->access_key_id, "ASIASTS2");
  requests = sts_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(apiserver::ParseQuery(requests[1].body)["WebIdentityToken"], "rotated-token");
}

TEST_F(WebIdentityTest, ProfileWithRoleArnAndTokenFile) {
  Write("home/.kube/token", kWebIdentityToken);
  WriteConfigFile("[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/ci\n"
                  "web_identity_token_file = ~/.kube/token\nregion = eu-central-1\n");
  WriteCredentialsFile("[ci]\naws_access_key_id = AKIASTATIC\naws_secret_access_key = s\n");
  vars_["AWS_PROFILE"] = "ci";
  vars_["AWS_ENDPOINT_URL"] = sts_->url();
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, Chain()->Get());
  EXPECT_EQ(c.access_key_id, "ASIASTS1");  // web identity comes before the profile's static keys
  auto form = apiserver::ParseQuery(sts_->requests().at(0).body);
  EXPECT_EQ(form["RoleArn"], "arn:aws:iam::123456789012:role/ci");
  EXPECT_EQ(form["WebIdentityToken"], kWebIdentityToken);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  EXPECT_EQ(form["RoleSessionName"], "gpufleet-" + std::to_string(seconds));
}

TEST_F(WebIdentityTest, StsRefusal) {
  fail_with_.set(Respond(400,
                         "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
                         "<Code>InvalidIdentityToken</Code><Message>Token " + std::string(kWebIdentityToken) +
                             " has expired</Message></Error><RequestId>x</RequestId></ErrorResponse>",
                         "text/xml"));
  vars_["AWS_WEB_IDENTITY_TOKEN_FILE"] = Write("token", kWebIdentityToken);
  vars_["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/gpufleet";
  vars_["AWS_ENDPOINT_URL_STS"] = sts_->url();
  EXPECT_THAT(ErrorOf(Chain()->Get()),
              StatusIs(StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("web-identity"), HasSubstr("InvalidIdentityToken"), HasSubstr("<redacted>"),
                             HasSubstr("arn:aws:iam::123456789012:role/gpufleet"))));
}

TEST_F(WebIdentityTest, ConfiguredButBroken) {
  vars_["AWS_WEB_IDENTITY_TOKEN_FILE"] = (dir_ / "missing-token").string();
  vars_["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/gpufleet";
  vars_["AWS_ENDPOINT_URL_STS"] = sts_->url();
  WriteCredentialsFile("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\n");
  EXPECT_THAT(ErrorOf(Chain()->Get()),
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("web-identity"), HasSubstr((dir_ / "missing-token").string()))));
  EXPECT_EQ(sts_->count(), 0u);

  vars_["AWS_WEB_IDENTITY_TOKEN_FILE"] = Write("token", kWebIdentityToken);
  vars_.erase("AWS_ROLE_ARN");
  EXPECT_THAT(ErrorOf(Chain()->Get()), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("AWS_ROLE_ARN")));
}

// ---- container (EKS Pod Identity, ECS) ----

class ContainerTest : public CredentialsTest {
 protected:
  void SetUp() override {
    CredentialsTest::SetUp();
    agent_ = std::make_unique<FakeServer>([this](const apiserver::HttpRequest& r) {
      if (r.path != "/v1/credentials") return Respond(404, "{}");
      if (auto failure = fail_with_.get()) return *failure;
      if (r.Header("authorization") != expected_token_.get()) {
        return Respond(401, "{\"code\":\"AccessDeniedException\",\"message\":\"bad token " +
                                std::string(r.Header("authorization")) + "\"}");
      }
      return Respond(200, CredentialsJson("ASIAPOD" + std::to_string(++issued_), clock_.Now() + 1h));
    });
    vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = agent_->url() + "/v1/credentials";
  }
  std::unique_ptr<FakeServer> agent_;
  Guarded<std::string> expected_token_{kPodToken};
  std::atomic<int> issued_{0};
  Guarded<std::optional<apiserver::HttpResponse>> fail_with_;
};

TEST_F(ContainerTest, PodIdentityWithTokenFile) {
  std::string token_file = Write("eks-pod-identity-token", std::string(kPodToken) + "\n");
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = token_file;
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "ignored-when-a-file-is-set";
  auto chain = Chain();
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, chain->Get());
  EXPECT_EQ(c.access_key_id, "ASIAPOD1");
  EXPECT_EQ(c.secret_access_key, kStsSecret);
  EXPECT_EQ(c.session_token, kSessionToken);
  EXPECT_EQ(c.source, "container");
  EXPECT_EQ(agent_->requests().at(0).Header("authorization"), kPodToken);

  // The token file is re-read on every fetch.
  expected_token_.set("rotated-pod-token");
  Write("eks-pod-identity-token", "rotated-pod-token");
  clock_.Advance(56min);
  GF_ASSERT_OK_AND_ASSIGN(Credentials refreshed, chain->Get());
  EXPECT_EQ(refreshed.access_key_id, "ASIAPOD2");
}

TEST_F(ContainerTest, PodIdentityWithTokenInTheEnvironment) {
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = kPodToken;
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, Chain()->Get());
  EXPECT_EQ(c.access_key_id, "ASIAPOD1");
}

TEST_F(ContainerTest, RejectedTokenIsAnErrorWithoutTheToken) {
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = kPodToken;
  expected_token_.set("another");
  EXPECT_THAT(ErrorOf(Chain()->Get()),
              StatusIs(StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("container"), HasSubstr("HTTP 401"), HasSubstr("bad token <redacted>"))));
}

TEST_F(ContainerTest, PlainHttpOnlyToLoopbackOrTheAgents) {
  for (const char* url : {"http://169.254.169.254/v1/credentials", "http://example.com/creds",
                          "http://10.0.0.1:80/creds", "http://[fd00:ec2::24]/creds"}) {
    SCOPED_TRACE(url);
    vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = url;
    EXPECT_THAT(ErrorOf(Chain()->Get()),
                StatusIs(StatusCode::kInvalidArgument, AllOf(HasSubstr("container"), HasSubstr("not allowed"))));
  }
  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "ftp://127.0.0.1/creds";
  EXPECT_THAT(ErrorOf(Chain()->Get()), StatusIs(StatusCode::kInvalidArgument, HasSubstr("not an http(s) URL")));
  EXPECT_EQ(http_.sent, 0);
  EXPECT_EQ(agent_->count(), 0u);
}

TEST_F(ContainerTest, TokenWithALineBreakIsRefused) {
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = std::string(kPodToken) + "\r\nX-Injected: 1";
  EXPECT_THAT(ErrorOf(Chain()->Get()), StatusIs(StatusCode::kInvalidArgument, HasSubstr("line break")));
  EXPECT_EQ(agent_->count(), 0u);
}

TEST_F(ContainerTest, RefreshFollowsTheClock) {
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = kPodToken;
  auto chain = Chain();
  const core::TimePoint t0 = clock_.Now();
  GF_ASSERT_OK_AND_ASSIGN(Credentials first, chain->Get());
  EXPECT_EQ(first.access_key_id, "ASIAPOD1");
  EXPECT_EQ(chain->Get()->access_key_id, "ASIAPOD1");
  clock_.Advance(54min);  // 6 minutes left: still cached
  EXPECT_EQ(chain->Get()->access_key_id, "ASIAPOD1");
  EXPECT_EQ(agent_->count(), 1u);
  clock_.Advance(2min);  // 4 minutes left: refreshed
  EXPECT_EQ(chain->Get()->access_key_id, "ASIAPOD2");
  EXPECT_EQ(agent_->count(), 2u);

  // ASIAPOD2 expires at t0 + 116 min. A refresh that fails while it is valid returns it.
  fail_with_.set(Respond(500, "{\"message\":\"agent restarting\"}"));
  clock_.Set(t0 + 112min);
  GF_ASSERT_OK_AND_ASSIGN(Credentials kept, chain->Get());
  EXPECT_EQ(kept.access_key_id, "ASIAPOD2");
  const size_t after_failure = agent_->count();
  EXPECT_GT(after_failure, 2u);
  EXPECT_EQ(chain->Get()->access_key_id, "ASIAPOD2");  // no new attempt within 30 s
  EXPECT_EQ(agent_->count(), after_failure);

  clock_.Set(t0 + 117min);  // expired, and the agent still fails
  EXPECT_THAT(ErrorOf(chain->Get()),
              StatusIs(StatusCode::kUnavailable, AllOf(HasSubstr("container"), HasSubstr("agent restarting"))));

  fail_with_.set(std::nullopt);  // the agent is back
  GF_ASSERT_OK_AND_ASSIGN(Credentials back, chain->Get());
  EXPECT_EQ(back.access_key_id, "ASIAPOD3");
}

TEST_F(ContainerTest, ConcurrentCallersShareOneFetch) {
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = kPodToken;
  auto chain = Chain();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (chain->Get().ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(agent_->count(), 1u);
}

TEST_F(ContainerTest, RelativeUriGoesTo169254170_2) {
  vars_.erase("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  vars_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/abc";
  // The loopback-only client refuses the link-local address: the request was aimed there.
  http_.expect_refusals = true;
  EXPECT_THAT(ErrorOf(Chain()->Get()),
              StatusIs(StatusCode::kUnavailable,
                       AllOf(HasSubstr("container"), HasSubstr("refused http://169.254.170.2/v2/credentials/abc"))));
}

// ---- IMDS ----

class ImdsTest : public CredentialsTest {
 protected:
  void SetUp() override {
    CredentialsTest::SetUp();
    imds_ = std::make_unique<FakeServer>([this](const apiserver::HttpRequest& r) {
      const bool v1_only = v1_only_.get();
      if (r.method == "PUT" && r.path == "/latest/api/token") {
        if (v1_only) return Respond(403, "", "text/plain");
        if (r.Header("x-aws-ec2-metadata-token-ttl-seconds") != "21600") return Respond(400, "");
        return Respond(200, "imds-session-token", "text/plain");
      }
      if (r.method != "GET") return Respond(405, "");
      if (!v1_only && r.Header("x-aws-ec2-metadata-token") != "imds-session-token") {
        return Respond(401, "", "text/plain");
      }
      const std::string role = role_.get();
      if (r.path == "/latest/meta-data/iam/security-credentials/") {
        return role.empty() ? Respond(404, "", "text/plain") : Respond(200, role + "\n", "text/plain");
      }
      if (r.path == "/latest/meta-data/iam/security-credentials/" + role) {
        return Respond(200, CredentialsJson("ASIAIMDS" + std::to_string(++issued_), clock_.Now() + 6h, true),
                       "text/plain");
      }
      return Respond(404, "", "text/plain");
    });
    vars_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds_->url() + "/";
  }
  std::unique_ptr<FakeServer> imds_;
  Guarded<std::string> role_{"gpufleet-node"};
  Guarded<bool> v1_only_{false};  // an IMDS that refuses tokens (HTTP 403) and serves IMDSv1
  std::atomic<int> issued_{0};
};

TEST_F(ImdsTest, TokenThenCredentials) {
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, Chain()->Get());
  EXPECT_EQ(c.access_key_id, "ASIAIMDS1");
  EXPECT_EQ(c.session_token, kSessionToken);
  EXPECT_EQ(c.source, "imds");
  ASSERT_TRUE(c.expiration.has_value());
  auto requests = imds_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].path, "/latest/api/token");
  EXPECT_EQ(requests[0].Header("content-type"), "");  // curl adds none
  EXPECT_EQ(requests[0].Header("expect"), "");
  EXPECT_EQ(requests[1].path, "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(requests[1].Header("x-aws-ec2-metadata-token"), "imds-session-token");
  EXPECT_EQ(requests[2].path, "/latest/meta-data/iam/security-credentials/gpufleet-node");
  EXPECT_EQ(requests[2].Header("x-aws-ec2-metadata-token"), "imds-session-token");

  // The fake insists on the token: a plain GET is refused.
  HttpRequest plain;
  plain.url = imds_->url() + "/latest/meta-data/iam/security-credentials/";
  GF_ASSERT_OK_AND_ASSIGN(HttpResponse refused, http_.Send(plain));
  EXPECT_EQ(refused.status, 401);
}

TEST_F(ImdsTest, FallsBackToImdsV1OnlyWhenAllowed) {
  v1_only_.set(true);
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, Chain()->Get());
  EXPECT_EQ(c.access_key_id, "ASIAIMDS1");
  auto requests = imds_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].Header("x-aws-ec2-metadata-token"), "");

  vars_["AWS_EC2_METADATA_V1_DISABLED"] = "true";
  EXPECT_THAT(ErrorOf(Chain()->Get()),
              StatusIs(StatusCode::kFailedPrecondition, AllOf(HasSubstr("imds"), HasSubstr("IMDSv1 is disabled"))));
}

TEST_F(ImdsTest, Disabled) {
  vars_["AWS_EC2_METADATA_DISABLED"] = "TRUE";
  EXPECT_THAT(ErrorOf(Chain()->Get()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("imds: AWS_EC2_METADATA_DISABLED=true")));
  EXPECT_EQ(imds_->count(), 0u);
}

TEST_F(ImdsTest, NoInstanceProfileIsSkipped) {
  role_.set("");
  EXPECT_THAT(ErrorOf(Chain()->Get()),
              StatusIs(StatusCode::kUnauthenticated, AllOf(HasSubstr("imds:"), HasSubstr("no IAM role"))));
}

// ---- nothing at all ----

TEST_F(CredentialsTest, NothingConfiguredListsEverySource) {
  Status s = ErrorOf(Chain()->Get());
  EXPECT_THAT(s, StatusIs(StatusCode::kUnauthenticated,
                          AllOf(HasSubstr("environment: AWS_ACCESS_KEY_ID is not set"),
                                HasSubstr("web-identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set"),
                                HasSubstr("shared-files: profile \"default\" is not in " + home() + "/.aws/credentials"),
                                HasSubstr("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and"),
                                HasSubstr("imds: no instance metadata service at http://127.0.0.1:1"))));
}

TEST_F(CredentialsTest, SecretsStayOutOfLogs) {
  std::ostringstream logs;
  core::log::Configure(core::log::Level::kTrace, core::log::Format::kJson, &logs);
  vars_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  vars_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  vars_["AWS_SESSION_TOKEN"] = kSessionToken;
  EXPECT_THAT(Chain()->Get(), IsOk());
  vars_.clear();
  vars_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:1";
  WriteCredentialsFile("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = " + std::string(kFileSecret) + "\n");
  EXPECT_THAT(Chain()->Get(), IsOk());
  core::log::Configure(core::log::Level::kInfo, core::log::Format::kConsole);
  EXPECT_THAT(logs.str(), HasSubstr("using AWS credentials"));
  for (const char* secret : {kEnvSecret, kFileSecret, kSessionToken}) EXPECT_THAT(logs.str(), Not(HasSubstr(secret)));
}

TEST(StaticCredentialsTest, ReturnsWhatItWasGiven) {
  auto p = NewStaticCredentials(Credentials{"AKIASTATIC", "s", "", std::nullopt, ""});
  GF_ASSERT_OK_AND_ASSIGN(Credentials c, p->Get());
  EXPECT_EQ(c.access_key_id, "AKIASTATIC");
  EXPECT_EQ(c.source, "static");
}

// ---- the HTTP client ----

TEST_F(CredentialsTest, HttpClientErrors) {
  auto client = NewCurlHttpClient();
  HttpRequest r;
  r.url = "http://127.0.0.1:1/path?X-Amz-Security-Token=" + std::string(kSessionToken);
  Result<HttpResponse> refused = client->Send(r);
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable, HasSubstr("GET http://127.0.0.1:1/path: ")));
  EXPECT_THAT(std::string(refused.status().message()), Not(HasSubstr(kSessionToken)));

  r.url = "file:///etc/passwd";
  EXPECT_THAT(client->Send(r), StatusIs(StatusCode::kInvalidArgument));

  // A listener that never answers: the request times out.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  r.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  r.timeout = 200ms;
  EXPECT_THAT(client->Send(r), StatusIs(StatusCode::kDeadlineExceeded));
  ::close(fd);
}

TEST_F(CredentialsTest, HttpClientSendsWhatItIsGiven) {
  FakeServer server([](const apiserver::HttpRequest& r) {
    apiserver::HttpResponse resp = Respond(201, "echo:" + r.body, "text/plain");
    resp.headers["X-Request-Id"] = "abc";
    return resp;
  });
  auto client = NewCurlHttpClient();
  for (int i = 0; i < 3; ++i) {  // pooled handles are reused
    HttpRequest r;
    r.method = "POST";
    r.url = server.url() + "/a%20b?x=1";
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}, {"X-Empty", ""}};
    r.body = std::string(2000, 'z');  // large enough that curl would ask for 100-continue
    GF_ASSERT_OK_AND_ASSIGN(HttpResponse resp, client->Send(r));
    EXPECT_EQ(resp.status, 201);
    EXPECT_EQ(resp.body, "echo:" + r.body);
    EXPECT_EQ(resp.headers["x-request-id"], "abc");
  }
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, "/a%20b?x=1");
  EXPECT_EQ(requests[0].Header("content-type"), "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_EQ(requests[0].Header("expect"), "");
  EXPECT_EQ(requests[0].headers.count("x-empty"), 1u);
}

// ---- shared config: INI, region, endpoints ----

TEST(AwsConfigTest, ParseIniFollowsConfigparser) {
  GF_ASSERT_OK_AND_ASSIGN(IniFile f, ParseIni("\xEF\xBB\xBF# comment\n"
                                              "[default]\n"
                                              "  Region = us-east-1 # not a comment\n"
                                              "  output: json\n"
                                              "\t; indented comment\n"

                                              "[profile dev]\n"
                                              "s3 =\n"
                                              "  addressing_style = path\n"
                                              "  max_concurrent_requests=20\n"
                                              "note = first\n"
                                              "  second\n"
                                              "empty =\n"
                                              "[ services  local ]\n"
                                              "ec2 =\n"
                                              "  endpoint_url = http://127.0.0.1:8787\n",
                                              "/x/config"));
  ASSERT_EQ(f.sections.size(), 3u);
  const IniSection* d = f.Find("default");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->values.at("region"), "us-east-1 # not a comment");
  EXPECT_EQ(d->values.at("output"), "json");
  // A line indented deeper than its setting continues that setting, whatever it looks like.
  GF_ASSERT_OK_AND_ASSIGN(IniFile g, ParseIni("[a]\nregion = x\n  output: json\n", "config"));
  EXPECT_EQ(g.sections.at(0).values.at("region"), "x\noutput: json");
  EXPECT_EQ(g.sections.at(0).values.count("output"), 0u);
  const IniSection* dev = f.Find("profile dev");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->values.at("s3"), "");
  EXPECT_EQ(dev->nested.at("s3").at("addressing_style"), "path");
  EXPECT_EQ(dev->nested.at("s3").at("max_concurrent_requests"), "20");
  EXPECT_EQ(dev->values.at("note"), "first\nsecond");
  EXPECT_EQ(dev->values.at("empty"), "");
  ASSERT_NE(f.Find("services  local"), nullptr);
}

TEST(AwsConfigTest, ParseIniErrorsNameFileAndLine) {
  EXPECT_THAT(ParseIni("region = x\n", "/p/config"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("/p/config:1: setting \"region\" comes before")));
  EXPECT_THAT(ParseIni("[a]\nx=1\n[a]\n", "/p/config"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("/p/config:3: section \"a\" appears twice")));
  EXPECT_THAT(ParseIni("[a]\nx=1\nX = 2\n", "/p/config"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("/p/config:3: setting \"x\" appears twice")));
  EXPECT_THAT(ParseIni("[a]\njust words\n", "/p/config"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("/p/config:2:")));
  EXPECT_THAT(ParseIni("[]\n", "/p/config"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("/p/config:1:")));
  EXPECT_THAT(ParseIni("[a]\ns3 =\n  no equals here\n", "/p/config"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("/p/config:3:")));
}

class AwsConfigFilesTest : public CredentialsTest {};

TEST_F(AwsConfigFilesTest, RegionPrecedence) {
  WriteConfigFile("[default]\nregion = us-west-2\n[profile eu]\nregion = eu-west-1\n");
  EXPECT_EQ(ResolveRegion(Env(), "", "").value_or(""), "us-west-2");
  EXPECT_EQ(ResolveRegion(Env(), "eu", "").value_or(""), "eu-west-1");
  vars_["AWS_PROFILE"] = "eu";
  EXPECT_EQ(ResolveRegion(Env(), "", "").value_or(""), "eu-west-1");
  vars_["AWS_DEFAULT_REGION"] = "ap-south-1";
  EXPECT_EQ(ResolveRegion(Env(), "", "").value_or(""), "ap-south-1");
  vars_["AWS_REGION"] = "ca-central-1";
  EXPECT_EQ(ResolveRegion(Env(), "", "").value_or(""), "ca-central-1");
  EXPECT_EQ(ResolveRegion(Env(), "", "sa-east-1").value_or(""), "sa-east-1");
}

TEST_F(AwsConfigFilesTest, NoRegionNamesEveryPlace) {
  WriteConfigFile("[default]\noutput = json\n");
  EXPECT_THAT(ResolveRegion(Env(), "", ""),
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("--region"), HasSubstr("AWS_REGION"), HasSubstr("AWS_DEFAULT_REGION"),
                             HasSubstr("profile \"default\""), HasSubstr(home() + "/.aws/config"))));
  WriteConfigFile("[default]\nregion\n");
  EXPECT_THAT(ResolveRegion(Env(), "", ""),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(home() + "/.aws/config:2")));
}

TEST_F(AwsConfigFilesTest, EndpointPrecedence) {
  WriteConfigFile("[default]\nendpoint_url = http://profile-wide\nservices = local\n"
                  "[services local]\nec2 =\n  endpoint_url = http://services-ec2\n");
  const std::string fallback = "https://ec2.us-east-1.amazonaws.com";
  EXPECT_EQ(ResolveEndpoint(Env(), "", "SSM", "", fallback), "http://profile-wide");
  EXPECT_EQ(ResolveEndpoint(Env(), "", "EC2", "", fallback), "http://services-ec2");
  vars_["AWS_ENDPOINT_URL"] = "http://env-wide";
  EXPECT_EQ(ResolveEndpoint(Env(), "", "EC2", "", fallback), "http://env-wide");
  vars_["AWS_ENDPOINT_URL_EC2"] = "http://env-ec2";
  EXPECT_EQ(ResolveEndpoint(Env(), "", "EC2", "", fallback), "http://env-ec2");
  EXPECT_EQ(ResolveEndpoint(Env(), "", "EC2", "http://flag", fallback), "http://flag");
  vars_["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
  EXPECT_EQ(ResolveEndpoint(Env(), "", "EC2", "", fallback), fallback);
  EXPECT_EQ(ResolveEndpoint(Env(), "", "EC2", "http://flag", fallback), "http://flag");
  vars_.clear();
  EXPECT_EQ(ResolveEndpoint(Env(), "nosuchprofile", "EC2", "", fallback), fallback);
}

TEST(AwsConfigTest, ProfileSections) {
  SharedConfig shared;
  shared.config = ParseIni("[default]\nregion = a\n[profile default]\nregion = b\n"
                           "[profile   \"quoted name\"]\nregion = q\n[dev]\nregion = not-a-profile\n",
                           "config")
                      .value();
  shared.credentials = ParseIni("[dev]\naws_access_key_id = K\n", "credentials").value();
  EXPECT_EQ(shared.Profile("default").at("region"), "b");  // the later section wins
  EXPECT_EQ(shared.Profile("quoted name").at("region"), "q");
  EXPECT_EQ(shared.Profile("dev").count("region"), 0u);  // "[dev]" in the config file is no profile
  EXPECT_TRUE(shared.HasProfile("dev"));                 // but the credentials file has it
  EXPECT_FALSE(shared.HasProfile("prod"));
}

}  // namespace
}  // namespace gpufleet::cloud::aws
