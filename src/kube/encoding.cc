#include "kube/encoding.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

namespace gpufleet::kube {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for alphabet bytes, -1 otherwise.
constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr std::array<int8_t, 256> kDecodeTable = MakeDecodeTable();

Status IllegalAt(size_t offset) {
  return InvalidArgumentError("illegal base64 data at input byte " + std::to_string(offset));
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

BioPtr MemBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// A passphrase callback that refuses: an encrypted key is an error, never a terminal prompt.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

// Reads the first certificate in `pem`. Leaves OpenSSL's thread-local error queue empty so
// later TLS code does not see our parse failures.
X509Ptr FirstCertificate(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  X509Ptr cert;
  if (bio) cert.reset(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  return cert;
}

}  // namespace

Result<std::string> Base64Decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t quantum = 0;
  int filled = 0;         // sextets in the current quantum
  int padding = 0;        // '=' seen in the current quantum
  bool finished = false;  // a padded quantum ended the data
  size_t quantum_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') continue;
    if (finished) return IllegalAt(i);
    if (filled == 0) quantum_start = i;
    if (c == '=') {
      // Padding may only fill the last one or two places of a quantum.
      if (filled < 2) return IllegalAt(i);
      ++padding;
      ++filled;
      quantum <<= 6;
    } else {
      const int8_t v = kDecodeTable[static_cast<unsigned char>(c)];
      if (v < 0 || padding > 0) return IllegalAt(i);
      quantum = (quantum << 6) | static_cast<uint32_t>(v);
      ++filled;
    }
    if (filled == 4) {
      out.push_back(static_cast<char>((quantum >> 16) & 0xff));
      if (padding < 2) out.push_back(static_cast<char>((quantum >> 8) & 0xff));
      if (padding < 1) out.push_back(static_cast<char>(quantum & 0xff));
      finished = padding > 0;
      quantum = 0;
      filled = 0;
      padding = 0;
    }
  }
  if (filled != 0) {
    // An incomplete quantum (missing padding): name where it starts.
    return IllegalAt(quantum_start);
  }
  return out;
}

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t n = (static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16) |
                       (static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8) |
                       static_cast<uint32_t>(static_cast<unsigned char>(data[i + 2]));
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  const size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    if (rest == 2) n |= static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Status CheckPemCertificates(std::string_view pem) {
  if (!FirstCertificate(pem)) {
    return InvalidArgumentError("no PEM-encoded X.509 certificate found");
  }
  return OkStatus();
}

Status CheckPemKeyPair(std::string_view cert_pem, std::string_view key_pem) {
  X509Ptr cert = FirstCertificate(cert_pem);
  if (!cert)
    return InvalidArgumentError("client certificate: no PEM-encoded X.509 certificate found");
  BioPtr bio = MemBio(key_pem);
  PkeyPtr key;
  if (bio) key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!key) {
    return InvalidArgumentError("client key: no unencrypted PEM-encoded private key found");
  }
  const int match = X509_check_private_key(cert.get(), key.get());
  ERR_clear_error();
  if (match != 1) {
    return InvalidArgumentError("client key does not match the client certificate");
  }
  return OkStatus();
}

}  // namespace gpufleet::kube
