// ReadConfigFile: reads the small files a client configuration names (kubeconfig, CA bundle,
// client certificate and key, bearer token); TrimSpace for token contents. Internal to src/kube.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gpufleet::kube {

// Files larger than this are refused: a kubeconfig or token is a few KiB.
inline constexpr std::size_t kMaxConfigFileBytes = 16 << 20;

// The whole file. Errors (the message is "<path>: <reason>"): kNotFound (missing file or
// directory along the path), kPermissionDenied (EACCES/EPERM), kInvalidArgument (a directory),
// kOutOfRange (larger than kMaxConfigFileBytes), kUnavailable (other I/O errors).
// Thread-safe; never throws.
Result<std::string> ReadConfigFile(const std::filesystem::path& path);

// `s` without leading and trailing ASCII whitespace, as Go's strings.TrimSpace leaves a token
// file's content.
std::string TrimSpace(std::string_view s);

}  // namespace gpufleet::kube
