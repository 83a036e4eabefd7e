// Content digests as OCI writes them ("sha256:<64 lower-case hex>"): parsing untrusted digest
// strings, and a streaming SHA-256 so blobs are verified as they arrive instead of re-read.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace gpufleet::image {

// Streaming SHA-256 (OpenSSL EVP; uses the CPU's SHA extensions where present).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  // "sha256:<hex>" of everything updated so far. Call once.
  std::string Finish();

 private:
  struct Ctx;
  Ctx* ctx_;
};

// "sha256:<hex>" of `data`.
std::string Sha256Digest(std::string_view data);

// Checks an untrusted digest: "sha256:" and 64 lower-case hex digits (sha512 is refused: no
// registry or SOCI artifact uses it). Errors name `what` and the value.
Status ValidateDigest(std::string_view digest, std::string_view what = "digest");

}  // namespace gpufleet::image
