#include "kube/kubeconfig.h"

#include <cctype>
#include <cstdlib>
#include <set>
#include <utility>

#include "core/log.h"
#include "kube/encoding.h"
#include "kube/kubeconfig_file.h"
#include "kube/read_file.h"

namespace gpufleet::kube {
namespace {

namespace fs = std::filesystem;
using internal::KubeCluster;
using internal::KubeContext;
using internal::KubeUser;
using internal::MergedKubeconfig;

const core::log::Logger& Log() {
  static const core::log::Logger logger("kube");
  return logger;
}

std::optional<std::string> ProcessGetenv(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string JoinFiles(const std::vector<fs::path>& files) {
  std::string out;
  for (const fs::path& f : files) {
    if (!out.empty()) out += ':';
    out += f.string();
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads a file the entry names; errors keep ReadConfigFile's code and name the field.
Result<std::string> ReadReferenced(const internal::EntryOrigin& origin, std::string_view field,
                                   const std::string& file) {
  Result<std::string> data = ReadConfigFile(file);
  if (!data.ok()) {
    return Status(data.status().code(), origin.Where(field) + ": unable to read: " +
                                            std::string(data.status().message()));
  }
  return data;
}

// The files to merge, in priority order, and a description for "nothing found" errors.
struct FileList {
  std::vector<fs::path> files;
  bool explicit_paths = false;
  std::string described;
};

FileList ChooseFiles(const KubeconfigOptions& options, const auto& getenv) {
  FileList list;
  if (!options.paths.empty()) {
    list.files = options.paths;
    list.explicit_paths = true;
    return list;
  }
  std::optional<std::string> env = getenv("KUBECONFIG");
  if (env.has_value() && !env->empty()) {
    std::set<std::string> seen;
    std::string_view rest = *env;
    while (true) {
      const size_t colon = rest.find(':');
      std::string_view item = rest.substr(0, colon);
      if (!item.empty() && seen.insert(std::string(item)).second) list.files.emplace_back(item);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
    list.described = "KUBECONFIG=" + *env;
    return list;
  }
  std::optional<std::string> home = getenv("HOME");
  if (home.has_value() && !home->empty()) {
    list.files.push_back(fs::path(*home) / ".kube" / "config");
    list.described = list.files.back().string();
  } else {
    list.described = "neither KUBECONFIG nor HOME is set";
  }
  return list;
}

// client-go's rest.Config.Host handling, stricter: the scheme must be given (client-go would
// fall back to plain http for "host:6443" and then ignore every credential).
Result<std::string> NormalizeServer(const KubeCluster& cluster, std::string_view cluster_name) {
  std::string server = cluster.server;
  if (server.empty()) {
    return InvalidArgumentError(cluster.origin.Where("server") +
                                ": no server found for cluster \"" + std::string(cluster_name) +
                                "\"");
  }
  const size_t scheme_end = server.find("://");
  const std::string scheme =
      scheme_end == std::string::npos ? "" : Lower(server.substr(0, scheme_end));
  if (scheme != "https" && scheme != "http") {
    return InvalidArgumentError(cluster.origin.Where("server") + ": \"" + server +
                                "\" must start with https:// (or http://)");
  }
  server = scheme + server.substr(scheme_end);
  const size_t cut = server.find_first_of("?#");
  if (cut != std::string::npos) server.resize(cut);
  while (server.size() > scheme.size() + 3 && server.back() == '/') server.pop_back();
  if (server.size() == scheme.size() + 3) {
    return InvalidArgumentError(cluster.origin.Where("server") + ": \"" + cluster.server +
                                "\" names no host");
  }
  return server;
}

// validateClusterInfo, plus the transport's insecure-with-CA rule. Fills the TLS fields.
Status ApplyCluster(const KubeCluster& cluster, std::string_view name, RestConfig& out) {
  GF_ASSIGN_OR_RETURN(out.server, NormalizeServer(cluster, name));
  if (!cluster.proxy_url.empty()) {
    const size_t end = cluster.proxy_url.find("://");
    const std::string scheme =
        end == std::string::npos ? "" : Lower(cluster.proxy_url.substr(0, end));
    if (scheme != "http" && scheme != "https" && scheme != "socks5") {
      return InvalidArgumentError(cluster.origin.Where("proxy-url") + ": invalid proxy-url \"" +
                                  cluster.proxy_url + "\": unsupported scheme \"" + scheme +
                                  "\", must be http, https, or socks5");
    }
    out.proxy_url = cluster.proxy_url;
  }
  const bool has_ca_file = !cluster.certificate_authority.empty();
  const bool has_ca_data = cluster.certificate_authority_data.has_value();
  if (has_ca_file && has_ca_data) {
    // client-go's validation refuses this although its message says the data would win.
    return InvalidArgumentError(cluster.origin.Where() +
                                ": certificate-authority-data and certificate-authority are both "
                                "specified for cluster \"" +
                                std::string(name) + "\"");
  }
  if ((has_ca_file || has_ca_data) && cluster.insecure_skip_tls_verify) {
    return InvalidArgumentError(cluster.origin.Where("insecure-skip-tls-verify") +
                                ": specifying a root certificates file with the insecure flag is "
                                "not allowed (cluster \"" +
                                std::string(name) + "\")");
  }
  std::string ca_field = "certificate-authority-data";
  if (has_ca_data) {
    out.ca_pem = *cluster.certificate_authority_data;
  } else if (has_ca_file) {
    ca_field = "certificate-authority";
    GF_ASSIGN_OR_RETURN(out.ca_pem,
                        ReadReferenced(cluster.origin, ca_field, cluster.certificate_authority));
  }
  if (!out.ca_pem.empty()) {
    Status pem = CheckPemCertificates(out.ca_pem);
    if (!pem.ok()) return pem.WithContext(cluster.origin.Where(ca_field));
  }
  out.tls_server_name = cluster.tls_server_name;
  out.insecure_skip_tls_verify = cluster.insecure_skip_tls_verify;
  return OkStatus();
}

// validateAuthInfo's exec rules; interactiveMode defaults were applied while parsing.
Status ValidateExec(const KubeUser& user, std::string_view name) {
  const ExecConfig& exec = *user.exec;
  const std::string who = " for user \"" + std::string(name) + "\"";
  if (exec.command.empty()) {
    return InvalidArgumentError(user.origin.Where("exec.command") + ": command must be specified" +
                                who + " to use exec authentication plugin");
  }
  if (exec.api_version != "client.authentication.k8s.io/v1" &&
      exec.api_version != "client.authentication.k8s.io/v1beta1") {
    return InvalidArgumentError(user.origin.Where("exec.apiVersion") + ": invalid apiVersion \"" +
                                exec.api_version +
                                "\", want client.authentication.k8s.io/v1 or /v1beta1" + who);
  }
  for (size_t i = 0; i < exec.env.size(); ++i) {
    if (exec.env[i].first.empty()) {
      return InvalidArgumentError(user.origin.Where("exec.env[" + std::to_string(i) + "].name") +
                                  ": env variable name must be specified" + who);
    }
  }
  const std::string& mode = exec.interactive_mode;
  if (mode.empty()) {
    return InvalidArgumentError(user.origin.Where("exec.interactiveMode") +
                                ": interactiveMode must be specified" + who +
                                " to use exec authentication plugin");
  }
  if (mode != "Never" && mode != "IfAvailable" && mode != "Always") {
    return InvalidArgumentError(user.origin.Where("exec.interactiveMode") +
                                ": invalid interactiveMode \"" + mode + "\"" + who);
  }
  return OkStatus();
}

// validateAuthInfo and getUserIdentificationPartialConfig.
Status ApplyUser(const KubeUser& user, std::string_view name, RestConfig& out) {
  const std::string who = "user \"" + std::string(name) + "\"";
  if (user.auth_provider.has_value() && user.exec.has_value()) {
    return InvalidArgumentError(user.origin.Where() +
                                ": authProvider cannot be provided in combination with an exec "
                                "plugin for " +
                                who);
  }
  if (user.auth_provider.has_value()) {
    return UnimplementedError(user.origin.Where("auth-provider") + ": auth-provider \"" +
                              *user.auth_provider + "\" is not supported (" + who +
                              "); use an exec credential plugin");
  }
  if (!user.username.empty() || !user.password.empty()) {
    return UnimplementedError(user.origin.Where("username") +
                              ": basic authentication (username/password) is not supported (" +
                              who + ")");
  }
  if (user.impersonate.empty() && (!user.impersonate_groups.empty() ||
                                   !user.impersonate_uid.empty() || user.impersonate_user_extra)) {
    return InvalidArgumentError(user.origin.Where() +
                                ": requesting uid, groups or user-extra for " + who +
                                " without impersonating a user");
  }
  if (!user.impersonate_uid.empty() || user.impersonate_user_extra) {
    return UnimplementedError(
        user.origin.Where(user.impersonate_uid.empty() ? "as-user-extra" : "as-uid") +
        ": impersonating a uid or user extras is not supported");
  }
  out.impersonate_user = user.impersonate;
  out.impersonate_groups = user.impersonate_groups;
  return OkStatus();
}

Status ApplyUserCredentials(const KubeUser& user, std::string_view name, RestConfig& out) {
  const std::string who = "user \"" + std::string(name) + "\"";
  const bool has_cert =
      !user.client_certificate.empty() || user.client_certificate_data.has_value();
  if (has_cert) {
    if (!user.client_certificate.empty() && user.client_certificate_data.has_value()) {
      return InvalidArgumentError(user.origin.Where() +
                                  ": client-certificate-data and client-certificate are both "
                                  "specified for " +
                                  who);
    }
    if (!user.client_key.empty() && user.client_key_data.has_value()) {
      return InvalidArgumentError(user.origin.Where() +
                                  ": client-key-data and client-key are both specified for " + who);
    }
    if (user.client_key.empty() && !user.client_key_data.has_value()) {
      return InvalidArgumentError(user.origin.Where() +
                                  ": client-key-data or client-key must be specified for " + who +
                                  " to use the clientCert authentication method");
    }
    if (user.client_certificate_data.has_value()) {
      out.client_cert_pem = *user.client_certificate_data;
    } else {
      GF_ASSIGN_OR_RETURN(out.client_cert_pem, ReadReferenced(user.origin, "client-certificate",
                                                              user.client_certificate));
    }
    if (user.client_key_data.has_value()) {
      out.client_key_pem = *user.client_key_data;
    } else {
      GF_ASSIGN_OR_RETURN(out.client_key_pem,
                          ReadReferenced(user.origin, "client-key", user.client_key));
    }
    Status pair = CheckPemKeyPair(out.client_cert_pem, out.client_key_pem);
    if (!pair.ok()) return pair.WithContext(user.origin.Where() + " (" + who + ")");
  }
  // client-go keeps both: the file, re-read, is used whenever readable; the token is the
  // fallback. With only tokenFile, the file must be readable now.
  out.token = user.token;
  out.token_file = user.token_file;
  if (user.token.empty() && !user.token_file.empty()) {
    GF_ASSIGN_OR_RETURN(std::string content,
                        ReadReferenced(user.origin, "tokenFile", user.token_file));
    out.token = TrimSpace(content);
    if (out.token.empty()) {
      return InvalidArgumentError(user.origin.Where("tokenFile") + ": " + user.token_file +
                                  " is empty");
    }
  }
  if (user.exec.has_value()) {
    GF_RETURN_IF_ERROR(ValidateExec(user, name));
    out.exec = user.exec;
  }
  return OkStatus();
}

Result<RestConfig> Build(const MergedKubeconfig& merged, const KubeconfigOptions& options) {
  const std::string files = "kubeconfig " + JoinFiles(merged.files);
  const bool from_flag = !options.context.empty();
  const std::string context_name = from_flag ? options.context : merged.current_context;
  if (context_name.empty()) {
    return InvalidArgumentError(files + ": no current-context is set and no context was given");
  }
  auto ctx_it = merged.contexts.find(context_name);
  if (ctx_it == merged.contexts.end()) {
    if (from_flag) {
      return NotFoundError(files + ": context \"" + context_name + "\" (--context) does not exist");
    }
    return InvalidArgumentError("kubeconfig " + merged.current_context_file.string() +
                                ": current-context: context \"" + context_name +
                                "\" does not exist in " + files);
  }
  const KubeContext& context = ctx_it->second;
  if (context.cluster.empty()) {
    return InvalidArgumentError(context.origin.Where("cluster") + ": context \"" + context_name +
                                "\" names no cluster");
  }
  auto cluster_it = merged.clusters.find(context.cluster);
  if (cluster_it == merged.clusters.end()) {
    return InvalidArgumentError(context.origin.Where("cluster") + ": cluster \"" + context.cluster +
                                "\" does not exist in " + files);
  }
  static const KubeUser kAnonymous{};
  const KubeUser* user = &kAnonymous;
  if (!context.user.empty()) {
    auto user_it = merged.users.find(context.user);
    if (user_it == merged.users.end()) {
      // client-go would silently go on without credentials.
      return InvalidArgumentError(context.origin.Where("user") + ": user \"" + context.user +
                                  "\" does not exist in " + files);
    }
    user = &user_it->second;
  }

  RestConfig out;
  out.source = "kubeconfig " + context.origin.file.string() + " (context " + context_name + ")";
  GF_RETURN_IF_ERROR(ApplyCluster(cluster_it->second, context.cluster, out));
  GF_RETURN_IF_ERROR(ApplyUser(*user, context.user, out));
  GF_RETURN_IF_ERROR(ApplyUserCredentials(*user, context.user, out));
  if (out.server.starts_with("http://")) {
    // client-go reads TLS and user credentials only for TLS transports.
    const bool dropped = !out.ca_pem.empty() || out.insecure_skip_tls_verify ||
                         !out.tls_server_name.empty() || !out.client_cert_pem.empty() ||
                         !out.token.empty() || !out.token_file.empty() || out.exec.has_value();
    if (dropped) {
      Log().Warn("server uses plain http; ignoring TLS settings and credentials",
                 {{"source", out.source}, {"server", out.server}});
    }
    RestConfig plain;
    plain.server = out.server;
    plain.proxy_url = out.proxy_url;
    plain.impersonate_user = out.impersonate_user;
    plain.impersonate_groups = out.impersonate_groups;
    plain.source = out.source;
    return plain;
  }
  return out;
}

}  // namespace

Result<RestConfig> LoadKubeconfig(const KubeconfigOptions& options) {
  std::function<std::optional<std::string>(std::string_view)> getenv = options.getenv;
  if (!getenv) getenv = ProcessGetenv;
  FileList list = ChooseFiles(options, getenv);

  MergedKubeconfig merged;
  for (const fs::path& file : list.files) {
    Status s = internal::MergeKubeconfigFile(file, merged);
    if (IsNotFound(s) && !list.explicit_paths) {
      Log().Debug("kubeconfig file does not exist; skipping", {{"path", file.string()}});
      continue;
    }
    GF_RETURN_IF_ERROR(s);
  }
  if (merged.files.empty()) {
    return NotFoundError("no kubeconfig file found (" + list.described + ")");
  }
  return Build(merged, options);
}

}  // namespace gpufleet::kube
