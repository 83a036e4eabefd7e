#include "apiserver/pki.h"

#include <fcntl.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <ctime>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include "core/log.h"

namespace gpufleet::apiserver {
namespace {

namespace fs = std::filesystem;

template <auto Free>
struct OsslDeleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using X509Ptr = std::unique_ptr<X509, OsslDeleter<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OsslDeleter<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, OsslDeleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, OsslDeleter<BN_free>>;
using StorePtr = std::unique_ptr<X509_STORE, OsslDeleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OsslDeleter<X509_STORE_CTX_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, OsslDeleter<X509_EXTENSION_free>>;

constexpr const char* kCaCert = "ca.crt";
constexpr const char* kCaKey = "ca.key";
constexpr const char* kServerCert = "apiserver.crt";
constexpr const char* kServerKey = "apiserver.key";
constexpr const char* kAdminCert = "admin.crt";
constexpr const char* kAdminKey = "admin.key";
constexpr mode_t kKeyMode = 0600;
constexpr mode_t kCertMode = 0644;
constexpr time_t kBackdateSeconds = 5 * 60;

// An owned file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string OpensslError() {
  unsigned long e = ERR_peek_last_error();
  std::string out = "unknown OpenSSL error";
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out = buf;
  }
  ERR_clear_error();
  return out;
}

Status ErrnoStatus(int err, const fs::path& path, std::string_view what) {
  std::string msg = path.string() + ": " + std::string(what) + ": " +
                    std::error_code(err, std::generic_category()).message();
  if (err == ENOENT) return NotFoundError(msg);
  if (err == EACCES || err == EPERM) return PermissionDeniedError(msg);
  if (err == EEXIST) return AlreadyExistsError(msg);
  return FailedPreconditionError(msg);
}

Result<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    return InternalError("RAND_bytes: " + OpensslError());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

fs::path DirOf(const fs::path& p) { return p.has_parent_path() ? p.parent_path() : fs::path("."); }

Status FsyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, dir, "open directory");
  Fd guard(fd);
  if (::fsync(fd) != 0) return ErrnoStatus(errno, dir, "fsync directory");
  return OkStatus();
}

// Writes `contents` to a new temporary file beside `path` with exactly `mode`, fsynced and
// closed. Returns its name; nothing is left behind on failure.
Result<fs::path> StageFile(const fs::path& path, std::string_view contents, mode_t mode) {
  GF_ASSIGN_OR_RETURN(std::string suffix, RandomHex(8));
  fs::path tmp = DirOf(path) / ("." + path.filename().string() + ".tmp-" + suffix);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) return ErrnoStatus(errno, path, "create temporary file");
  auto fail = [&](std::string_view what) {
    Status s = ErrnoStatus(errno, path, what);
    ::unlink(tmp.c_str());
    return s;
  };
  if (::fchmod(fd.get(), mode) != 0) return fail("chmod");
  for (size_t done = 0; done < contents.size();) {
    ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail("fsync");
  if (::close(fd.release()) != 0) return fail("close");
  return tmp;
}

// Creates `path` with mode 0700 (and its parents with default modes) if it does not exist.
// `tighten`: an existing directory open to group or others is chmod-ed to 0700.
Status MakePrivateDir(const fs::path& path, bool tighten) {
  if (path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return ErrnoStatus(ec.value(), path.parent_path(), "create directory");
  }
  if (::mkdir(path.c_str(), 0700) == 0) return OkStatus();
  if (errno != EEXIST) return ErrnoStatus(errno, path, "create directory");
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, path, "stat");
  if (!S_ISDIR(st.st_mode)) return FailedPreconditionError(path.string() + ": not a directory");
  if (tighten && (st.st_mode & 077) != 0 && ::chmod(path.c_str(), 0700) != 0) {
    return ErrnoStatus(errno, path, "chmod 0700");
  }
  return OkStatus();
}

Result<Fd> LockDir(const fs::path& dir) {
  fs::path path = dir / ".lock";
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return ErrnoStatus(errno, path, "open");
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return ErrnoStatus(errno, path, "flock");
  }
  return fd;
}

int NoPassword(char*, int, int, void*) { return 0; }

// The first PEM object of the kind `Read` reads (never prompting for a password), or null.
template <typename Ptr, auto Read>
Ptr ParsePem(std::string_view pem) {
  if (pem.size() > INT_MAX) return nullptr;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Ptr out(bio ? Read(bio.get(), nullptr, NoPassword, nullptr) : nullptr);
  ERR_clear_error();
  return out;
}
constexpr auto ParseCert = ParsePem<X509Ptr, PEM_read_bio_X509>;
constexpr auto ParseKey = ParsePem<PkeyPtr, PEM_read_bio_PrivateKey>;

