// LoadKubeconfig: client-go's kubeconfig loading (tools/clientcmd), from files to a RestConfig.
//
// Which files: options.paths when given (each must exist); else the KUBECONFIG list (split on
// ':', empty entries and duplicates dropped, missing files skipped); else $HOME/.kube/config
// (skipped when missing).
// Merging: the first file to define a cluster, user or context name wins (whole entries, no
// field-level merge); the first non-empty current-context wins. A name defined twice in one
// file is an error, as in client-go.
// Paths: certificate-authority, client-certificate, client-key, tokenFile, and exec.command when
// it contains '/', are resolved against the absolute directory of the file that defined them.
// Validation follows client-go's ConfirmUsable, with the differences listed in docs/kube.md
// (a context naming a missing user or cluster is an error here; so is a server without
// http:// or https://).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "kube/rest_config.h"

namespace gpufleet::kube {

struct KubeconfigOptions {
  // Explicit files (--kubeconfig), merged in order; each must exist. Empty: KUBECONFIG, then
  // $HOME/.kube/config.
  std::vector<std::filesystem::path> paths;
  // --context override; "" = the merged current-context.
  std::string context;
  // Environment lookup (KUBECONFIG, HOME); empty = ::getenv. Injected by tests.
  std::function<std::optional<std::string>(std::string_view)> getenv;
};

// Loads, merges and validates the kubeconfig files and returns the selected context's config.
// Files are read here (CA, client certificate and key, tokenFile), so the result is
// self-contained except for token_file (re-read later) and the exec plugin (run later).
// For an http:// server the TLS and user fields are dropped (with a warning), as client-go only
// reads them for TLS transports.
// Errors name the file and field path ('kubeconfig /h/.kube/config:
// users[0].user.client-key-data: illegal base64 data at input byte 3'):
//   kNotFound          an explicit file is missing; no kubeconfig file exists at all; the
//                      --context names no context.
//   kPermissionDenied  a file cannot be read for lack of permission.
//   kInvalidArgument   malformed YAML or wrong field types; bad base64; duplicate names; no
//                      current-context and no --context; current-context, or a context's
//                      cluster or user, naming nothing; missing server; bad proxy-url;
//                      certificate-authority together with -data (client-cert and client-key
//                      likewise); insecure-skip-tls-verify with a CA; a certificate without a
//                      key; PEM that does not parse; an invalid exec block; impersonation
//                      groups without a user.
//   kUnimplemented     username/password and auth-provider users (use an exec plugin).
// Thread-safe (reads files only); never throws.
Result<RestConfig> LoadKubeconfig(const KubeconfigOptions& options);

}  // namespace gpufleet::kube
