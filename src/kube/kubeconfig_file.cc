#include "kube/kubeconfig_file.h"

#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "core/json.h"
#include "core/yaml.h"
#include "kube/encoding.h"
#include "kube/read_file.h"

namespace gpufleet::kube::internal {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Reads fields of one parsed file by full field path, so errors name e.g.
// "users[1].user.token: expected string, got number".
class FileReader {
 public:
  FileReader(const json& root, fs::path dir) : root_(root), dir_(std::move(dir)) {}

  Result<std::string> String(const core::JsonPath& path) const {
    GF_ASSIGN_OR_RETURN(std::optional<std::string> s, core::GetOptionalString(root_, path.str()));
    return s.value_or("");
  }
  Result<bool> Bool(const core::JsonPath& path) const {
    GF_ASSIGN_OR_RETURN(std::optional<bool> b, core::GetOptionalBool(root_, path.str()));
    return b.value_or(false);
  }
  Result<std::vector<std::string>> Strings(const core::JsonPath& path) const {
    std::vector<std::string> out;
    GF_ASSIGN_OR_RETURN(const json* array, core::GetOptionalArray(root_, path.str()));
    if (array == nullptr) return out;
    for (size_t i = 0; i < array->size(); ++i) {
      GF_ASSIGN_OR_RETURN(std::string s, String(path.Index(i)));
      out.push_back(std::move(s));
    }
    return out;
  }
  // A "-data" field: base64, decoded. Absent or "" gives nullopt (client-go tests len() > 0).
  Result<std::optional<std::string>> Data(const core::JsonPath& path) const {
    GF_ASSIGN_OR_RETURN(std::string text, String(path));
    if (text.empty()) return std::optional<std::string>();
    Result<std::string> decoded = Base64Decode(text);
    if (!decoded.ok()) return decoded.status().WithContext(path.str());
    return std::optional<std::string>(std::move(decoded).value());
  }
  // A file reference: relative paths resolve against the kubeconfig's directory.
  Result<std::string> File(const core::JsonPath& path) const {
    GF_ASSIGN_OR_RETURN(std::string p, String(path));
    return Resolve(std::move(p));
  }
  std::string Resolve(std::string p) const {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (dir_ / p).lexically_normal().string();
  }
  Result<size_t> Size(const core::JsonPath& path) const {
    GF_ASSIGN_OR_RETURN(const json* array, core::GetOptionalArray(root_, path.str()));
    return array == nullptr ? 0 : array->size();
  }
  Result<bool> Present(const core::JsonPath& path) const {
    GF_ASSIGN_OR_RETURN(const json* v, core::FindField(root_, path.str()));
    return v != nullptr && !v->is_null();
  }

