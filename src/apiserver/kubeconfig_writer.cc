#include "apiserver/kubeconfig_writer.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "apiserver/pki.h"
#include "core/yaml.h"

namespace gpufleet::apiserver {
namespace {

namespace fs = std::filesystem;

Status MissingField(std::string_view field) {
  return InvalidArgumentError("KubeconfigSpec." + std::string(field) + " must not be empty");
}

// Creates `dir` and its parents with mode 0700 where missing.
Status MakeDirs(const fs::path& dir) {
  if (dir.empty()) return OkStatus();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return OkStatus();
    return FailedPreconditionError(dir.string() + ": not a directory");
  }
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    GF_RETURN_IF_ERROR(MakeDirs(dir.parent_path()));
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::string msg = dir.string() + ": create directory: " +
                      std::error_code(errno, std::generic_category()).message();
    return errno == EACCES ? PermissionDeniedError(msg) : FailedPreconditionError(msg);
  }
  return OkStatus();
}

}  // namespace

std::string Base64Encode(std::string_view data) {
  // EVP_EncodeBlock takes an int length: encode in chunks whose size is a multiple of 3, so
  // padding can only come at the end.
  constexpr size_t kChunk = 3 * 1024 * 1024;
  std::string out;
  for (size_t done = 0; done < data.size(); done += kChunk) {
    size_t n = std::min(kChunk, data.size() - done);
    size_t old = out.size();
    out.resize(old + 4 * ((n + 2) / 3) + 1);  // + the NUL EVP_EncodeBlock writes
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + old),
                                  reinterpret_cast<const unsigned char*>(data.data() + done),
                                  static_cast<int>(n));
    out.resize(old + static_cast<size_t>(written));
  }
  return out;
}

Result<nlohmann::json> BuildKubeconfig(const KubeconfigSpec& spec) {
  if (!spec.server.starts_with("https://") && !spec.server.starts_with("http://")) {
    return InvalidArgumentError("KubeconfigSpec.server: \"" + spec.server +
                                "\" must start with https:// or http://");
  }
  if (spec.server == "https://" || spec.server == "http://") return MissingField("server host");
  if (spec.cluster_name.empty()) return MissingField("cluster_name");
  if (spec.context_name.empty()) return MissingField("context_name");
  if (spec.user_name.empty()) return MissingField("user_name");
  const bool has_cert = !spec.client_cert_pem.empty() || !spec.client_key_pem.empty();
  if (has_cert && (spec.client_cert_pem.empty() || spec.client_key_pem.empty())) {
    return InvalidArgumentError(
        "KubeconfigSpec: client_cert_pem and client_key_pem must be given together");
  }
  if (has_cert == !spec.token.empty()) {
    return InvalidArgumentError(
        "KubeconfigSpec: give exactly one of token or client_cert_pem/client_key_pem");
  }

  nlohmann::json cluster = {{"server", spec.server}};
  if (!spec.ca_cert_pem.empty()) {
    cluster["certificate-authority-data"] = Base64Encode(spec.ca_cert_pem);
  }
  nlohmann::json user = nlohmann::json::object();
  if (has_cert) {
    user["client-certificate-data"] = Base64Encode(spec.client_cert_pem);
    user["client-key-data"] = Base64Encode(spec.client_key_pem);
  } else {
    user["token"] = spec.token;
  }
  nlohmann::json context = {{"cluster", spec.cluster_name}, {"user", spec.user_name}};
  if (!spec.namespace_name.empty()) context["namespace"] = spec.namespace_name;

  return nlohmann::json{
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters", nlohmann::json::array({{{"name", spec.cluster_name}, {"cluster", cluster}}})},
      {"users", nlohmann::json::array({{{"name", spec.user_name}, {"user", user}}})},
      {"contexts", nlohmann::json::array({{{"name", spec.context_name}, {"context", context}}})},
      {"current-context", spec.context_name},
      {"preferences", nlohmann::json::object()},
  };
}

Status WriteKubeconfig(const std::filesystem::path& path, const KubeconfigSpec& spec) {
  GF_ASSIGN_OR_RETURN(nlohmann::json config, BuildKubeconfig(spec));
  GF_RETURN_IF_ERROR(MakeDirs(path.parent_path()));
  return WriteFileAtomically(path, core::JsonToYaml(config), 0600);
}

}  // namespace gpufleet::apiserver