Result<std::string> ToPem(X509* cert, EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  bool ok = bio != nullptr && (cert ? PEM_write_bio_X509(bio.get(), cert)
                                    : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                                               nullptr, nullptr)) == 1;
  if (!ok) return InternalError("PEM encoding: " + OpensslError());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// A certificate with its key, parsed and as PEM text.
struct KeyPair {
  X509Ptr cert;
  PkeyPtr key;
  std::string cert_pem, key_pem;
};

// What to put in a certificate.
struct CertSpec {
  std::string common_name;
  std::string organization;  // empty: none
  int purpose = 0;           // 0: CA; X509_PURPOSE_SSL_SERVER or X509_PURPOSE_SSL_CLIENT
  std::vector<std::string> dns_names, ip_addresses;
  time_t not_before = 0, not_after = 0;
};

// Issues a certificate for `key`, signed by `issuer_key`; `issuer` null means self-signed.
Result<X509Ptr> Issue(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  unsigned char serial[16];
  if (!cert || RAND_bytes(serial, sizeof serial) != 1) {
    return InternalError("creating certificate: " + OpensslError());
  }
  BnPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
  X509* x = cert.get();
  X509_NAME* subject = X509_get_subject_name(x);
  auto add_name = [&](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(subject, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                      0) == 1;
  };
  bool ok = bn != nullptr && (!BN_is_zero(bn.get()) || BN_set_word(bn.get(), 1) == 1) &&
            X509_set_version(x, X509_VERSION_3) == 1 &&
            BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x)) != nullptr &&
            (spec.organization.empty() || add_name("O", spec.organization)) &&
            add_name("CN", spec.common_name) &&
            X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject) == 1 &&
            ASN1_TIME_set(X509_getm_notBefore(x), spec.not_before) != nullptr &&
            ASN1_TIME_set(X509_getm_notAfter(x), spec.not_after) != nullptr &&
            X509_set_pubkey(x, key) == 1;
  if (!ok) return InternalError("building certificate " + spec.common_name + ": " + OpensslError());

  std::vector<std::pair<int, const char*>> extensions;
  if (spec.purpose == 0) {
    extensions = {{NID_basic_constraints, "critical,CA:TRUE"},
                  {NID_key_usage, "critical,keyCertSign,cRLSign"},
                  {NID_subject_key_identifier, "hash"}};
  } else {
    extensions = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, spec.purpose == X509_PURPOSE_SSL_SERVER ? "serverAuth" : "clientAuth"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"}};
  }
  // ValidateOptions admits only [A-Za-z0-9.*-] names and addresses a2i_IPADDRESS parses, so no
  // ',' can smuggle in another entry. "IP:::1" is fine: the type ends at the first ':'.
  std::string sans;
  for (const std::string& dns : spec.dns_names) sans += (sans.empty() ? "DNS:" : ",DNS:") + dns;
  for (const std::string& ip : spec.ip_addresses) sans += (sans.empty() ? "IP:" : ",IP:") + ip;
  if (!sans.empty()) extensions.emplace_back(NID_subject_alt_name, sans.c_str());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : x, x, nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
    if (!ext || X509_add_ext(x, ext.get(), -1) != 1) {
      return InternalError(std::string("adding extension ") + OBJ_nid2sn(nid) + ": " +
                           OpensslError());
    }
  }
  if (X509_sign(x, issuer_key, EVP_sha256()) <= 0) {
    return InternalError("signing certificate " + spec.common_name + ": " + OpensslError());
  }
  return cert;
}

// A new key and a certificate for it, as PEM too.
Result<KeyPair> NewKeyPair(const CertSpec& spec, const KeyPair* issuer) {
  KeyPair out;
  out.key.reset(EVP_EC_gen("P-256"));
  if (!out.key) return InternalError("generating a P-256 key: " + OpensslError());
  GF_ASSIGN_OR_RETURN(out.cert, Issue(spec, out.key.get(), issuer ? issuer->cert.get() : nullptr,
                                      issuer ? issuer->key.get() : out.key.get()));
  GF_ASSIGN_OR_RETURN(out.cert_pem, ToPem(out.cert.get(), nullptr));
  GF_ASSIGN_OR_RETURN(out.key_pem, ToPem(nullptr, out.key.get()));
  return out;
}

