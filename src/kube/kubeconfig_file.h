// One kubeconfig file parsed into client-go's named entries (clientcmdapi.Config), and the merge
// of several files. Internal to LoadKubeconfig (kube/kubeconfig.h).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "kube/rest_config.h"

namespace gpufleet::kube::internal {

// Where an entry was defined, for error messages.
struct EntryOrigin {
  std::filesystem::path file;
  std::string path;  // "clusters[2].cluster"

  // "kubeconfig /home/u/.kube/config: clusters[2].cluster.server"; field "" names the entry.
  std::string Where(std::string_view field = "") const;
};

// clientcmdapi.Cluster. Relative file paths are already resolved; -data fields are decoded.
struct KubeCluster {
  EntryOrigin origin;
  std::string server;
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string certificate_authority;                      // a file
  std::optional<std::string> certificate_authority_data;  // set when the field is non-empty
  std::string proxy_url;
};

// clientcmdapi.AuthInfo.
struct KubeUser {
  EntryOrigin origin;
  std::string token;
  std::string token_file;
  std::string client_certificate;  // a file
  std::optional<std::string> client_certificate_data;
  std::string client_key;  // a file
  std::optional<std::string> client_key_data;
  std::string username, password;
  std::optional<std::string> auth_provider;  // its name, when the block is present
  std::optional<ExecConfig> exec;            // as written (after path resolution and defaults)
  std::string impersonate;
  std::string impersonate_uid;
  std::vector<std::string> impersonate_groups;
  bool impersonate_user_extra = false;  // as-user-extra is set (not supported by RestConfig)
};

// clientcmdapi.Context.
struct KubeContext {
  EntryOrigin origin;
  std::string cluster;
  std::string user;
  std::string namespace_name;
};

struct MergedKubeconfig {
  std::map<std::string, KubeCluster> clusters;
  std::map<std::string, KubeUser> users;
  std::map<std::string, KubeContext> contexts;
  std::string current_context;  // the first non-empty one
  std::filesystem::path current_context_file;
  std::vector<std::filesystem::path> files;  // every file merged, in order
};

// Parses `file` and merges it under `merged`: names `merged` already holds and a current-context
// it already has are kept (earlier files win). An empty file is an empty config.
// Errors (each prefixed "kubeconfig <file>: "): those of ReadConfigFile; kInvalidArgument for
// malformed YAML (with line:column), wrong field types, bad base64 and duplicate names within
// the file.
Status MergeKubeconfigFile(const std::filesystem::path& file, MergedKubeconfig& merged);

}  // namespace gpufleet::kube::internal
