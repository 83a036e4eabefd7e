// Exec credential plugins (client-go plugin/pkg/client/auth/exec), e.g. `aws eks get-token`:
// the command runs without a shell, gets an ExecCredential request in KUBERNETES_EXEC_INFO, and
// prints an ExecCredential whose status holds a bearer token or a client certificate and key.
//
// Protocol (client.authentication.k8s.io/v1 and v1beta1):
//   request  {"apiVersion":V,"kind":"ExecCredential","spec":{"interactive":false,
//             "cluster":{...}}}   cluster only with provideClusterInfo: server, tls-server-name,
//             insecure-skip-tls-verify, certificate-authority-data (base64), proxy-url.
//   response {"apiVersion":V,"kind":"ExecCredential","status":{"token":...,
//             "clientCertificateData":PEM,"clientKeyData":PEM,"expirationTimestamp":RFC3339}}
// Controllers have no terminal: stdin is /dev/null, interactive is always false, and
// interactiveMode Always is an error. The plugin's stderr goes to the "kube" log at debug
// level (plugins print hints there, never tokens) and its tail into failure messages.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "kube/credentials.h"
#include "kube/rest_config.h"

namespace gpufleet::kube {

// The ExecCredential request passed in KUBERNETES_EXEC_INFO for `exec`, with the cluster taken
// from `config` when exec.provide_cluster_info is set.
nlohmann::json ExecCredentialRequest(const ExecConfig& exec, const RestConfig& config);

struct ExecCredentialResponse {
  Credentials credentials;
  std::optional<core::TimePoint> expiration;  // none: valid until a 401
};

// Parses a plugin's stdout. Errors (kInvalidArgument, naming `command`): not JSON, apiVersion
// other than `api_version`, kind other than ExecCredential, no status, neither token nor
// certificate and key, only one of certificate and key, a key that does not match the
// certificate, a malformed expirationTimestamp.
Result<ExecCredentialResponse> ParseExecCredential(std::string_view stdout_data,
                                                   std::string_view api_version,
                                                   std::string_view command);

// A CredentialSource running `config.exec` (REQUIRES: set). Current() returns the cached
// credentials until clock.Now() is past their expirationTimestamp or OnUnauthorized() was
// called with exactly them, then runs the plugin again; concurrent callers wait for one run. A failed run caches
// nothing. Current()'s errors, each naming the command:
//   kFailedPrecondition  command not found or not executable (with the install hint);
//                        interactiveMode Always.
//   kUnavailable         non-zero exit or killed by a signal (with the tail of its stderr).
//   kDeadlineExceeded    ran longer than `timeout` (killed with its process group).
//   kInvalidArgument     bad output (see ParseExecCredential); kResourceExhausted: > 1 MiB.
// `clock` must outlive the source.
std::unique_ptr<CredentialSource> MakeExecCredentialSource(const RestConfig& config,
                                                           core::Clock& clock,
                                                           std::chrono::milliseconds timeout);

}  // namespace gpufleet::kube
