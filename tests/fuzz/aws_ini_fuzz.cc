// Fuzz target for the AWS shared config/credentials INI parser (~/.aws/config, ~/.aws/credentials,
// the emulator's credentials file). Must not crash; errors name the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cloud/aws/aws_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto ini = gpufleet::cloud::aws::ParseIni(text, "fuzz.ini");
  if (!ini.ok() && ini.status().message().find("fuzz.ini") == std::string_view::npos) __builtin_trap();
  return 0;
}
