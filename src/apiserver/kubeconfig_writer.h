// Kubeconfig writer: a client-go v1 Config file with one cluster, one user and one context, which
// kubectl uses unchanged (the admin kubeconfig `gpufleet up` writes).
//
//   apiVersion: v1
//   kind: Config
//   clusters: [{name: <cluster_name>, cluster: {server: <server>,
//               certificate-authority-data: <base64 of ca_cert_pem>}}]
//   users: [{name: <user_name>, user: {token: <token>}}]        (or client-certificate-data and
//                                                                 client-key-data, base64 PEM)
//   contexts: [{name: <context_name>, context: {cluster, user[, namespace]}}]
//   current-context: <context_name>
//   preferences: {}
//
// Names are free-form strings: `gpufleet up` uses EKS-style ARNs such as
// arn:aws:eks:us-west-2:123456789012:cluster/gpufleet for the cluster and context, so tools that
// split the context on ':' find the region in field 4.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace gpufleet::apiserver {

struct KubeconfigSpec {
  std::string server;        // "https://127.0.0.1:6443"; must start with https:// or http://
  std::string cluster_name;  // required
  std::string context_name;  // required; becomes current-context
  std::string user_name;     // required
  std::string ca_cert_pem;   // embedded as certificate-authority-data; empty: system roots
  // Exactly one way to authenticate: a bearer token, or a client certificate and its key.
  std::string token;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string namespace_name;  // the context's namespace; empty: omitted (kubectl: "default")
};

// The Config object for `spec`. kInvalidArgument naming the field when the server URL, a name or
// the authentication choice is missing or malformed. Never puts the token in a message.
Result<nlohmann::json> BuildKubeconfig(const KubeconfigSpec& spec);

// Writes BuildKubeconfig(spec) as YAML (core::JsonToYaml) to `path`, replacing any file there,
// atomically (temporary file, fsync, rename) with mode 0600. Missing parent directories are
// created (0700). Errors: those of BuildKubeconfig and WriteFileAtomically (pki.h).
Status WriteKubeconfig(const std::filesystem::path& path, const KubeconfigSpec& spec);

// Standard base64 with padding and no line breaks (EVP_EncodeBlock), as kubeconfig *-data fields
// hold.
std::string Base64Encode(std::string_view data);

}  // namespace gpufleet::apiserver
