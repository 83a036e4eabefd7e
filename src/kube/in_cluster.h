// InClusterConfig: client-go's rest.InClusterConfig, for a controller running in a pod with a
// service account.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "kube/rest_config.h"

namespace gpufleet::kube {

struct InClusterOptions {
  std::filesystem::path service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  // Environment lookup (KUBERNETES_SERVICE_HOST/_PORT); empty = ::getenv. Injected by tests.
  std::function<std::optional<std::string>(std::string_view)> getenv;
};

// server "https://" + host:port (an IPv6 host is bracketed), token = the current content of
// <dir>/token (trimmed) with token_file = <dir>/token so it is re-read as it rotates, and
// ca_pem = <dir>/ca.crt. As in client-go, a missing or unparsable ca.crt is logged and leaves
// ca_pem empty (system roots). source is "in-cluster".
// Errors: kFailedPrecondition when KUBERNETES_SERVICE_HOST or KUBERNETES_SERVICE_PORT is unset
// or empty (not in a cluster); the token file's read errors (kNotFound, kPermissionDenied, ...)
// and kInvalidArgument when it is empty. Thread-safe; never throws.
Result<RestConfig> InClusterConfig(const InClusterOptions& options);

}  // namespace gpufleet::kube
