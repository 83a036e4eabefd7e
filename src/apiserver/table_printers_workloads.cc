// Table printers for apps/v1 (DaemonSet, Deployment, ReplicaSet), coordination (Lease), policy
// (PodDisruptionBudget) and rbac (RoleBinding, ClusterRoleBinding): ports of printers.go with
// options.Wide set, as the API server calls them.
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/table_printers.h"

namespace gpufleet::apiserver::table_internal {
namespace {

std::string Name(const json& obj) { return Str(Get(&obj, {"metadata", "name"})); }

std::string Age(const json& obj, const RowContext& ctx) {
  return Since(TimestampOf(Get(&obj, {"metadata", "creationTimestamp"})), ctx.now);
}

// spec.replicas, which apps/v1 defaults to 1 on create.
int64_t DesiredReplicas(const json& obj) {
  const json* r = Get(&obj, {"spec", "replicas"});
  return r == nullptr ? 1 : Int(r);
}

void DaemonSetRow(const json& ds, const RowContext& ctx, json* cells, json*) {
  const json* status = Get(&ds, "status");
  const json* pod_spec = Get(&ds, {"spec", "template", "spec"});
  auto [names, images] = ContainerCells(pod_spec);
  *cells =
      json::array({Name(ds), Int(Get(status, "desiredNumberScheduled")),
                   Int(Get(status, "currentNumberScheduled")), Int(Get(status, "numberReady")),
                   Int(Get(status, "updatedNumberScheduled")), Int(Get(status, "numberAvailable")),
                   FormatLabels(Get(pod_spec, "nodeSelector")), Age(ds, ctx), names, images,
                   FormatLabelSelector(Get(&ds, {"spec", "selector"}))});
}

void DeploymentRow(const json& d, const RowContext& ctx, json* cells, json*) {
  const json* status = Get(&d, "status");
  auto [names, images] = ContainerCells(Get(&d, {"spec", "template", "spec"}));
  *cells = json::array(
      {Name(d),
       std::to_string(Int(Get(status, "readyReplicas"))) + "/" + std::to_string(DesiredReplicas(d)),
       Int(Get(status, "updatedReplicas")), Int(Get(status, "availableReplicas")), Age(d, ctx),
       names, images, LabelSelectorString(Get(&d, {"spec", "selector"}))});
}

void ReplicaSetRow(const json& rs, const RowContext& ctx, json* cells, json*) {
  const json* status = Get(&rs, "status");
  auto [names, images] = ContainerCells(Get(&rs, {"spec", "template", "spec"}));
  *cells = json::array({Name(rs), DesiredReplicas(rs), Int(Get(status, "replicas")),
                        Int(Get(status, "readyReplicas")), Age(rs, ctx), names, images,
                        FormatLabelSelector(Get(&rs, {"spec", "selector"}))});
}

void LeaseRow(const json& lease, const RowContext& ctx, json* cells, json*) {
  *cells =
      json::array({Name(lease), Str(Get(&lease, {"spec", "holderIdentity"})), Age(lease, ctx)});
}

// intstr.IntOrString.String(), or "N/A" when unset.
std::string IntOrString(const json* v) {
  if (v == nullptr) return "N/A";
  if (v->is_number()) return std::to_string(Int(v));
  return Str(v);
}

void PodDisruptionBudgetRow(const json& pdb, const RowContext& ctx, json* cells, json*) {
  *cells = json::array({Name(pdb), IntOrString(Get(&pdb, {"spec", "minAvailable"})),
                        IntOrString(Get(&pdb, {"spec", "maxUnavailable"})),
                        Int(Get(&pdb, {"status", "disruptionsAllowed"})), Age(pdb, ctx)});
}

std::string JoinComma(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i > 0 ? ", " : "") + parts[i];
  return out;
}

// RoleBinding and ClusterRoleBinding: roleRef, then rbac.SubjectsStrings in the wide columns.
void BindingRow(const json& b, const RowContext& ctx, json* cells, json*) {
  std::vector<std::string> users;
  std::vector<std::string> groups;
  std::vector<std::string> service_accounts;
  for (const json& s : Elements(Get(&b, "subjects"))) {
    const std::string kind = Str(Get(&s, "kind"));
    if (kind == "ServiceAccount") {
      service_accounts.push_back(Str(Get(&s, "namespace")) + "/" + Str(Get(&s, "name")));
    } else if (kind == "User") {
      users.push_back(Str(Get(&s, "name")));
    } else if (kind == "Group") {
      groups.push_back(Str(Get(&s, "name")));
    }
  }
  const json* ref = Get(&b, "roleRef");
  *cells = json::array({Name(b), Str(Get(ref, "kind")) + "/" + Str(Get(ref, "name")), Age(b, ctx),
                        JoinComma(users), JoinComma(groups), JoinComma(service_accounts)});
}

}  // namespace

