// ASCII case mapping for protocol text (header names, AWS codes, label values): locale-free, so
// "I" lowers to "i" whatever the process locale says.
#pragma once

#include <string>
#include <string_view>

namespace gpufleet::core {

inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return out;
}

inline std::string AsciiUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
  }
  return out;
}

}  // namespace gpufleet::core
