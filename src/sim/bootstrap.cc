#include "sim/bootstrap.h"

#include <chrono>
#include <map>
#include <thread>

#include "core/yaml.h"
#include "kube/client.h"
#include "sim/embedded_files.h"

namespace gpufleet::sim {
namespace {

// The kinds the manifests use, and where they live.
const std::map<std::string, kube::Gvr, std::less<>>& Resources() {
  static const std::map<std::string, kube::Gvr, std::less<>> r = {
      {"apiextensions.k8s.io/v1/CustomResourceDefinition", {"apiextensions.k8s.io", "v1", "customresourcedefinitions", false}},
      {"karpenter.sh/v1/NodePool", {"karpenter.sh", "v1", "nodepools", false}},
      {"karpenter.k8s.aws/v1/EC2NodeClass", {"karpenter.k8s.aws", "v1", "ec2nodeclasses", false}},
      {"v1/Namespace", {"", "v1", "namespaces", false}},
      {"v1/ServiceAccount", {"", "v1", "serviceaccounts", true}},
      {"rbac.authorization.k8s.io/v1/ClusterRole", {"rbac.authorization.k8s.io", "v1", "clusterroles", false}},
      {"rbac.authorization.k8s.io/v1/ClusterRoleBinding", {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", false}},
      {"apps/v1/DaemonSet", {"apps", "v1", "daemonsets", true}},
  };
  return r;
}

Status Create(kube::Client& client, const std::string& file, const nlohmann::json& object) {
  const std::string kind = object.value("apiVersion", "") + "/" + object.value("kind", "");
  auto gvr = Resources().find(kind);
  if (gvr == Resources().end()) return InvalidArgumentError(file + ": no resource known for " + kind);
  const std::string name = object["metadata"].value("name", "");
  const std::string ns = gvr->second.namespaced ? object["metadata"].value("namespace", "default") : "";
  auto created = client.Create(gvr->second, ns, object);
  if (created.ok() || created.status().code() == StatusCode::kAlreadyExists) return OkStatus();
  return Status(created.status().code(),
                file + ": creating " + object.value("kind", "") + " " + name + ": " + std::string(created.status().message()));
}

}  // namespace

Status InstallManifests(kube::Client& client) {
  // CRDs first; their kinds are served a moment after creation.
  std::vector<std::pair<std::string, nlohmann::json>> later;
  for (const auto& file : EmbeddedFiles()) {
    auto docs = core::YamlToJson(file.content);
    if (!docs.ok()) return InvalidArgumentError(std::string(file.path) + ": " + std::string(docs.status().message()));
    for (auto& doc : *docs) {
      if (!doc.is_object()) continue;
      if (doc.value("kind", "") == "CustomResourceDefinition") {
        if (Status s = Create(client, std::string(file.path), doc); !s.ok()) return s;
      } else {
        later.emplace_back(std::string(file.path), std::move(doc));
      }
    }
  }
  for (const auto& [file, object] : later) {
    Status s;
    for (int attempt = 0; attempt < 100; ++attempt) {
      s = Create(client, file, object);
      // NotFound: the CRD's kind is not served yet.
      if (s.ok() || s.code() != StatusCode::kNotFound) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!s.ok()) return s;
  }
  return OkStatus();
}

}  // namespace gpufleet::sim
