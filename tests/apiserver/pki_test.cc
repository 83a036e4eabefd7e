#include "apiserver/pki.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "testing/status_matchers.h"

namespace gpufleet::apiserver {
namespace {

namespace fs = std::filesystem;
using ::gpufleet::testing::IsOk;
using ::gpufleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr Parse(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), -1), BIO_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Write(const fs::path& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}

mode_t Mode(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// A fresh directory per test under ::testing::TempDir().
class PkiTest : public ::testing::Test {
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
  fs::path pki() const { return dir_ / "pki"; }

  fs::path dir_;
};

TEST_F(PkiTest, FirstStartWritesPrivateFiles) {
  GF_ASSERT_OK_AND_ASSIGN(Pki pki_set, LoadOrCreatePki(dir_, {}));
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(pki())) {
    names.insert(entry.path().filename().string());
  }
  EXPECT_EQ(names, (std::set<std::string>{".lock", "admin.crt", "admin.key", "apiserver.crt",
                                          "apiserver.key", "ca.crt", "ca.key"}));
  EXPECT_EQ(Mode(pki()), 0700u);
  for (const char* key : {"ca.key", "apiserver.key", "admin.key"}) {
    EXPECT_EQ(Mode(pki() / key), 0600u) << key;
  }
  for (const char* cert : {"ca.crt", "apiserver.crt", "admin.crt"}) {
    EXPECT_EQ(Mode(pki() / cert), 0644u) << cert;
  }
  EXPECT_EQ(Read(pki() / "ca.crt"), pki_set.ca_cert_pem);
  EXPECT_EQ(Read(pki() / "ca.key"), pki_set.ca_key_pem);
  EXPECT_EQ(Read(pki() / "apiserver.crt"), pki_set.server_cert_pem);
  EXPECT_EQ(Read(pki() / "apiserver.key"), pki_set.server_key_pem);
  EXPECT_EQ(Read(pki() / "admin.crt"), pki_set.admin_cert_pem);
  EXPECT_EQ(Read(pki() / "admin.key"), pki_set.admin_key_pem);
  EXPECT_THAT(pki_set.ca_key_pem, HasSubstr("BEGIN PRIVATE KEY"));
}

TEST_F(PkiTest, ReloadReusesIdenticalCerts) {
  GF_ASSERT_OK_AND_ASSIGN(Pki first, LoadOrCreatePki(dir_, {}));
  GF_ASSERT_OK_AND_ASSIGN(Pki second, LoadOrCreatePki(dir_, {}));
  EXPECT_EQ(first.ca_cert_pem, second.ca_cert_pem);
  EXPECT_EQ(first.ca_key_pem, second.ca_key_pem);
  EXPECT_EQ(first.server_cert_pem, second.server_cert_pem);
  EXPECT_EQ(first.server_key_pem, second.server_key_pem);
  EXPECT_EQ(first.admin_cert_pem, second.admin_cert_pem);
  EXPECT_EQ(first.admin_key_pem, second.admin_key_pem);
}

TEST_F(PkiTest, ChainsVerifyOnlyAgainstTheirCa) {
  GF_ASSERT_OK_AND_ASSIGN(Pki a, LoadOrCreatePki(dir_ / "a", {}));
  GF_ASSERT_OK_AND_ASSIGN(Pki b, LoadOrCreatePki(dir_ / "b", {}));
  GF_EXPECT_OK(VerifyCertificateChain(a.server_cert_pem, a.ca_cert_pem));
  GF_EXPECT_OK(VerifyCertificateChain(a.admin_cert_pem, a.ca_cert_pem));
  GF_EXPECT_OK(VerifyCertificateChain(a.ca_cert_pem, a.ca_cert_pem));
  EXPECT_THAT(VerifyCertificateChain(a.server_cert_pem, b.ca_cert_pem),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unable to get local issuer")));
  EXPECT_THAT(VerifyCertificateChain("junk", a.ca_cert_pem),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(PkiTest, CertificatesHaveTheKubernetesProfile) {
  GF_ASSERT_OK_AND_ASSIGN(Pki p, LoadOrCreatePki(dir_, {}));
  X509Ptr ca = Parse(p.ca_cert_pem), server = Parse(p.server_cert_pem);
  X509Ptr admin = Parse(p.admin_cert_pem);
  ASSERT_TRUE(ca && server && admin);

  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_get_key_usage(ca.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  ASSERT_NE(X509_get0_subject_key_id(ca.get()), nullptr);

  EXPECT_EQ(X509_check_ca(server.get()), 0);
  EXPECT_EQ(X509_get_extended_key_usage(server.get()), static_cast<uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(X509_check_host(server.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_host(server.get(), "example.com", 0, 0, nullptr), 0);
  ASSERT_NE(X509_get0_authority_key_id(server.get()), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(server.get()),
                                  X509_get0_subject_key_id(ca.get())),
            0);

  EXPECT_EQ(X509_get_extended_key_usage(admin.get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
  EXPECT_THAT(SubjectAttributes(admin.get(), NID_commonName), ElementsAre("gpufleet-admin"));
  EXPECT_THAT(SubjectAttributes(admin.get(), NID_organizationName), ElementsAre("system:masters"));

  struct {
    X509* cert;
    int days;
  } validity[] = {{ca.get(), 3650}, {server.get(), 365}, {admin.get(), 365}};
  std::set<std::string> serials;
  for (const auto& [cert, want_days] : validity) {
    int days = 0, secs = 0;
    ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert)), 1);
    EXPECT_EQ(days, want_days);
    EXPECT_EQ(secs, 300);  // notBefore is backdated 5 minutes
    std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(
        ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr), BN_free);
    EXPECT_LE(BN_num_bits(serial.get()), 128);
    EXPECT_GT(BN_num_bits(serial.get()), 64);  // random: fails with probability 2^-64
    EXPECT_FALSE(BN_is_negative(serial.get()));
    char* hex = BN_bn2hex(serial.get());
    serials.insert(hex);
    OPENSSL_free(hex);
    EVP_PKEY* key = X509_get0_pubkey(cert);
    EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
    char group[64] = {};
    ASSERT_EQ(EVP_PKEY_get_group_name(key, group, sizeof group, nullptr), 1);
    EXPECT_STREQ(group, "prime256v1");
  }
  EXPECT_EQ(serials.size(), 3u);
}

TEST_F(PkiTest, CertificateCommonName) {
  GF_ASSERT_OK_AND_ASSIGN(Pki p, LoadOrCreatePki(dir_, {}));
  EXPECT_EQ(CertificateCommonName(p.ca_cert_pem).value_or(""), "gpufleet-ca");
  EXPECT_EQ(CertificateCommonName(p.server_cert_pem).value_or(""), "gpufleet-apiserver");
  EXPECT_EQ(CertificateCommonName(p.admin_cert_pem).value_or(""), "gpufleet-admin");
  EXPECT_THAT(CertificateCommonName("-----BEGIN CERTIFICATE-----\nAAAA\n"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CertificateCommonName(p.ca_key_pem), StatusIs(StatusCode::kInvalidArgument));
}

// Damage done to an existing set; the named leaf must be issued again under the same CA.
struct DamageCase {
  std::string name;
  bool server_damaged;  // else the admin leaf
  std::function<void(const fs::path& pki, const fs::path& other_pki)> damage;
};

class PkiDamageTest : public PkiTest, public ::testing::WithParamInterface<DamageCase> {};

TEST_P(PkiDamageTest, ReissuesTheDamagedLeafWithTheSameCa) {
  GF_ASSERT_OK_AND_ASSIGN(Pki before, LoadOrCreatePki(dir_, {}));
  ASSERT_THAT(LoadOrCreatePki(dir_ / "other", {}), IsOk());
  GetParam().damage(pki(), dir_ / "other" / "pki");

  GF_ASSERT_OK_AND_ASSIGN(Pki after, LoadOrCreatePki(dir_, {}));
  EXPECT_EQ(after.ca_cert_pem, before.ca_cert_pem);
  EXPECT_EQ(after.ca_key_pem, before.ca_key_pem);
  const bool server = GetParam().server_damaged;
  EXPECT_NE(server ? after.server_cert_pem : after.admin_cert_pem,
            server ? before.server_cert_pem : before.admin_cert_pem);
  EXPECT_EQ(server ? after.admin_cert_pem : after.server_cert_pem,
            server ? before.admin_cert_pem : before.server_cert_pem);
  EXPECT_EQ(server ? after.admin_key_pem : after.server_key_pem,
            server ? before.admin_key_pem : before.server_key_pem);
  GF_EXPECT_OK(VerifyCertificateChain(after.server_cert_pem, after.ca_cert_pem));
  GF_EXPECT_OK(VerifyCertificateChain(after.admin_cert_pem, after.ca_cert_pem));
  EXPECT_EQ(Read(pki() / "apiserver.key"), after.server_key_pem);
  EXPECT_EQ(Read(pki() / "admin.crt"), after.admin_cert_pem);
  EXPECT_EQ(Mode(pki() / (server ? "apiserver.key" : "admin.key")), 0600u);

  GF_ASSERT_OK_AND_ASSIGN(Pki again, LoadOrCreatePki(dir_, {}));  // healed: reused now
  EXPECT_EQ(again.server_cert_pem, after.server_cert_pem);
  EXPECT_EQ(again.admin_cert_pem, after.admin_cert_pem);
}

INSTANTIATE_TEST_SUITE_P(
    Pki, PkiDamageTest,
    ::testing::Values(
        DamageCase{"ServerKeyMissing", true,
                   [](const fs::path& p, const fs::path&) { fs::remove(p / "apiserver.key"); }},
        DamageCase{"ServerKeyCorrupt", true,
                   [](const fs::path& p, const fs::path&) { Write(p / "apiserver.key", "junk"); }},
        DamageCase{"ServerCertTruncated", true,
                   [](const fs::path& p, const fs::path&) {
                     std::string pem = Read(p / "apiserver.crt");
                     Write(p / "apiserver.crt", pem.substr(0, pem.size() / 2));
                   }},
        DamageCase{"ServerKeyIsAdminKey", true,
                   [](const fs::path& p, const fs::path&) {
                     fs::copy_file(p / "admin.key", p / "apiserver.key",
                                   fs::copy_options::overwrite_existing);
                   }},
        DamageCase{"ServerPairFromAnotherCa", true,
                   [](const fs::path& p, const fs::path& other) {
                     for (const char* f : {"apiserver.crt", "apiserver.key"}) {
                       fs::copy_file(other / f, p / f, fs::copy_options::overwrite_existing);
                     }
                   }},
        DamageCase{"ServerCertIsAdminCert", true,
                   [](const fs::path& p, const fs::path&) {
                     for (const char* f : {"crt", "key"}) {
                       fs::copy_file(p / (std::string("admin.") + f),
                                     p / (std::string("apiserver.") + f),
                                     fs::copy_options::overwrite_existing);
                     }
                   }},
        DamageCase{"AdminCertMissing", false,
                   [](const fs::path& p, const fs::path&) { fs::remove(p / "admin.crt"); }},
        DamageCase{"AdminKeyEmpty", false,
                   [](const fs::path& p, const fs::path&) { Write(p / "admin.key", ""); }}),
    [](const ::testing::TestParamInfo<DamageCase>& param_info) { return param_info.param.name; });

TEST_F(PkiTest, SanChangeIssuesNewServerCertOnly) {
  GF_ASSERT_OK_AND_ASSIGN(Pki before, LoadOrCreatePki(dir_, {}));
  PkiOptions more;
  more.dns_names.push_back("api.example.com");
  more.ip_addresses.push_back("10.0.0.5");
  GF_ASSERT_OK_AND_ASSIGN(Pki after, LoadOrCreatePki(dir_, more));
  EXPECT_NE(after.server_cert_pem, before.server_cert_pem);
  EXPECT_NE(after.server_key_pem, before.server_key_pem);
  EXPECT_EQ(after.admin_cert_pem, before.admin_cert_pem);
  EXPECT_EQ(after.ca_cert_pem, before.ca_cert_pem);
  X509Ptr server = Parse(after.server_cert_pem);
  EXPECT_EQ(X509_check_host(server.get(), "api.example.com", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "10.0.0.5", 0), 1);
  EXPECT_EQ(X509_check_host(server.get(), "localhost", 0, 0, nullptr), 1);

  GF_ASSERT_OK_AND_ASSIGN(Pki same, LoadOrCreatePki(dir_, more));
  EXPECT_EQ(same.server_cert_pem, after.server_cert_pem);
  // Dropping a SAN keeps the certificate: it still covers every requested name.
  GF_ASSERT_OK_AND_ASSIGN(Pki fewer, LoadOrCreatePki(dir_, {}));
  EXPECT_EQ(fewer.server_cert_pem, after.server_cert_pem);
}

TEST_F(PkiTest, OpensslCliShowsSansAndUsages) {
  if (::access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/openssl";
  PkiOptions options;
  options.dns_names.push_back("api.example.com");
  ASSERT_THAT(LoadOrCreatePki(dir_, options), IsOk());
  auto text = [&](const char* file) {
    std::string cmd = "/usr/bin/openssl x509 -noout -text -in " + (pki() / file).string() + " 2>&1";
    std::string out;
    FILE* f = ::popen(cmd.c_str(), "r");
    if (f == nullptr) return out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    ::pclose(f);
    return out;
  };
  std::string server = text("apiserver.crt");
  EXPECT_THAT(server, HasSubstr("DNS:localhost, DNS:api.example.com, IP Address:127.0.0.1, "
                                "IP Address:0:0:0:0:0:0:0:1"));
  EXPECT_THAT(server, HasSubstr("TLS Web Server Authentication"));
  EXPECT_THAT(server, HasSubstr("X509v3 Authority Key Identifier"));
  EXPECT_THAT(server, HasSubstr("ecdsa-with-SHA256"));
  EXPECT_THAT(server, HasSubstr("Subject: CN = gpufleet-apiserver"));
  EXPECT_THAT(server, HasSubstr("Issuer: CN = gpufleet-ca"));
  std::string ca = text("ca.crt");
  EXPECT_THAT(ca, HasSubstr("CA:TRUE"));
  EXPECT_THAT(ca, HasSubstr("Certificate Sign, CRL Sign"));
  EXPECT_THAT(ca, HasSubstr("X509v3 Subject Key Identifier"));
  std::string admin = text("admin.crt");
  EXPECT_THAT(admin, HasSubstr("Subject: O = system:masters, CN = gpufleet-admin"));
  EXPECT_THAT(admin, HasSubstr("TLS Web Client Authentication"));
  EXPECT_THAT(admin, Not(HasSubstr("CA:TRUE")));
}

TEST_F(PkiTest, RenewsLeavesNearExpiryAndKeepsCa) {
  core::FakeClock clock(std::chrono::system_clock::now());
  PkiOptions options;
  options.clock = &clock;
  GF_ASSERT_OK_AND_ASSIGN(Pki first, LoadOrCreatePki(dir_, options));
  clock.Advance(std::chrono::hours(24 * 334));  // 31 days left
  GF_ASSERT_OK_AND_ASSIGN(Pki kept, LoadOrCreatePki(dir_, options));
  EXPECT_EQ(kept.server_cert_pem, first.server_cert_pem);
  EXPECT_EQ(kept.admin_cert_pem, first.admin_cert_pem);
  clock.Advance(std::chrono::hours(24 * 2));  // 29 days left
  GF_ASSERT_OK_AND_ASSIGN(Pki renewed, LoadOrCreatePki(dir_, options));
  EXPECT_EQ(renewed.ca_cert_pem, first.ca_cert_pem);
  EXPECT_NE(renewed.server_cert_pem, first.server_cert_pem);
  EXPECT_NE(renewed.admin_cert_pem, first.admin_cert_pem);
  X509Ptr cert = Parse(renewed.server_cert_pem);
  time_t now = std::chrono::system_clock::to_time_t(clock.Now());
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notBefore(cert.get()), now - 301), 1);
  GF_ASSERT_OK_AND_ASSIGN(Pki again, LoadOrCreatePki(dir_, options));
  EXPECT_EQ(again.server_cert_pem, renewed.server_cert_pem);
}

TEST_F(PkiTest, MissingCaCertStartsOver) {
  GF_ASSERT_OK_AND_ASSIGN(Pki before, LoadOrCreatePki(dir_, {}));
  fs::remove(pki() / "ca.crt");
  GF_ASSERT_OK_AND_ASSIGN(Pki after, LoadOrCreatePki(dir_, {}));
  EXPECT_NE(after.ca_cert_pem, before.ca_cert_pem);
  EXPECT_NE(after.ca_key_pem, before.ca_key_pem);
  GF_EXPECT_OK(VerifyCertificateChain(after.server_cert_pem, after.ca_cert_pem));
  GF_EXPECT_OK(VerifyCertificateChain(after.admin_cert_pem, after.ca_cert_pem));
}

struct CaDamageCase {
  std::string name;
  std::function<void(const fs::path& pki)> damage;
  StatusCode code;
  std::string file;
};

class PkiCaDamageTest : public PkiTest, public ::testing::WithParamInterface<CaDamageCase> {};

TEST_P(PkiCaDamageTest, IsAnErrorNamingTheFileAndChangesNothing) {
  ASSERT_THAT(LoadOrCreatePki(dir_, {}), IsOk());
  GetParam().damage(pki());
  std::string ca_crt = Read(pki() / "ca.crt"), server_crt = Read(pki() / "apiserver.crt");
  EXPECT_THAT(LoadOrCreatePki(dir_, {}),
              StatusIs(GetParam().code, HasSubstr((pki() / GetParam().file).string())));
  EXPECT_EQ(Read(pki() / "ca.crt"), ca_crt);
  EXPECT_EQ(Read(pki() / "apiserver.crt"), server_crt);
}

INSTANTIATE_TEST_SUITE_P(
    Pki, PkiCaDamageTest,
    ::testing::Values(
        CaDamageCase{"KeyMissing", [](const fs::path& p) { fs::remove(p / "ca.key"); },
                     StatusCode::kDataLoss, "ca.key"},
        CaDamageCase{"KeyCorrupt", [](const fs::path& p) { Write(p / "ca.key", "junk"); },
                     StatusCode::kDataLoss, "ca.key"},
        CaDamageCase{"KeyMismatch",
                     [](const fs::path& p) {
                       fs::copy_file(p / "admin.key", p / "ca.key",
                                     fs::copy_options::overwrite_existing);
                     },
                     StatusCode::kDataLoss, "ca.key"},
        CaDamageCase{"CertCorrupt", [](const fs::path& p) { Write(p / "ca.crt", "junk"); },
                     StatusCode::kDataLoss, "ca.crt"},
        CaDamageCase{
            "CertIsALeaf",
            [](const fs::path& p) {
              fs::copy_file(p / "admin.crt", p / "ca.crt", fs::copy_options::overwrite_existing);
              fs::copy_file(p / "admin.key", p / "ca.key", fs::copy_options::overwrite_existing);
            },
            StatusCode::kFailedPrecondition, "ca.crt"}),
    [](const ::testing::TestParamInfo<CaDamageCase>& param_info) { return param_info.param.name; });

struct BadOptionsCase {
  std::string name;
  std::function<void(PkiOptions&)> change;
  std::string message;
};

class PkiBadOptionsTest : public PkiTest, public ::testing::WithParamInterface<BadOptionsCase> {};

TEST_P(PkiBadOptionsTest, IsInvalidArgumentAndWritesNothing) {
  PkiOptions options;
  GetParam().change(options);
  EXPECT_THAT(LoadOrCreatePki(dir_, options),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(GetParam().message)));
  EXPECT_FALSE(fs::exists(dir_));
}

INSTANTIATE_TEST_SUITE_P(
    Pki, PkiBadOptionsTest,
    ::testing::Values(
        BadOptionsCase{"IpNotAnAddress",
                       [](PkiOptions& o) { o.ip_addresses.push_back("300.1.1.1"); },
                       "\"300.1.1.1\""},
        BadOptionsCase{"IpIsAName", [](PkiOptions& o) { o.ip_addresses.push_back("localhost"); },
                       "\"localhost\""},
        BadOptionsCase{"DnsWithComma", [](PkiOptions& o) { o.dns_names.push_back("a,DNS:b"); },
                       "\"a,DNS:b\""},
        BadOptionsCase{"DnsEmpty", [](PkiOptions& o) { o.dns_names.push_back(""); }, "\"\""},
        BadOptionsCase{"DnsEmptyLabel", [](PkiOptions& o) { o.dns_names.push_back("a..b"); },
                       "\"a..b\""},
        BadOptionsCase{"RenewBeforeTooLong",
                       [](PkiOptions& o) { o.renew_before = o.leaf_validity; }, "renew_before"},
        BadOptionsCase{"EmptyAdminName", [](PkiOptions& o) { o.admin_common_name.clear(); },
                       "common names"}),
    [](const ::testing::TestParamInfo<BadOptionsCase>& param_info) {
      return param_info.param.name;
    });

TEST_F(PkiTest, WildcardAndIpv6SansAreAccepted) {
  PkiOptions options;
  options.dns_names = {"*.gpufleet.internal", "kubernetes.default.svc"};
  options.ip_addresses = {"fd00::10"};
  GF_ASSERT_OK_AND_ASSIGN(Pki p, LoadOrCreatePki(dir_, options));
  X509Ptr server = Parse(p.server_cert_pem);
  EXPECT_EQ(X509_check_host(server.get(), "api.gpufleet.internal", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "fd00:0::10", 0), 1);
  GF_ASSERT_OK_AND_ASSIGN(Pki again, LoadOrCreatePki(dir_, options));
  EXPECT_EQ(again.server_cert_pem, p.server_cert_pem);
}

TEST_F(PkiTest, LoosePkiDirectoryIsTightened) {
  ASSERT_THAT(LoadOrCreatePki(dir_, {}), IsOk());
  ASSERT_EQ(::chmod(pki().c_str(), 0755), 0);
  ASSERT_THAT(LoadOrCreatePki(dir_, {}), IsOk());
  EXPECT_EQ(Mode(pki()), 0700u);
}

TEST_F(PkiTest, ConcurrentStartsAgreeOnOneSet) {
  constexpr int kThreads = 4;
  std::vector<Result<Pki>> results(kThreads, Result<Pki>(InternalError("not run")));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[i] = LoadOrCreatePki(dir_, {}); });
  }
  for (std::thread& t : threads) t.join();
  for (const Result<Pki>& r : results) {
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->ca_cert_pem, results[0]->ca_cert_pem);
    EXPECT_EQ(r->server_cert_pem, results[0]->server_cert_pem);
    EXPECT_EQ(r->admin_key_pem, results[0]->admin_key_pem);
  }
}