 private:
  const json& root_;
  fs::path dir_;
};

Result<KubeCluster> ParseCluster(const FileReader& r, const core::JsonPath& at) {
  KubeCluster c;
  GF_ASSIGN_OR_RETURN(c.server, r.String(at.Field("server")));
  GF_ASSIGN_OR_RETURN(c.tls_server_name, r.String(at.Field("tls-server-name")));
  GF_ASSIGN_OR_RETURN(c.insecure_skip_tls_verify, r.Bool(at.Field("insecure-skip-tls-verify")));
  GF_ASSIGN_OR_RETURN(c.certificate_authority, r.File(at.Field("certificate-authority")));
  GF_ASSIGN_OR_RETURN(c.certificate_authority_data, r.Data(at.Field("certificate-authority-data")));
  GF_ASSIGN_OR_RETURN(c.proxy_url, r.String(at.Field("proxy-url")));
  return c;
}

Result<ExecConfig> ParseExec(const FileReader& r, const core::JsonPath& at) {
  ExecConfig e;
  GF_ASSIGN_OR_RETURN(e.api_version, r.String(at.Field("apiVersion")));
  GF_ASSIGN_OR_RETURN(e.command, r.String(at.Field("command")));
  // Only a command with a path separator is a file reference; "aws" is looked up in PATH.
  if (e.command.find('/') != std::string::npos) e.command = r.Resolve(e.command);
  GF_ASSIGN_OR_RETURN(e.args, r.Strings(at.Field("args")));
  GF_ASSIGN_OR_RETURN(size_t env_count, r.Size(at.Field("env")));
  for (size_t i = 0; i < env_count; ++i) {
    core::JsonPath item = at.Field("env").Index(i);
    GF_ASSIGN_OR_RETURN(std::string name, r.String(item.Field("name")));
    GF_ASSIGN_OR_RETURN(std::string value, r.String(item.Field("value")));
    e.env.emplace_back(std::move(name), std::move(value));
  }
  GF_ASSIGN_OR_RETURN(e.install_hint, r.String(at.Field("installHint")));
  GF_ASSIGN_OR_RETURN(e.provide_cluster_info, r.Bool(at.Field("provideClusterInfo")));
  GF_ASSIGN_OR_RETURN(e.interactive_mode, r.String(at.Field("interactiveMode")));
  // clientcmd/api/v1 defaults: v1beta1 (and the removed v1alpha1) mean IfAvailable when unset;
  // v1 must say which mode it wants, and validation rejects it otherwise.
  if (e.interactive_mode.empty() && (e.api_version == "client.authentication.k8s.io/v1beta1" ||
                                     e.api_version == "client.authentication.k8s.io/v1alpha1")) {
    e.interactive_mode = "IfAvailable";
  }
  return e;
}

Result<KubeUser> ParseUser(const FileReader& r, const core::JsonPath& at) {
  KubeUser u;
  GF_ASSIGN_OR_RETURN(u.token, r.String(at.Field("token")));
  GF_ASSIGN_OR_RETURN(u.token_file, r.File(at.Field("tokenFile")));
  GF_ASSIGN_OR_RETURN(u.client_certificate, r.File(at.Field("client-certificate")));
  GF_ASSIGN_OR_RETURN(u.client_certificate_data, r.Data(at.Field("client-certificate-data")));
  GF_ASSIGN_OR_RETURN(u.client_key, r.File(at.Field("client-key")));
  GF_ASSIGN_OR_RETURN(u.client_key_data, r.Data(at.Field("client-key-data")));
  GF_ASSIGN_OR_RETURN(u.username, r.String(at.Field("username")));
  GF_ASSIGN_OR_RETURN(u.password, r.String(at.Field("password")));
  GF_ASSIGN_OR_RETURN(bool has_provider, r.Present(at.Field("auth-provider")));
  if (has_provider) {
    GF_ASSIGN_OR_RETURN(u.auth_provider, r.String(at.Field("auth-provider").Field("name")));
  }
  GF_ASSIGN_OR_RETURN(bool has_exec, r.Present(at.Field("exec")));
  if (has_exec) {
    GF_ASSIGN_OR_RETURN(u.exec, ParseExec(r, at.Field("exec")));
  }
  GF_ASSIGN_OR_RETURN(u.impersonate, r.String(at.Field("as")));
  GF_ASSIGN_OR_RETURN(u.impersonate_uid, r.String(at.Field("as-uid")));
  GF_ASSIGN_OR_RETURN(u.impersonate_groups, r.Strings(at.Field("as-groups")));
  GF_ASSIGN_OR_RETURN(u.impersonate_user_extra, r.Present(at.Field("as-user-extra")));
  return u;
}

Result<KubeContext> ParseContext(const FileReader& r, const core::JsonPath& at) {
  KubeContext c;
  GF_ASSIGN_OR_RETURN(c.cluster, r.String(at.Field("cluster")));
  GF_ASSIGN_OR_RETURN(c.user, r.String(at.Field("user")));
  GF_ASSIGN_OR_RETURN(c.namespace_name, r.String(at.Field("namespace")));
  return c;
}

// Parses the named list `list` ("clusters") whose items hold `inner` ("cluster"), and adds the
// entries `into` unless an earlier file defined the name.
template <typename Entry, typename Parse>
Status MergeList(const FileReader& r, const fs::path& file, std::string_view list,
                 std::string_view inner, Parse parse, std::map<std::string, Entry>& into) {
  GF_ASSIGN_OR_RETURN(size_t count, r.Size(core::JsonPath(list)));
  std::map<std::string, size_t> seen;  // name -> index in this file
  for (size_t i = 0; i < count; ++i) {
    core::JsonPath item = core::JsonPath(list).Index(i);
    GF_ASSIGN_OR_RETURN(std::string name, r.String(item.Field("name")));
    auto [it, inserted] = seen.emplace(name, i);
    if (!inserted) {
      return InvalidArgumentError(item.Field("name").str() + ": duplicate name \"" + name +
                                  "\" (first at " + std::string(list) + "[" +
                                  std::to_string(it->second) + "])");
    }
    GF_ASSIGN_OR_RETURN(Entry entry, parse(r, item.Field(inner)));
    entry.origin = EntryOrigin{file, item.Field(inner).str()};
    into.emplace(std::move(name), std::move(entry));  // keeps an earlier file's entry
  }
  return OkStatus();
}

Status MergeParsed(const json& root, const fs::path& file, MergedKubeconfig& merged) {
  if (!root.is_object()) {
    return InvalidArgumentError(std::string("expected a mapping at the top level, got ") +
                                root.type_name());
  }
  std::error_code ec;
  fs::path absolute = fs::absolute(file, ec);
  if (ec) absolute = file;
  FileReader r(root, absolute.parent_path());

  // Parse everything before merging anything, so a bad file leaves `merged` untouched.
  MergedKubeconfig local;
  GF_RETURN_IF_ERROR(MergeList(r, file, "clusters", "cluster", ParseCluster, local.clusters));
  GF_RETURN_IF_ERROR(MergeList(r, file, "users", "user", ParseUser, local.users));
  GF_RETURN_IF_ERROR(MergeList(r, file, "contexts", "context", ParseContext, local.contexts));
  GF_ASSIGN_OR_RETURN(std::string current, r.String(core::JsonPath("current-context")));

  for (auto& [name, entry] : local.clusters) merged.clusters.emplace(name, std::move(entry));
  for (auto& [name, entry] : local.users) merged.users.emplace(name, std::move(entry));
  for (auto& [name, entry] : local.contexts) merged.contexts.emplace(name, std::move(entry));
  if (merged.current_context.empty() && !current.empty()) {
    merged.current_context = std::move(current);
    merged.current_context_file = file;
  }
  return OkStatus();
}

}  // namespace

std::string EntryOrigin::Where(std::string_view field) const {
  std::string out = "kubeconfig " + file.string() + ": " + path;
  if (!field.empty()) {
    out += '.';
    out += field;
  }
  return out;
}

Status MergeKubeconfigFile(const fs::path& file, MergedKubeconfig& merged) {
  const std::string context = "kubeconfig " + file.string();
  Result<std::string> text = ReadConfigFile(file);
  // ReadConfigFile's message already names the path.
  if (!text.ok())
    return Status(text.status().code(), "kubeconfig " + std::string(text.status().message()));
  core::YamlOptions yaml_options;
  // client-go decodes with sigs.k8s.io/yaml, where a repeated key silently takes the last value.
  yaml_options.allow_duplicate_keys = true;
  Result<std::vector<json>> docs = core::YamlToJson(*text, yaml_options);
  if (!docs.ok()) return docs.status().WithContext(context);
  merged.files.push_back(file);
  // Like sigs.k8s.io/yaml, only the first document counts; an empty file is an empty config.
  if (docs->empty()) return OkStatus();
  return MergeParsed(docs->front(), file, merged).WithContext(context);
}

}  // namespace gpufleet::kube::internal