// Empty when `cert` chains to `ca` for `purpose` (0: any) at `now`; otherwise OpenSSL's reason.
std::string VerifyAgainst(X509* cert, X509* ca, int purpose, std::optional<time_t> now) {
  StorePtr store(X509_STORE_new());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr) != 1 ||
      (purpose != 0 && X509_STORE_CTX_set_purpose(ctx.get(), purpose) != 1)) {
    return "cannot set up verification: " + OpensslError();
  }
  if (now) X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), *now);
  if (X509_verify_cert(ctx.get()) == 1) return "";
  std::string reason = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  ERR_clear_error();
  return reason.empty() ? "verification failed" : reason;
}

// Reads a certificate and its key. `problem` says why they cannot be used (missing, corrupt,
// mismatched); I/O errors other than a missing or oversized file are returned as errors.
Result<KeyPair> ReadPair(const fs::path& dir, const char* cert_name, const char* key_name,
                         std::string* problem) {
  KeyPair pair;
  for (const char* name : {cert_name, key_name}) {
    Result<std::string> text = ReadSmallFile(dir / name);
    if (IsNotFound(text.status()) || IsOutOfRange(text.status())) {
      *problem = std::string(text.status().message());
      return pair;
    }
    if (!text.ok()) return text.status();
    bool is_cert = name == cert_name;
    if (is_cert) {
      pair.cert = ParseCert(*text);
      pair.cert_pem = std::move(*text);
    } else {
      pair.key = ParseKey(*text);
      pair.key_pem = std::move(*text);
    }
    if (is_cert ? !pair.cert : !pair.key) {
      *problem = (dir / name).string() + ": not a PEM " + (is_cert ? "certificate" : "private key");
      return pair;
    }
  }
  if (X509_check_private_key(pair.cert.get(), pair.key.get()) != 1) {
    ERR_clear_error();
    *problem = (dir / key_name).string() + ": does not match " + cert_name;
  }
  return pair;
}

// The existing CA, or nullopt when there is no ca.crt (first start).
Result<std::optional<KeyPair>> LoadCa(const fs::path& dir, time_t now) {
  if (IsNotFound(ReadSmallFile(dir / kCaCert).status())) return std::nullopt;
  std::string problem;
  GF_ASSIGN_OR_RETURN(KeyPair ca, ReadPair(dir, kCaCert, kCaKey, &problem));
  std::string path = (dir / kCaCert).string();
  std::string fix = "; restore the CA or delete " + dir.string() +
                    " to create a new one (every client must then be given the new ca.crt)";
  if (!problem.empty()) return DataLossError(problem + fix);
  if (X509_check_ca(ca.cert.get()) == 0 || X509_self_signed(ca.cert.get(), 1) != 1) {
    ERR_clear_error();
    return FailedPreconditionError(path + ": not a self-signed CA certificate" + fix);
  }
  if (ASN1_TIME_cmp_time_t(X509_get0_notAfter(ca.cert.get()), now) <= 0) {
    return FailedPreconditionError(path + ": the CA certificate has expired" + fix);
  }
  return std::optional<KeyPair>(std::move(ca));
}

time_t ToSeconds(std::chrono::hours h) {
  return static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(h).count());
}

// Why `leaf` cannot be reused under `ca` with these options; empty when it can.
std::string LeafProblem(const KeyPair& leaf, const KeyPair& ca, int purpose, time_t now,
                        const PkiOptions& options) {
  X509* cert = leaf.cert.get();
  std::string reason = VerifyAgainst(cert, ca.cert.get(), purpose, now);
  if (!reason.empty()) return "does not verify against ca.crt: " + reason;
  if (ASN1_TIME_cmp_time_t(X509_get0_notAfter(cert), now + ToSeconds(options.renew_before)) <= 0) {
    return "expires within " + std::to_string(options.renew_before.count()) + "h";
  }
  if (purpose == X509_PURPOSE_SSL_SERVER) {
    for (const std::string& dns : options.dns_names) {
      if (X509_check_host(cert, dns.data(), dns.size(),
                          X509_CHECK_FLAG_NO_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
                          nullptr) != 1) {
        return "does not cover DNS name " + dns;
      }
    }
    for (const std::string& ip : options.ip_addresses) {
      if (X509_check_ip_asc(cert, ip.c_str(), 0) != 1) return "does not cover IP address " + ip;
    }
    return "";
  }
  std::vector<std::string> cn = SubjectAttributes(cert, NID_commonName);
  std::vector<std::string> orgs = SubjectAttributes(cert, NID_organizationName);
  if (cn.size() != 1 || cn[0] != options.admin_common_name ||
      std::find(orgs.begin(), orgs.end(), options.admin_organization) == orgs.end()) {
    return "subject is not CN=" + options.admin_common_name + ", O=" + options.admin_organization;
  }
  return "";
}

