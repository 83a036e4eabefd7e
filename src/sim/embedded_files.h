// The manifests `gpufleet up` installs on first start (deploy/crds, deploy/examples/seed,
// deploy/agent), compiled into the binary from the source tree at build time.
#pragma once

#include <string_view>
#include <vector>

namespace gpufleet::sim {

struct EmbeddedFile {
  std::string_view path;  // relative to the source root, e.g. deploy/crds/karpenter.sh_nodepools.yaml
  std::string_view content;
};

const std::vector<EmbeddedFile>& EmbeddedFiles();

}  // namespace gpufleet::sim
