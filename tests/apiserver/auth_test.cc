#include "apiserver/auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apiserver/pki.h"
#include "testing/status_matchers.h"

namespace gpufleet::apiserver {
namespace {

namespace fs = std::filesystem;
using ::gpufleet::testing::IsOk;
using ::gpufleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL_free>>;

X509Ptr ParseCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr ParseKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

mode_t Mode(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

// A fresh directory per test under ::testing::TempDir().
class AuthDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    for (char& c : name) c = (c == '/' ? '_' : c);
    dir_ = fs::path(::testing::TempDir()) /
           ("gpufleet_" + name + "_" + std::to_string(::getpid())) / "data";
    std::error_code ec;
    fs::remove_all(dir_.parent_path(), ec);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_.parent_path(), ec);
  }
  fs::path dir_;
};

// ---- Token file ----

struct ParseCase {
  std::string name;
  std::string text;
  std::vector<std::pair<std::string, UserInfo>> want;  // token, user
  std::optional<std::string> error;                    // substring of the kInvalidArgument
};

class AuthTokenFileParseTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(AuthTokenFileParseTest, MatchesKubeApiserver) {
  const ParseCase& c = GetParam();
  Result<std::vector<TokenRecord>> records = ParseTokenFile(c.text);
  if (c.error) {
    EXPECT_THAT(records, StatusIs(StatusCode::kInvalidArgument, HasSubstr(*c.error)));
    EXPECT_THAT(std::string(records.status().message()), Not(HasSubstr("secret")));
    return;
  }
  ASSERT_THAT(records, IsOk());
  std::vector<std::pair<std::string, UserInfo>> got;
  for (const TokenRecord& r : *records) got.emplace_back(r.token, r.user);
  EXPECT_EQ(got, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Auth, AuthTokenFileParseTest,
    ::testing::Values(
        ParseCase{"ThreeFields", "t1,alice,u1\n", {{"t1", {"alice", "u1", {}}}}, {}},
        ParseCase{"QuotedGroups",
                  "t2,bob,u2,\"system:masters,dev\"\n",
                  {{"t2", {"bob", "u2", {"system:masters", "dev"}}}},
                  {}},
        ParseCase{"UnquotedSingleGroupAndExtraFieldsIgnored",
                  "t3,carol,u3,ops,ignored,more",
                  {{"t3", {"carol", "u3", {"ops"}}}},
                  {}},
        ParseCase{"EmptyGroupsDropped",
                  "t4,dave,u4,\",a,,b,\"\n",
                  {{"t4", {"dave", "u4", {"a", "b"}}}},
                  {}},
        ParseCase{"QuotedTokenWithCommaAndEscapedQuote",
                  "\"a,b\"\"c\",eve,u5\n",
                  {{"a,b\"c", {"eve", "u5", {}}}},
                  {}},
        ParseCase{"CrlfAndBlankLines",
                  "\r\nt6,frank,u6\r\n\n\nt7,gina,u7,\"g\"\r\n",
                  {{"t6", {"frank", "u6", {}}}, {"t7", {"gina", "u7", {"g"}}}},
                  {}},
        ParseCase{"EmptyTokenSkipped", ",henry,u8\nt9,ivy,u9\n", {{"t9", {"ivy", "u9", {}}}}, {}},
        ParseCase{"Empty", "", {}, {}},
        ParseCase{
            "TooFewFields", "t1,alice,u1\nsecret,bob\n", {}, "line 2: a record needs at least 3"},
        ParseCase{
            "Unterminated", "\"secret,alice,u1\n", {}, "line 1: quoted field is not terminated"},
        ParseCase{"BareQuote", "sec\"ret,alice,u1\n", {}, "line 1: bare \""},
        ParseCase{"TextAfterQuote", "\"secret\"x,alice,u1\n", {}, "line 1: extraneous"},
        ParseCase{"CommentLinesAreRecords", "# secret tokens\n", {}, "line 1"}),
    [](const ::testing::TestParamInfo<ParseCase>& param_info) { return param_info.param.name; });

TEST_F(AuthDirTest, TokenFileCreatedOnFirstStartThenReused) {
  GF_ASSERT_OK_AND_ASSIGN(std::vector<TokenRecord> first, LoadOrCreateTokenFile(dir_));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_THAT(first[0].token, MatchesRegex("[0-9a-f]{64}"));
  EXPECT_EQ(first[0].user, (UserInfo{"gpufleet-admin", "gpufleet-admin", {"system:masters"}}));
  EXPECT_EQ(Mode(dir_ / "tokens.csv"), 0600u);
  EXPECT_EQ(Mode(dir_), 0700u);
  std::ifstream in(dir_ / "tokens.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, first[0].token + ",gpufleet-admin,gpufleet-admin,\"system:masters\"");

  GF_ASSERT_OK_AND_ASSIGN(std::vector<TokenRecord> second, LoadOrCreateTokenFile(dir_));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].token, first[0].token);
  EXPECT_EQ(TokenForUser(second, kAdminUser).value_or(""), first[0].token);
  EXPECT_THAT(TokenForUser(second, "nobody"), StatusIs(StatusCode::kNotFound));

  fs::path other = dir_.parent_path() / "other";
  GF_ASSERT_OK_AND_ASSIGN(std::vector<TokenRecord> third, LoadOrCreateTokenFile(other));
  EXPECT_NE(third[0].token, first[0].token);
}

