// Fuzz target for the AL2023 user data reader (MIME multi-part, NodeConfig YAML, kubelet flags):
// user data comes from EC2NodeClass manifests and, on a node, from the instance. Must not crash;
// what parses must survive being merged into gpufleet's own document and read back.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cloud/aws/user_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gpufleet::cloud::aws;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto summary = ParseAl2023UserData(text);
  if (!SplitUserData(text).ok()) return 0;
  NodeadmInput in{.cluster_name = "c", .api_server_endpoint = "https://x", .certificate_authority = "Q0E=", .custom = text};
  auto merged = Al2023UserData(in);
  if (!merged.ok()) __builtin_trap();  // anything SplitUserData accepts must merge
  auto parts = SplitUserData(*merged);
  if (!parts.ok() || parts->empty()) __builtin_trap();
  return 0;
}
