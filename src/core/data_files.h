// Where gpufleet's data files (data/aws-instance-types.json, data/gpu-models.json) are when no
// flag names them: $GPUFLEET_DATA_DIR, then <binary>/../data and <binary>/../share/gpufleet
// (installed layouts), then the source tree the binary was built from.
#pragma once

#include <string>
#include <string_view>

namespace gpufleet::core {

std::string DefaultDataFile(std::string_view name);

}  // namespace gpufleet::core