TEST_F(AuthDirTest, ExistingTokenFileIsUsedAsIs) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "tokens.csv") << "abc,alice,1,\"dev,ops\"\n";
  GF_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Authenticator> auth, Authenticator::Create(dir_));
  EXPECT_EQ(auth->AuthenticateBearer("Bearer abc").value_or(UserInfo{}),
            (UserInfo{"alice", "1", {"dev", "ops"}}));
  EXPECT_THAT(auth->AuthenticateBearer("Bearer def"), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(AuthDirTest, MalformedTokenFileNamesPathAndLineButNoToken) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "tokens.csv") << "abc,alice,1\nsupersecret,bob\n";
  Result<std::unique_ptr<Authenticator>> auth = Authenticator::Create(dir_);
  EXPECT_THAT(auth, StatusIs(StatusCode::kInvalidArgument,
                             HasSubstr((dir_ / "tokens.csv").string() + ": line 2")));
  EXPECT_THAT(std::string(auth.status().message()), Not(HasSubstr("supersecret")));
}

// ---- Bearer tokens ----

constexpr char kAliceToken[] = "4f1c9e0b7a6d5c3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e";
constexpr char kBobToken[] = "short-token";

Authenticator MakeAuthenticator() {
  return Authenticator({{kAliceToken, {"alice", "uid-a", {"system:masters"}}},
                        {kBobToken, {"bob", "uid-b", {"dev", "ops"}}},
                        {"", {"empty", "uid-e", {}}}});
}

struct BearerCase {
  std::string name;
  std::string header;
  std::optional<std::string> user;  // nullopt: rejected
};

class AuthBearerTest : public ::testing::TestWithParam<BearerCase> {};

TEST_P(AuthBearerTest, AcceptsOnlyAKnownBearerToken) {
  const BearerCase& c = GetParam();
  Result<UserInfo> user = MakeAuthenticator().AuthenticateBearer(c.header);
  if (c.user) {
    ASSERT_THAT(user, IsOk());
    EXPECT_EQ(user->name, *c.user);
    return;
  }
  EXPECT_THAT(user, StatusIs(StatusCode::kUnauthenticated));
  const std::string message(user.status().message());
  for (const char* secret : {kAliceToken, kBobToken, "dXNlcjpwYXNz", "4f1c9e0b", "short"}) {
    EXPECT_THAT(message, Not(HasSubstr(secret)));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Auth, AuthBearerTest,
    ::testing::Values(
        BearerCase{"Exact", std::string("Bearer ") + kAliceToken, "alice"},
        BearerCase{"LowerCaseScheme", std::string("bearer ") + kAliceToken, "alice"},
        BearerCase{"UpperCaseScheme", std::string("BEARER ") + kBobToken, "bob"},
        BearerCase{"SurroundingWhitespace", std::string(" \tBearer ") + kBobToken + " \r\n", "bob"},
        BearerCase{"ThirdPartIgnoredAsKubernetesDoes", std::string("Bearer ") + kBobToken + " x",
                   "bob"},
        BearerCase{"Empty", "", std::nullopt}, BearerCase{"Whitespace", "  \t ", std::nullopt},
        BearerCase{"SchemeOnly", "Bearer", std::nullopt},
        BearerCase{"SchemeAndSpace", "Bearer ", std::nullopt},
        BearerCase{"TwoSpaces", std::string("Bearer  ") + kAliceToken, std::nullopt},
        BearerCase{"TabSeparator", std::string("Bearer\t") + kAliceToken, std::nullopt},
        BearerCase{"Basic", "Basic dXNlcjpwYXNz", std::nullopt},
        BearerCase{"MissingPrefix", kAliceToken, std::nullopt},
        BearerCase{"PrefixWithoutSpace", std::string("Bearer") + kAliceToken, std::nullopt},
        BearerCase{"WrongToken",
                   "Bearer 0000000000000000000000000000000000000000000000000000000000000000",
                   std::nullopt},
        BearerCase{"Longer", std::string("Bearer ") + kAliceToken + "0", std::nullopt},
        BearerCase{"Shorter", std::string("Bearer ") + std::string(kAliceToken).substr(0, 63),
                   std::nullopt},
        BearerCase{"CaseChanged", "Bearer SHORT-TOKEN", std::nullopt},
        BearerCase{"EmptyRecordTokenDoesNotMatch", "Bearer \"\"", std::nullopt}),
    [](const ::testing::TestParamInfo<BearerCase>& param_info) { return param_info.param.name; });

TEST(AuthBearer, ReturnsTheWholeUserAndLastDuplicateWins) {
  Authenticator auth({{"tok", {"first", "1", {"a"}}}, {"tok", {"second", "2", {"b", "c"}}}});
  EXPECT_EQ(auth.AuthenticateBearer("Bearer tok").value_or(UserInfo{}),
            (UserInfo{"second", "2", {"b", "c"}}));
}

TEST(AuthBearer, ErrorMessagesSayWhy) {
  Authenticator auth = MakeAuthenticator();
  EXPECT_THAT(auth.AuthenticateBearer(""),
              StatusIs(StatusCode::kUnauthenticated, "no Authorization header"));
  EXPECT_THAT(auth.AuthenticateBearer("Basic x"),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("not a bearer token")));
  EXPECT_THAT(auth.AuthenticateBearer("Bearer  x"),
              StatusIs(StatusCode::kUnauthenticated, "empty bearer token"));
  EXPECT_THAT(auth.AuthenticateBearer("Bearer x"),
              StatusIs(StatusCode::kUnauthenticated, "invalid bearer token"));
}

