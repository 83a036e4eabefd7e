// Build facts of this gpufleet binary, for `gpufleet version` and the User-Agent of clients.
#pragma once

#include <string_view>

namespace gpufleet::core {

struct VersionInfo {
  std::string_view version;     // semantic version from CMakeLists.txt, e.g. "0.1.0"
  std::string_view git_commit;  // short commit, "-dirty" when built from a modified tree
  std::string_view build_type;  // CMAKE_BUILD_TYPE, e.g. "Release"
  std::string_view compiler;    // e.g. "GNU-12.2.0"
};

// Facts fixed at build time. Thread-safe.
const VersionInfo& Version();

}  // namespace gpufleet::core