bool IsDnsName(std::string_view name) {
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.') return false;
  char prev = '.';
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || (c == '.' && prev != '.');
    if (!ok) return false;
    prev = c;
  }
  return true;
}

Status ValidateOptions(const PkiOptions& o) {
  for (const std::string& dns : o.dns_names) {
    if (!IsDnsName(dns)) {
      return InvalidArgumentError("PkiOptions.dns_names: \"" + dns + "\" is not a DNS name");
    }
  }
  for (const std::string& ip : o.ip_addresses) {
    ASN1_OCTET_STRING* parsed = a2i_IPADDRESS(ip.c_str());
    ERR_clear_error();
    if (parsed == nullptr) {
      return InvalidArgumentError("PkiOptions.ip_addresses: \"" + ip + "\" is not an IP address");
    }
    ASN1_OCTET_STRING_free(parsed);
  }
  if (o.ca_validity.count() <= 0 || o.renew_before.count() < 0 ||
      o.leaf_validity <= o.renew_before) {
    return InvalidArgumentError(
        "PkiOptions: need ca_validity > 0 and leaf_validity > renew_before >= 0");
  }
  if (o.ca_common_name.empty() || o.server_common_name.empty() || o.admin_common_name.empty()) {
    return InvalidArgumentError("PkiOptions: common names must not be empty");
  }
  return OkStatus();
}

struct PendingFile {
  const char* name;
  std::string contents;
  mode_t mode;
};

// Stages every file, then renames them into place in order, then fsyncs the directory.
Status WriteAll(const fs::path& dir, const std::vector<PendingFile>& files) {
  std::vector<fs::path> staged;
  auto cleanup = [&] {
    for (const fs::path& tmp : staged) ::unlink(tmp.c_str());
  };
  for (const PendingFile& f : files) {
    Result<fs::path> tmp = StageFile(dir / f.name, f.contents, f.mode);
    if (!tmp.ok()) {
      cleanup();
      return tmp.status();
    }
    staged.push_back(*tmp);
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (::rename(staged[i].c_str(), (dir / files[i].name).c_str()) != 0) {
      Status s = ErrnoStatus(errno, dir / files[i].name, "rename");
      cleanup();
      return s;
    }
  }
  return files.empty() ? OkStatus() : FsyncDir(dir);
}

}  // namespace