// ---- Client certificates ----

// A certificate with `subject` entries (field, value), signed by the PKI's CA; `eku` null: none.
X509Ptr IssueClientCert(const Pki& pki,
                        const std::vector<std::pair<std::string, std::string>>& subject,
                        const char* eku) {
  X509Ptr ca = ParseCert(pki.ca_cert_pem);
  PkeyPtr ca_key = ParseKey(pki.ca_key_pem);
  PkeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  X509* x = cert.get();
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
  for (const auto& [field, value] : subject) {
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), field.c_str(), MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
  }
  X509_set_issuer_name(x, X509_get_subject_name(ca.get()));
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key.get());
  if (eku != nullptr) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca.get(), x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, NID_ext_key_usage, eku);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, ca_key.get(), EVP_sha256());
  return cert;
}

class AuthCertificateTest : public AuthDirTest {
 protected:
  void SetUp() override {
    AuthDirTest::SetUp();
    Result<Pki> pki = LoadOrCreatePki(dir_, {});
    ASSERT_THAT(pki, IsOk());
    pki_ = *pki;
  }
  Pki pki_;
  Authenticator auth_{std::vector<TokenRecord>{{"tok", {"token-user", "u", {}}}}};
};

TEST_F(AuthCertificateTest, UserFromCommonNameAndGroupsFromOrganizations) {
  X509Ptr admin = ParseCert(pki_.admin_cert_pem);
  EXPECT_EQ(auth_.AuthenticateCertificate(admin.get()).value_or(UserInfo{}),
            (UserInfo{"gpufleet-admin", "", {"system:masters"}}));
  X509Ptr jane = IssueClientCert(pki_, {{"O", "dev"}, {"O", "ops"}, {"CN", "jane"}}, "clientAuth");
  EXPECT_EQ(auth_.AuthenticateCertificate(jane.get()).value_or(UserInfo{}),
            (UserInfo{"jane", "", {"dev", "ops"}}));
  X509Ptr bob = IssueClientCert(pki_, {{"CN", "bob"}}, nullptr);  // no EKU: any purpose
  EXPECT_EQ(auth_.AuthenticateCertificate(bob.get()).value_or(UserInfo{}),
            (UserInfo{"bob", "", {}}));
}

