#include "core/data_files.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#ifndef GPUFLEET_DATA_DIR
#define GPUFLEET_DATA_DIR ""
#endif

namespace gpufleet::core {

std::string DefaultDataFile(std::string_view name) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (const char* dir = std::getenv("GPUFLEET_DATA_DIR"); dir != nullptr && *dir != '\0') candidates.emplace_back(dir);
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(self.parent_path().parent_path() / "data");
    candidates.push_back(self.parent_path().parent_path() / "share" / "gpufleet");
  }
  candidates.emplace_back(GPUFLEET_DATA_DIR);
  for (const auto& dir : candidates) {
    if (!dir.empty() && fs::exists(dir / name, ec)) return (dir / name).string();
  }
  return (fs::path(GPUFLEET_DATA_DIR) / name).string();
}

}  // namespace gpufleet::core
