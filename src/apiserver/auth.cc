#include "apiserver/auth.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "apiserver/pki.h"
#include "core/log.h"

namespace gpufleet::apiserver {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTokenFile = "tokens.csv";

using Digest = std::array<unsigned char, 32>;

bool Sha256(std::string_view data, Digest* out) {
  unsigned int len = 0;
  bool ok = EVP_Digest(data.data(), data.size(), out->data(), &len, EVP_sha256(), nullptr) == 1 &&
            len == out->size();
  ERR_clear_error();
  return ok;
}

std::string_view TrimAscii(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

Status LineError(int line, std::string_view what) {
  return InvalidArgumentError("line " + std::to_string(line) + ": " + std::string(what));
}

// Whether `text` at `pos` is the end of a line (or of the text).
bool AtLineEnd(std::string_view text, size_t pos) {
  return pos >= text.size() || text[pos] == '\n' || text.substr(pos, 2) == "\r\n";
}

// Reads one CSV record starting at `*pos` as Go's encoding/csv does (RFC 4180, "\r\n" read as
// "\n", no lazy quotes), leaving `*pos` after its line end. `*line` counts newlines consumed.
Result<std::vector<std::string>> ReadRecord(std::string_view text, size_t* pos, int* line) {
  const int first_line = *line;
  std::vector<std::string> fields;
  for (;;) {
    std::string field;
    if (*pos < text.size() && text[*pos] == '"') {
      for (++*pos;; ++*pos) {
        if (*pos >= text.size()) return LineError(first_line, "quoted field is not terminated");
        char c = text[*pos];
        if (c == '"' && text.substr(*pos, 2) == "\"\"") {
          field += '"';
          ++*pos;
        } else if (c == '"') {
          ++*pos;
          break;
        } else if (c == '\r' && text.substr(*pos, 2) == "\r\n") {
          continue;
        } else {
          if (c == '\n') ++*line;
          field += c;
        }
      }
      if (*pos < text.size() && text[*pos] != ',' && !AtLineEnd(text, *pos)) {
        return LineError(*line, "extraneous or missing \" in quoted field");
      }
    } else {
      size_t end = *pos;
      while (end < text.size() && text[end] != ',' && !AtLineEnd(text, end)) ++end;
      field = text.substr(*pos, end - *pos);
      if (field.find('"') != std::string::npos) {
        return LineError(*line, "bare \" in non-quoted field");
      }
      *pos = end;
    }
    fields.push_back(std::move(field));
    if (*pos < text.size() && text[*pos] == ',') {
      ++*pos;
      continue;
    }
    *pos += text.substr(*pos, 2) == "\r\n" ? 2 : (*pos < text.size() ? 1 : 0);
    ++*line;
    return fields;
  }
}

Result<std::string> RandomHex(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    ERR_clear_error();
    return InternalError("RAND_bytes failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  OPENSSL_cleanse(raw.data(), raw.size());
  return out;
}

}  // namespace

Result<std::vector<TokenRecord>> ParseTokenFile(std::string_view text) {
  std::vector<TokenRecord> out;
  size_t pos = 0;
  int line = 1;
  while (pos < text.size()) {
    if (text[pos] == '\n' || text.substr(pos, 2) == "\r\n") {  // blank line
      pos += text[pos] == '\n' ? 1 : 2;
      ++line;
      continue;
    }
    const int record_line = line;
    GF_ASSIGN_OR_RETURN(std::vector<std::string> fields, ReadRecord(text, &pos, &line));
    if (fields.size() < 3) {
      return LineError(record_line,
                       "a record needs at least 3 fields (token, user name, uid), found " +
                           std::to_string(fields.size()));
    }
    if (fields[0].empty()) continue;
    TokenRecord record{.token = std::move(fields[0]),
                       .user = {.name = std::move(fields[1]), .uid = std::move(fields[2])}};
    if (fields.size() >= 4) {
      std::string_view groups = fields[3];
      while (!groups.empty()) {
        size_t comma = groups.find(',');
        std::string_view group = groups.substr(0, comma);
        if (!group.empty()) record.user.groups.emplace_back(group);
        groups = comma == std::string_view::npos ? std::string_view() : groups.substr(comma + 1);
      }
    }
    out.push_back(std::move(record));
  }
  return out;
}

Result<std::vector<TokenRecord>> LoadOrCreateTokenFile(const std::filesystem::path& dir) {
  const fs::path path = dir / kTokenFile;
  Result<std::string> text = ReadSmallFile(path);
  if (IsNotFound(text.status())) {
    std::error_code ec;
    if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return FailedPreconditionError(dir.string() + ": create directory: " +
                                     std::error_code(errno, std::generic_category()).message());
    }
    GF_ASSIGN_OR_RETURN(std::string token, RandomHex(32));
    std::string contents = token + "," + std::string(kAdminUser) + "," + std::string(kAdminUser) +
                           ",\"" + std::string(kMastersGroup) + "\"\n";
    Status written = WriteFileAtomically(path, contents, 0600, /*replace=*/false);
    OPENSSL_cleanse(token.data(), token.size());
    OPENSSL_cleanse(contents.data(), contents.size());
    if (!written.ok() && !IsAlreadyExists(written)) return written;
    if (written.ok()) {
      core::log::Logger("apiserver.auth")
          .Info("created token file with an admin token", {{"file", path.string()}});
    }
    text = ReadSmallFile(path);
  }
  if (!text.ok()) return text.status();
  Result<std::vector<TokenRecord>> records = ParseTokenFile(*text);
  OPENSSL_cleanse(text->data(), text->size());
  if (!records.ok()) return records.status().WithContext(path.string());
  return records;
}

Result<std::string> TokenForUser(const std::vector<TokenRecord>& records, std::string_view user) {
  const TokenRecord* found = nullptr;
  for (const TokenRecord& r : records) {
    if (r.user.name == user && !r.token.empty()) found = &r;
  }
  if (found == nullptr) return NotFoundError("no token for user \"" + std::string(user) + "\"");
  return found->token;
}

Authenticator::Authenticator(const std::vector<TokenRecord>& records) {
  for (const TokenRecord& r : records) {
    Entry entry{.digest = {}, .user = r.user};
    if (!r.token.empty() && Sha256(r.token, &entry.digest)) entries_.push_back(std::move(entry));
  }
}

Result<std::unique_ptr<Authenticator>> Authenticator::Create(const std::filesystem::path& dir) {
  GF_ASSIGN_OR_RETURN(std::vector<TokenRecord> records, LoadOrCreateTokenFile(dir));
  auto authenticator = std::make_unique<Authenticator>(records);
  for (TokenRecord& r : records) OPENSSL_cleanse(r.token.data(), r.token.size());
  return authenticator;
}

Result<UserInfo> Authenticator::AuthenticateBearer(
    std::string_view authorization_header_value) const {
  std::string_view value = TrimAscii(authorization_header_value);
  if (value.empty()) return UnauthenticatedError("no Authorization header");
  size_t space = value.find(' ');
  if (space == std::string_view::npos || !EqualsIgnoreCase(value.substr(0, space), "bearer")) {
    return UnauthenticatedError("the Authorization header is not a bearer token");
  }
  std::string_view rest = value.substr(space + 1);
  std::string_view token = rest.substr(0, rest.find(' '));
  if (token.empty()) return UnauthenticatedError("empty bearer token");
  Digest digest{};
  if (!Sha256(token, &digest)) return UnauthenticatedError("cannot hash the bearer token");
  const Entry* found = nullptr;
  for (const Entry& entry : entries_) {  // no early exit: every entry costs the same
    if (CRYPTO_memcmp(digest.data(), entry.digest.data(), digest.size()) == 0) found = &entry;
  }
  if (found == nullptr) return UnauthenticatedError("invalid bearer token");
  return found->user;
}

Result<UserInfo> Authenticator::AuthenticateCertificate(X509* peer) const {
  if (peer == nullptr) return UnauthenticatedError("no client certificate");
  int usable = X509_check_purpose(peer, X509_PURPOSE_SSL_CLIENT, 0);
  ERR_clear_error();
  if (usable != 1) {
    return UnauthenticatedError("the client certificate is not valid for client authentication");
  }
  std::vector<std::string> cn = SubjectAttributes(peer, NID_commonName);
  if (cn.empty() || cn.front().empty()) {
    return UnauthenticatedError("the client certificate has no common name");
  }
  return UserInfo{.name = std::move(cn.front()),
                  .uid = "",
                  .groups = SubjectAttributes(peer, NID_organizationName)};
}

Result<UserInfo> Authenticator::Authenticate(std::string_view authorization_header_value,
                                             X509* peer) const {
  const bool has_header = !TrimAscii(authorization_header_value).empty();
  if (peer != nullptr) {
    Result<UserInfo> user = AuthenticateCertificate(peer);
    if (user.ok() || !has_header) return user;
  }
  if (!has_header) return UnauthenticatedError("anonymous requests are not allowed");
  return AuthenticateBearer(authorization_header_value);
}

}  // namespace gpufleet::apiserver
