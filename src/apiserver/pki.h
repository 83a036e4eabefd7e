// PKI: the API server's certificate authority, serving certificate and admin client certificate,
// created on first start in <data dir>/pki/ and reused (or renewed) on later starts.
//
// Layout of <dir>/pki/ (directory 0700; keys 0600, certificates 0644; PEM; ECDSA P-256 keys in
// PKCS#8, SHA-256 signatures, random 128-bit serials):
//   ca.crt, ca.key                 self-signed CA: basicConstraints critical CA:TRUE, keyUsage
//                                  critical keyCertSign+cRLSign, subjectKeyIdentifier
//   apiserver.crt, apiserver.key   serving certificate: EKU serverAuth, SANs, SKI + AKI
//   admin.crt, admin.key           client certificate CN=gpufleet-admin O=system:masters, EKU
//                                  clientAuth (the Kubernetes x509 authenticator reads CN as the
//                                  user and O as the groups)
//   .lock                          flock(2) held while loading, so two starts do not race
// Every file is written to a temporary name, fsynced, then renamed over the old one, and the
// directory is fsynced. A crash can leave a leaf's new key beside its old certificate; the next
// start sees the mismatch and issues that leaf again, so no half-written set is ever used.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

typedef struct x509_st X509;

namespace gpufleet::apiserver {

struct PkiOptions {
  // Subject alternative names of the serving certificate. The defaults are always wanted for a
  // local server; callers append (e.g. the host's name and addresses, "kubernetes.default.svc").
  std::vector<std::string> dns_names = {"localhost"};
  std::vector<std::string> ip_addresses = {"127.0.0.1", "::1"};  // IPv4 or IPv6 text form

  std::chrono::hours ca_validity{24 * 365 * 10};
  std::chrono::hours leaf_validity{24 * 365};
  // A leaf with less than this left is issued again (leaf_validity must be longer).
  std::chrono::hours renew_before{24 * 30};

  std::string ca_common_name = "gpufleet-ca";
  std::string server_common_name = "gpufleet-apiserver";
  std::string admin_common_name = "gpufleet-admin";
  std::string admin_organization = "system:masters";

  // Source of "now" for validity windows and expiry checks; nullptr means core::RealClock().
  // Not owned; must outlive the call.
  const core::Clock* clock = nullptr;
};

// PEM text of every file in <dir>/pki/.
struct Pki {
  std::string ca_cert_pem, ca_key_pem;
  std::string server_cert_pem, server_key_pem;
  std::string admin_cert_pem, admin_key_pem;
};

// Loads <dir>/pki/, creating <dir> (0700) and the pki directory when missing.
//  - No ca.crt: a new CA and both leaves are created (first start).
//  - Otherwise the CA is kept. Each leaf is reused when both its files parse, the key matches the
//    certificate, the chain verifies against the CA for the leaf's purpose, it has more than
//    options.renew_before left, and it fits the options (the serving certificate covers every
//    requested SAN, extra SANs allowed; the admin certificate has the requested CN and O).
//    A leaf that fails any check (missing, corrupt, expiring, SANs changed) is issued again
//    under the same CA and the reason is logged; the other leaf is left alone.
// Leaf validity is capped at the CA's notAfter; notBefore is backdated 5 minutes for clock skew.
// Errors name the file:
//   kInvalidArgument    bad options (an IP that does not parse, a DNS name that is not
//                       [*.]label(.label)* over [A-Za-z0-9-], renew_before >= leaf_validity)
//   kDataLoss           ca.crt exists but it or ca.key is unreadable as PEM or they do not match
//                       (the CA is never replaced silently: clients trust it; delete <dir>/pki to
//                       start over)
//   kFailedPrecondition the CA is not a CA certificate or has expired; I/O failures
//   kPermissionDenied   a file or directory cannot be accessed
// Thread-safe across threads and processes (flock). Idempotent once the files are valid.
Result<Pki> LoadOrCreatePki(const std::filesystem::path& dir, const PkiOptions& options);

// The subject's CN of a PEM certificate. kInvalidArgument when `pem` holds no certificate,
// kNotFound when the subject has no CN.
Result<std::string> CertificateCommonName(const std::string& pem);

// The UTF-8 values of every `nid` attribute (NID_commonName, NID_organizationName, ...) in the
// certificate's subject, in order. Empty when there are none or `cert` is null.
std::vector<std::string> SubjectAttributes(X509* cert, int nid);

// Verifies `cert_pem` against the single trusted CA `ca_pem` with X509_verify_cert at the current
// time, for any purpose. kInvalidArgument when either PEM does not parse or verification fails
// (the message carries OpenSSL's reason). Used by tests and diagnostics.
Status VerifyCertificateChain(const std::string& cert_pem, const std::string& ca_pem);

// Files holding secrets (used by pki, auth and kubeconfig_writer).
//
// Writes `contents` to a temporary file beside `path` with exactly `mode` (umask ignored), fsyncs
// it, then renames it over `path` (replace=true) or links it to `path` (replace=false: fails with
// kAlreadyExists if `path` exists, so concurrent first starts do not clobber each other), and
// fsyncs the directory. The directory must exist. Readers never see a partial file.
// Errors: kAlreadyExists as above, kPermissionDenied, kNotFound (no directory),
// kFailedPrecondition for other I/O failures; each names `path`.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents,
                           mode_t mode, bool replace = true);

// Reads a whole file of at most `max_bytes`. kNotFound when it does not exist, kPermissionDenied,
// kOutOfRange when larger than max_bytes, kFailedPrecondition for other I/O failures; each names
// `path`.
Result<std::string> ReadSmallFile(const std::filesystem::path& path,
                                  size_t max_bytes = 1024 * 1024);

}  // namespace gpufleet::apiserver