TEST_F(AuthCertificateTest, RejectsCertificatesNotMeantForClients) {
  X509Ptr server = ParseCert(pki_.server_cert_pem);
  EXPECT_THAT(auth_.AuthenticateCertificate(server.get()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("client authentication")));
  X509Ptr ca = ParseCert(pki_.ca_cert_pem);
  EXPECT_THAT(auth_.AuthenticateCertificate(ca.get()), StatusIs(StatusCode::kUnauthenticated));
  X509Ptr server_eku = IssueClientCert(pki_, {{"CN", "x"}}, "serverAuth");
  EXPECT_THAT(auth_.AuthenticateCertificate(server_eku.get()),
              StatusIs(StatusCode::kUnauthenticated));
  X509Ptr no_cn = IssueClientCert(pki_, {{"O", "system:masters"}}, "clientAuth");
  EXPECT_THAT(auth_.AuthenticateCertificate(no_cn.get()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("no common name")));
  EXPECT_THAT(auth_.AuthenticateCertificate(nullptr), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(AuthCertificateTest, AuthenticatePrefersCertificateAndRefusesAnonymous) {
  X509Ptr admin = ParseCert(pki_.admin_cert_pem);
  X509Ptr server = ParseCert(pki_.server_cert_pem);
  EXPECT_EQ(auth_.Authenticate("Bearer tok", admin.get()).value_or(UserInfo{}).name,
            "gpufleet-admin");
  EXPECT_EQ(auth_.Authenticate("Bearer tok", nullptr).value_or(UserInfo{}).name, "token-user");
  EXPECT_EQ(auth_.Authenticate("Bearer tok", server.get()).value_or(UserInfo{}).name, "token-user");
  EXPECT_THAT(auth_.Authenticate("", server.get()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("client authentication")));
  EXPECT_THAT(auth_.Authenticate("", nullptr),
              StatusIs(StatusCode::kUnauthenticated, "anonymous requests are not allowed"));
  EXPECT_THAT(auth_.Authenticate("Bearer nope", nullptr),
              StatusIs(StatusCode::kUnauthenticated, "invalid bearer token"));
}

// A TLS 1.3 handshake in memory between a server using the PKI's serving certificate (asking for
// client certificates from the CA) and a client presenting the admin certificate.
struct HandshakeCase {
  std::string name;
  std::string host;  // the DNS name or IP address the client checks
  bool is_ip;
  bool ok;
};

class AuthTlsTest : public AuthCertificateTest,
                    public ::testing::WithParamInterface<HandshakeCase> {};

TEST_P(AuthTlsTest, HandshakeThenAuthenticatePeer) {
  SslCtxPtr server_ctx(SSL_CTX_new(TLS_server_method()));
  SslCtxPtr client_ctx(SSL_CTX_new(TLS_client_method()));
  X509Ptr ca = ParseCert(pki_.ca_cert_pem);
  X509Ptr server_cert = ParseCert(pki_.server_cert_pem),
          admin_cert = ParseCert(pki_.admin_cert_pem);
  PkeyPtr server_key = ParseKey(pki_.server_key_pem), admin_key = ParseKey(pki_.admin_key_pem);
  for (SSL_CTX* ctx : {server_ctx.get(), client_ctx.get()}) {
    ASSERT_EQ(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca.get()), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  ASSERT_EQ(SSL_CTX_use_certificate(server_ctx.get(), server_cert.get()), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey(server_ctx.get(), server_key.get()), 1);
  ASSERT_EQ(SSL_CTX_add_client_CA(server_ctx.get(), ca.get()), 1);
  ASSERT_EQ(SSL_CTX_use_certificate(client_ctx.get(), admin_cert.get()), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey(client_ctx.get(), admin_key.get()), 1);

  SslPtr server(SSL_new(server_ctx.get())), client(SSL_new(client_ctx.get()));
  const HandshakeCase& c = GetParam();
  if (c.is_ip) {
    ASSERT_EQ(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(client.get()), c.host.c_str()), 1);
  } else {
    ASSERT_EQ(SSL_set1_host(client.get(), c.host.c_str()), 1);
  }
  BIO *server_bio = nullptr, *client_bio = nullptr;
  ASSERT_EQ(BIO_new_bio_pair(&server_bio, 0, &client_bio, 0), 1);
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_accept_state(server.get());
  SSL_set_connect_state(client.get());
  struct Side {
    SSL* ssl;
    bool done;
  } sides[] = {{client.get(), false}, {server.get(), false}};
  bool failed = false;
  for (int i = 0; i < 20 && !(sides[0].done && sides[1].done) && !failed; ++i) {
    for (Side& side : sides) {
      if (side.done) continue;
      int rc = SSL_do_handshake(side.ssl);
      int err = SSL_get_error(side.ssl, rc);
      if (rc == 1) {
        side.done = true;
      } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        failed = true;
      }
    }
  }
  ERR_clear_error();
  ASSERT_EQ(sides[0].done && sides[1].done, GetParam().ok);
  if (!GetParam().ok) return;
  EXPECT_EQ(SSL_get_verify_result(server.get()), X509_V_OK);
  X509* peer = SSL_get0_peer_certificate(server.get());
  EXPECT_EQ(auth_.Authenticate("", peer).value_or(UserInfo{}),
            (UserInfo{"gpufleet-admin", "", {"system:masters"}}));
}

INSTANTIATE_TEST_SUITE_P(Auth, AuthTlsTest,
                         ::testing::Values(HandshakeCase{"Localhost", "localhost", false, true},
                                           HandshakeCase{"Ipv4Loopback", "127.0.0.1", true, true},
                                           HandshakeCase{"Ipv6Loopback", "::1", true, true},
                                           HandshakeCase{"OtherName", "example.com", false, false},
                                           HandshakeCase{"OtherIp", "10.1.2.3", true, false}),
                         [](const ::testing::TestParamInfo<HandshakeCase>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace gpufleet::apiserver
