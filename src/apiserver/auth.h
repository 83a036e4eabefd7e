// Authenticator: who is making an API request, from a bearer token (kube-apiserver's static token
// file) or a client certificate (CN = user, O = groups). Anonymous requests are refused.
//
// Token file <dir>/tokens.csv, the format of kube-apiserver's --token-auth-file: one CSV record
// per line, `token,user,uid[,"group1,group2"]`; quoted fields may hold commas and "" escapes;
// blank lines are skipped; a record with an empty token is ignored; with a duplicated token the
// last record wins. On first start it is created (mode 0600) with one admin token: 32 random
// bytes as 64 hex digits, user gpufleet-admin, uid gpufleet-admin, group system:masters.
//
// Tokens are never logged nor put in a message. The authenticator keeps only their SHA-256
// digests and compares a presented token's digest with every entry using CRYPTO_memcmp, so the
// time taken does not depend on how much of a token matched.
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

typedef struct x509_st X509;

namespace gpufleet::apiserver {

inline constexpr std::string_view kAdminUser = "gpufleet-admin";
inline constexpr std::string_view kMastersGroup = "system:masters";

// The identity of an authenticated request (k8s.io/apiserver user.Info without extras).
struct UserInfo {
  std::string name;
  std::string uid;  // empty for certificate users
  std::vector<std::string> groups;
  friend bool operator==(const UserInfo&, const UserInfo&) = default;
};

// One record of a token file.
struct TokenRecord {
  std::string token;
  UserInfo user;
};

// Parses token-file text (format above). Groups are split on ',' and empty group names dropped.
// Errors: kInvalidArgument naming the line for a record with fewer than 3 fields or malformed
// quoting; the message never contains the line's text.
Result<std::vector<TokenRecord>> ParseTokenFile(std::string_view text);

// Reads <dir>/tokens.csv, first creating <dir> and the file (atomically, 0600, never replacing
// one that appeared meanwhile) when it does not exist. Errors: those of ParseTokenFile and of
// ReadSmallFile / WriteFileAtomically (pki.h), prefixed with the path.
Result<std::vector<TokenRecord>> LoadOrCreateTokenFile(const std::filesystem::path& dir);

// The token of the last record for `user` (to write the admin kubeconfig). kNotFound otherwise.
Result<std::string> TokenForUser(const std::vector<TokenRecord>& records, std::string_view user);

// Immutable after construction; every method is const and thread-safe.
class Authenticator {
 public:
  // Keeps the SHA-256 digest of each non-empty token.
  explicit Authenticator(const std::vector<TokenRecord>& records);

  // An authenticator for <dir>/tokens.csv (see LoadOrCreateTokenFile for errors).
  static Result<std::unique_ptr<Authenticator>> Create(const std::filesystem::path& dir);

  // `authorization_header_value` is the Authorization header's value. As kube-apiserver's bearer
  // authenticator does: surrounding whitespace is trimmed, the value is split on ' ' into at most
  // three parts, the first must be "bearer" in any case and the second is the token (a third
  // part is ignored). Errors, all kUnauthenticated, never containing the header's text: missing
  // or empty header, another scheme ("Basic ..."), empty token, unknown token.
  Result<UserInfo> AuthenticateBearer(std::string_view authorization_header_value) const;

  // The user of a client certificate the TLS layer has verified against the cluster CA:
  // name = subject CN, groups = subject O values, no uid.
  // REQUIRES: `peer` passed chain verification (SSL_get_verify_result() == X509_V_OK).
  // kUnauthenticated when `peer` is null, is not valid for client authentication (an EKU
  // without clientAuth, e.g. the serving certificate) or has no CN.
  Result<UserInfo> AuthenticateCertificate(X509* peer) const;

  // The request's user: the client certificate when it authenticates, else the bearer token.
  // kUnauthenticated when neither is present ("anonymous requests are not allowed") or the
  // credential presented is rejected.
  Result<UserInfo> Authenticate(std::string_view authorization_header_value, X509* peer) const;

 private:
  struct Entry {
    std::array<unsigned char, 32> digest;
    UserInfo user;
  };
  std::vector<Entry> entries_;
};

}  // namespace gpufleet::apiserver