Result<Pki> LoadOrCreatePki(const std::filesystem::path& dir, const PkiOptions& options) {
  GF_RETURN_IF_ERROR(ValidateOptions(options));
  const core::Clock& clock = options.clock ? *options.clock : core::RealClock();
  const time_t now = std::chrono::system_clock::to_time_t(clock.Now());
  const fs::path pki = dir / "pki";
  GF_RETURN_IF_ERROR(MakePrivateDir(dir, /*tighten=*/false));
  GF_RETURN_IF_ERROR(MakePrivateDir(pki, /*tighten=*/true));
  GF_ASSIGN_OR_RETURN(Fd lock, LockDir(pki));
  core::log::Logger log("apiserver.pki");

  std::vector<PendingFile> writes;
  GF_ASSIGN_OR_RETURN(std::optional<KeyPair> ca, LoadCa(pki, now));
  if (!ca) {
    CertSpec spec{.common_name = options.ca_common_name,
                  .not_before = now - kBackdateSeconds,
                  .not_after = now + ToSeconds(options.ca_validity)};
    GF_ASSIGN_OR_RETURN(ca, NewKeyPair(spec, nullptr));
    writes.push_back({kCaKey, ca->key_pem, kKeyMode});
    writes.push_back({kCaCert, ca->cert_pem, kCertMode});
    log.Info("created certificate authority", {{"file", (pki / kCaCert).string()}});
  }
  time_t ca_not_after = now + ToSeconds(options.ca_validity);
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(ca->cert.get()), &tm) == 1) ca_not_after = timegm(&tm);
  if (ca_not_after <= now + ToSeconds(options.renew_before)) {
    log.Warn("certificate authority expires soon; leaf certificates are capped at its expiry",
             {{"file", (pki / kCaCert).string()}});
  }

  struct Leaf {
    const char* cert_name;
    const char* key_name;
    CertSpec spec;
    KeyPair pair;
  };
  Leaf leaves[] = {
      {kServerCert,
       kServerKey,
       CertSpec{.common_name = options.server_common_name,
                .purpose = X509_PURPOSE_SSL_SERVER,
                .dns_names = options.dns_names,
                .ip_addresses = options.ip_addresses},
       {}},
      {kAdminCert,
       kAdminKey,
       CertSpec{.common_name = options.admin_common_name,
                .organization = options.admin_organization,
                .purpose = X509_PURPOSE_SSL_CLIENT},
       {}},
  };
  const bool new_ca = !writes.empty();
  for (Leaf& leaf : leaves) {
    std::string problem = new_ca ? "new certificate authority" : "";
    if (!new_ca) {
      GF_ASSIGN_OR_RETURN(leaf.pair, ReadPair(pki, leaf.cert_name, leaf.key_name, &problem));
    }
    if (problem.empty()) {
      problem = LeafProblem(leaf.pair, *ca, leaf.spec.purpose, now, options);
      if (!problem.empty()) problem = (pki / leaf.cert_name).string() + ": " + problem;
    }
    if (problem.empty()) continue;
    leaf.spec.not_before = now - kBackdateSeconds;
    leaf.spec.not_after = std::min(now + ToSeconds(options.leaf_validity), ca_not_after);
    GF_ASSIGN_OR_RETURN(leaf.pair, NewKeyPair(leaf.spec, &*ca));
    writes.push_back({leaf.key_name, leaf.pair.key_pem, kKeyMode});
    writes.push_back({leaf.cert_name, leaf.pair.cert_pem, kCertMode});
    log.Info("issued certificate",
             {{"file", (pki / leaf.cert_name).string()}, {"reason", problem}});
  }
  GF_RETURN_IF_ERROR(WriteAll(pki, writes));
  return Pki{.ca_cert_pem = std::move(ca->cert_pem),
             .ca_key_pem = std::move(ca->key_pem),
             .server_cert_pem = std::move(leaves[0].pair.cert_pem),
             .server_key_pem = std::move(leaves[0].pair.key_pem),
             .admin_cert_pem = std::move(leaves[1].pair.cert_pem),
             .admin_key_pem = std::move(leaves[1].pair.key_pem)};
}

Result<std::string> CertificateCommonName(const std::string& pem) {
  X509Ptr cert = ParseCert(pem);
  if (!cert) return InvalidArgumentError("not a PEM-encoded X.509 certificate");
  std::vector<std::string> cn = SubjectAttributes(cert.get(), NID_commonName);
  if (cn.empty()) return NotFoundError("certificate subject has no common name");
  return cn.front();
}

std::vector<std::string> SubjectAttributes(X509* cert, int nid) {
  std::vector<std::string> out;
  if (cert == nullptr) return out;
  X509_NAME* name = X509_get_subject_name(cert);
  for (int i = -1; (i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0;) {
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n >= 0) out.emplace_back(reinterpret_cast<const char*>(utf8), static_cast<size_t>(n));
    OPENSSL_free(utf8);
  }
  ERR_clear_error();
  return out;
}

Status VerifyCertificateChain(const std::string& cert_pem, const std::string& ca_pem) {
  X509Ptr cert = ParseCert(cert_pem);
  X509Ptr ca = ParseCert(ca_pem);
  if (!cert) return InvalidArgumentError("certificate: not a PEM-encoded X.509 certificate");
  if (!ca) return InvalidArgumentError("CA: not a PEM-encoded X.509 certificate");
  std::string reason = VerifyAgainst(cert.get(), ca.get(), 0, std::nullopt);
  if (!reason.empty()) return InvalidArgumentError("certificate does not verify: " + reason);
  return OkStatus();
}

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents,
                           mode_t mode, bool replace) {
  GF_ASSIGN_OR_RETURN(fs::path tmp, StageFile(path, contents, mode));
  int rc = replace ? ::rename(tmp.c_str(), path.c_str()) : ::link(tmp.c_str(), path.c_str());
  int err = errno;
  if (!replace || rc != 0) ::unlink(tmp.c_str());
  if (rc != 0) return ErrnoStatus(err, path, replace ? "rename" : "create");
  return FsyncDir(DirOf(path));
}

Result<std::string> ReadSmallFile(const std::filesystem::path& path, size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, path, "open");
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, path, "read");
    if (n == 0) return out;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      return OutOfRangeError(path.string() + ": larger than " + std::to_string(max_bytes) +
                             " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace gpufleet::apiserver