void AddWorkloadPrinters(PrinterMap* printers) {
  const char* kAge = kCreationDescription;
  const Column kContainers{"Containers", "string", "", "Names of each container in the template.",
                           1};
  const Column kImages{"Images", "string", "",
                       "Images referenced by each container in the template.", 1};
  (*printers)["apps/DaemonSet"] =
      Printer{{{"Name", "string", "name", kNameDescription, 0},
               {"Desired", "integer", "",
                "The total number of nodes that should be running the daemon pod (including nodes "
                "correctly running the daemon pod).",
                0},
               {"Current", "integer", "",
                "The number of nodes that are running at least 1 daemon pod and are supposed to "
                "run the daemon pod.",
                0},
               {"Ready", "integer", "",
                "The number of nodes that should be running the daemon pod and have one or more of "
                "the daemon pod running and ready.",
                0},
               {"Up-to-date", "integer", "",
                "The total number of nodes that are running updated daemon pod", 0},
               {"Available", "integer", "",
                "The number of nodes that should be running the daemon pod and have one or more of "
                "the daemon pod running and available (ready for at least spec.minReadySeconds)",
                0},
               {"Node Selector", "string", "",
                "NodeSelector is a selector which must be true for the pod to fit on a node.", 0},
               {"Age", "string", "", kAge, 0},
               kContainers,
               kImages,
               {"Selector", "string", "",
                "A label query over pods that are managed by the daemon set.", 1}},
              DaemonSetRow};
  (*printers)["apps/Deployment"] =
      Printer{{{"Name", "string", "name", kNameDescription, 0},
               {"Ready", "string", "", "Number of the pod with ready state", 0},
               {"Up-to-date", "string", "",
                "Total number of non-terminated pods targeted by this deployment that have the "
                "desired template spec.",
                0},
               {"Available", "string", "",
                "Total number of available pods (ready for at least minReadySeconds) targeted by "
                "this deployment.",
                0},
               {"Age", "string", "", kAge, 0},
               kContainers,
               kImages,
               {"Selector", "string", "", "Label selector for pods.", 1}},
              DeploymentRow};
  (*printers)["apps/ReplicaSet"] = Printer{
      {{"Name", "string", "name", kNameDescription, 0},
       {"Desired", "integer", "", "Replicas is the number of desired replicas.", 0},
       {"Current", "integer", "", "Replicas is the most recently observed number of replicas.", 0},
       {"Ready", "integer", "", "The number of ready replicas for this replica set.", 0},
       {"Age", "string", "", kAge, 0},
       kContainers,
       kImages,
       {"Selector", "string", "",
        "Selector is a label query over pods that should match the replica count.", 1}},
      ReplicaSetRow};
  (*printers)["coordination.k8s.io/Lease"] =
      Printer{{{"Name", "string", "name", kNameDescription, 0},
               {"Holder", "string", "",
                "holderIdentity contains the identity of the holder of a current lease.", 0},
               {"Age", "string", "", kAge, 0}},
              LeaseRow};
  (*printers)["policy/PodDisruptionBudget"] = Printer{
      {{"Name", "string", "name", kNameDescription, 0},
       {"Min Available", "string", "", "The minimum number of pods that must be available.", 0},
       {"Max Unavailable", "string", "", "The maximum number of pods that may be unavailable.", 0},
       {"Allowed Disruptions", "integer", "",
        "Calculated number of pods that may be disrupted at this time.", 0},
       {"Age", "string", "", kAge, 0}},
      PodDisruptionBudgetRow};
  for (const char* kind : {"RoleBinding", "ClusterRoleBinding"}) {
    (*printers)[std::string("rbac.authorization.k8s.io/") + kind] = Printer{
        {{"Name", "string", "name", kNameDescription, 0},
         {"Role", "string", "",
          "RoleRef can reference a Role in the current namespace or a ClusterRole in the global "
          "namespace.",
          0},
         {"Age", "string", "", kAge, 0},
         {"Users", "string", "",
          std::string_view(kind) == "RoleBinding" ? "Users in the roleBinding"
                                                  : "Users in the clusterRoleBinding",
          1},
         {"Groups", "string", "",
          std::string_view(kind) == "RoleBinding" ? "Groups in the roleBinding"
                                                  : "Groups in the clusterRoleBinding",
          1},
         {"ServiceAccounts", "string", "",
          std::string_view(kind) == "RoleBinding" ? "ServiceAccounts in the roleBinding"
                                                  : "ServiceAccounts in the clusterRoleBinding",
          1}},
        BindingRow};
  }
}

}  // namespace gpufleet::apiserver::table_internal
