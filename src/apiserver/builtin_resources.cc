// The built-in kinds the embedded API server serves, as data. Table columns for built-ins are
// computed in table.cc; the `columns` here are used only when no computed printer exists.
#include <string>
#include <vector>

#include "apiserver/registry.h"

namespace gpufleet::apiserver {
namespace {

ResourceInfo R(std::string group, std::string version, std::string resource, std::string singular,
               std::string kind, bool namespaced, std::vector<std::string> short_names = {},
               std::vector<std::string> subresources = {},
               std::vector<std::string> categories = {}) {
  ResourceInfo r;
  r.group = std::move(group);
  r.version = std::move(version);
  r.resource = std::move(resource);
  r.singular = std::move(singular);
  r.kind = std::move(kind);
  r.namespaced = namespaced;
  r.short_names = std::move(short_names);
  r.subresources = std::move(subresources);
  r.categories = std::move(categories);
  return r;
}

}  // namespace

std::vector<ResourceInfo> BuiltinResources() {
  constexpr bool kNamespaced = true;
  constexpr bool kCluster = false;
  return {
      R("", "v1", "namespaces", "namespace", "Namespace", kCluster, {"ns"}, {"status"}),
      R("", "v1", "pods", "pod", "Pod", kNamespaced, {"po"},
        {"status", "log", "binding", "eviction"}, {"all"}),
      R("", "v1", "nodes", "node", "Node", kCluster, {"no"}, {"status"}),
      R("", "v1", "events", "event", "Event", kNamespaced, {"ev"}),
      R("", "v1", "configmaps", "configmap", "ConfigMap", kNamespaced, {"cm"}),
      R("", "v1", "secrets", "secret", "Secret", kNamespaced),
      R("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", kNamespaced, {"sa"}),
      R("", "v1", "services", "service", "Service", kNamespaced, {"svc"}, {"status"}, {"all"}),
      R("", "v1", "endpoints", "endpoints", "Endpoints", kNamespaced, {"ep"}),
      R("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim",
        kNamespaced, {"pvc"}, {"status"}),
      R("", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", kCluster, {"pv"},
        {"status"}),
      R("", "v1", "resourcequotas", "resourcequota", "ResourceQuota", kNamespaced, {"quota"},
        {"status"}),
      R("", "v1", "limitranges", "limitrange", "LimitRange", kNamespaced, {"limits"}),
      R("", "v1", "podtemplates", "podtemplate", "PodTemplate", kNamespaced),
      R("apps", "v1", "daemonsets", "daemonset", "DaemonSet", kNamespaced, {"ds"}, {"status"},
        {"all"}),
      R("apps", "v1", "deployments", "deployment", "Deployment", kNamespaced, {"deploy"},
        {"status", "scale"}, {"all"}),
      R("apps", "v1", "replicasets", "replicaset", "ReplicaSet", kNamespaced, {"rs"},
        {"status", "scale"}, {"all"}),
      R("apps", "v1", "statefulsets", "statefulset", "StatefulSet", kNamespaced, {"sts"},
        {"status", "scale"}, {"all"}),
      R("apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision",
        kNamespaced),
      R("batch", "v1", "jobs", "job", "Job", kNamespaced, {}, {"status"}, {"all"}),
      R("batch", "v1", "cronjobs", "cronjob", "CronJob", kNamespaced, {"cj"}, {"status"}, {"all"}),
      R("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler",
        "HorizontalPodAutoscaler", kNamespaced, {"hpa"}, {"status"}, {"all"}),
      R("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", kNamespaced, {"ing"},
        {"status"}),
      R("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy",
        kNamespaced, {"netpol"}),
      R("scheduling.k8s.io", "v1", "priorityclasses", "priorityclass", "PriorityClass", kCluster,
        {"pc"}),
      // GPU nodes select the NVIDIA container runtime through a RuntimeClass.
      R("node.k8s.io", "v1", "runtimeclasses", "runtimeclass", "RuntimeClass", kCluster),
      R("storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", kCluster, {"sc"}),
      R("coordination.k8s.io", "v1", "leases", "lease", "Lease", kNamespaced),
      R("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", kNamespaced),
      R("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding",
        kNamespaced),
      R("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", kCluster),
      R("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
        "ClusterRoleBinding", kCluster),
      R("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget",
        kNamespaced, {"pdb"}, {"status"}),
      R("events.k8s.io", "v1", "events", "event", "Event", kNamespaced, {"ev"}),
      R("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
        "CustomResourceDefinition", kCluster, {"crd", "crds"}, {"status"}),
  };
}

}  // namespace gpufleet::apiserver
