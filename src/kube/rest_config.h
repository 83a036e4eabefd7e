// RestConfig: everything needed to reach and authenticate to one API server, as built by
// LoadKubeconfig (kube/kubeconfig.h) or InClusterConfig (kube/in_cluster.h) and consumed by the
// transport. Plain data; held in memory (PEM strings are never written to temporary files).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gpufleet::kube {

// A client-go credential (exec) plugin, e.g. `aws eks get-token`. See kube/exec_plugin.h.
struct ExecConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
  // An absolute path, a path relative to the working directory (only when the kubeconfig gave
  // an absolute one), or a bare name looked up in PATH when it holds no '/'.
  std::string command;
  std::vector<std::string> args;
  // Added to (and overriding) the process environment when the plugin runs.
  std::vector<std::pair<std::string, std::string>> env;
  std::string install_hint;  // shown when the command is not found
  bool provide_cluster_info = false;
  // Never | IfAvailable | Always. LoadKubeconfig fills "" with IfAvailable for v1beta1 and
  // rejects "" for v1, as client-go does; the credential source treats "" as IfAvailable.
  std::string interactive_mode;
};

struct RestConfig {
  // "https://host:port", possibly with a path prefix ("https://rancher/k8s/clusters/c-1"), no
  // trailing slash.
  std::string server;
  std::string tls_server_name;            // SNI and the name checked against the server certificate
  bool insecure_skip_tls_verify = false;  // never together with ca_pem
  std::string ca_pem;  // certificate-authority file contents or -data (decoded); "" = system roots
  std::string client_cert_pem, client_key_pem;  // both or neither
  // Static bearer token. When token_file is set too, token is only the fallback used while the
  // file cannot be read (client-go's bearerAuthRoundTripper).
  std::string token;
  std::string token_file;  // re-read by the credential source (projected tokens rotate)
  // Used only when no token, token_file or client certificate is set (client-go's rule).
  std::optional<ExecConfig> exec;
  // http://, https:// or socks5://. "" = the transport's default (client-go then honours
  // HTTPS_PROXY/NO_PROXY from the environment).
  std::string proxy_url;
  std::string impersonate_user;
  std::vector<std::string> impersonate_groups;  // only with impersonate_user
  std::string source;  // "kubeconfig /path (context gpu)" or "in-cluster", for error messages
};

}  // namespace gpufleet::kube
