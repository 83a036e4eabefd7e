// ImageReference: "[registry/]repository[:tag][@digest]" as docker, containerd and skopeo read
// it (the distribution/reference grammar): "ubuntu" is docker.io/library/ubuntu:latest; the first
// component names a registry only when it has a "." or ":" or is "localhost".
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace gpufleet::image {

struct ImageReference {
  std::string registry;    // "docker.io", "127.0.0.1:5000", "public.ecr.aws"
  std::string repository;  // "library/ubuntu", "nvidia/cuda"
  std::string tag;         // empty when only a digest was given
  std::string digest;      // "sha256:..." or empty

  // The host the API is served from ("registry-1.docker.io" for docker.io).
  std::string ApiHost() const;
  // What the manifest is fetched by: the digest when given, else the tag.
  std::string ManifestReference() const { return digest.empty() ? tag : digest; }
  // The canonical form: "docker.io/library/ubuntu:22.04@sha256:...".
  std::string String() const;
};

// Parses a reference. A missing tag and digest means ":latest". Errors name the part that does
// not fit the grammar (upper case in the repository, a tag over 128 characters, a bad digest).
Result<ImageReference> ParseImageReference(std::string_view text);

}  // namespace gpufleet::image