TEST_F(PkiTest, WriteFileAtomically) {
  fs::create_directories(dir_);
  const fs::path path = dir_ / "secret";
  GF_ASSERT_OK(WriteFileAtomically(path, "one", 0600, /*replace=*/false));
  EXPECT_THAT(WriteFileAtomically(path, "two", 0600, /*replace=*/false),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr(path.string())));
  EXPECT_EQ(Read(path), "one");
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  GF_ASSERT_OK(WriteFileAtomically(path, "three", 0600));
  EXPECT_EQ(Read(path), "three");
  EXPECT_EQ(Mode(path), 0600u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
  EXPECT_THAT(WriteFileAtomically(dir_ / "missing" / "f", "x", 0600),
              StatusIs(StatusCode::kNotFound, HasSubstr("missing/f")));
}

TEST_F(PkiTest, ReadSmallFile) {
  fs::create_directories(dir_);
  Write(dir_ / "f", std::string(100, 'x'));
  EXPECT_EQ(ReadSmallFile(dir_ / "f").value_or(""), std::string(100, 'x'));
  EXPECT_THAT(ReadSmallFile(dir_ / "f", 99), StatusIs(StatusCode::kOutOfRange, HasSubstr("/f")));
  EXPECT_THAT(ReadSmallFile(dir_ / "nope"), StatusIs(StatusCode::kNotFound, HasSubstr("nope")));
}

}  // namespace
}  // namespace gpufleet::apiserver
