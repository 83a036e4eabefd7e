#include "cli/version_command.h"

#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/version.h"

namespace gpufleet::cli {

void AddVersionCommand(CLI::App& app) {
  auto output = std::make_shared<std::string>("text");
  CLI::App* cmd = app.add_subcommand("version", "Print the version, git commit and build type");
  cmd->add_option("-o,--output", *output, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->callback([output] {
    const core::VersionInfo& v = core::Version();
    if (*output == "json") {
      nlohmann::json j = {{"version", v.version},
                          {"gitCommit", v.git_commit},
                          {"buildType", v.build_type},
                          {"compiler", v.compiler}};
      std::cout << j.dump() << "\n";
      return;
    }
    std::cout << "gpufleet " << v.version << "\n"
              << "  git commit: " << v.git_commit << "\n"
              << "  build type: " << v.build_type << "\n"
              << "  compiler:   " << v.compiler << "\n";
  });
}

}  // namespace gpufleet::cli
