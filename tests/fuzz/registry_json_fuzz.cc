// Fuzz target for what a registry sends that gpufleet parses: manifests, indexes, image configs,
// WWW-Authenticate challenges, token answers and image references. Must not crash; a parsed
// manifest must serialise and parse back to the same layers.
#include <cstddef>
#include <cstdint>
#include <string>

#include "image/manifest.h"
#include "image/reference.h"
#include "image/registry_auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gpufleet::image;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto m = ParseManifest(text, media_type::kOciManifest);
  if (m.ok()) {
    auto again = ParseManifest(SerializeManifest(*m), "");
    if (!again.ok() || again->layers.size() != m->layers.size()) __builtin_trap();
  }
  auto index = ParseImageIndex(text, media_type::kOciIndex);
  if (index.ok()) (void)SelectPlatform(*index, HostPlatform());
  (void)ParseImageConfig(text);
  (void)ParseChallenges(text);
  (void)ParseTokenResponse(text);
  auto ref = ParseImageReference(text);
  if (ref.ok() && ref->repository.empty()) __builtin_trap();
  return 0;
}
