#include "provisioner/validation.h"

#include <regex>
#include <set>
#include <string_view>

#include "core/node_selector_requirement.h"
#include "core/time_format.h"

namespace gpufleet::provisioner {
namespace {

using Problems = std::vector<std::string>;

std::string Path(std::string_view base, size_t index) { return std::string(base) + "[" + std::to_string(index) + "]"; }

void Add(Problems& out, const Status& s) {
  if (!s.ok()) out.emplace_back(s.message());
}

bool Matches(const std::string& text, const char* pattern) {
  return std::regex_match(text, std::regex(pattern));
}

// Go durations as Karpenter's CRD patterns accept them: "30s", "1h30m" (s, m, h units only).
constexpr const char* kDurationPattern = "^([0-9]+(s|m|h))+$";

void CheckTaints(Problems& out, const std::vector<core::Taint>& taints, std::string_view path) {
  for (size_t i = 0; i < taints.size(); ++i) {
    const auto& t = taints[i];
    std::string p = Path(path, i);
    if (t.key.empty()) {
      out.push_back(p + ".key: required");
    } else {
      Add(out, core::ValidateLabelKey(t.key, p + ".key"));
    }
    if (!t.value.empty()) Add(out, core::ValidateLabelValue(t.value, p + ".value"));
  }
}

// Karpenter v1's requirement rules (nodepool.go CEL and requirements validation).
void CheckRequirements(Problems& out, const std::vector<core::NodeSelectorRequirement>& requirements,
                       std::string_view path) {
  if (requirements.size() > 100) out.push_back(std::string(path) + ": must have at most 100 items");
  for (size_t i = 0; i < requirements.size(); ++i) {
    const auto& r = requirements[i];
    std::string p = Path(path, i);
    Status s = core::ValidateNodeSelectorRequirement(r, core::RequirementDialect::kKarpenter, p);
    if (!s.ok()) {
      out.emplace_back(s.message());
      continue;
    }
    if (r.key == "kubernetes.io/hostname") out.push_back(p + ".key: label \"kubernetes.io/hostname\" is restricted");
    if (r.key == "karpenter.sh/nodepool") out.push_back(p + ".key: label \"karpenter.sh/nodepool\" is restricted");
    if (r.key.starts_with("karpenter.sh/") && r.key != "karpenter.sh/capacity-type" &&
        r.key != "karpenter.sh/nodepool") {
      out.push_back(p + ".key: label domain \"karpenter.sh\" is restricted");
    }
    if (r.key == "karpenter.sh/capacity-type" && r.op == core::Operator::kIn) {
      for (const auto& v : r.values) {
        if (v != "on-demand" && v != "spot" && v != "reserved") {
          out.push_back(p + ".values: unsupported capacity type \"" + v + "\" (on-demand, spot or reserved)");
        }
      }
    }
  }
}

void CheckTemplateLabels(Problems& out, const core::Labels& labels, std::string_view path) {
  Add(out, core::ValidateLabels(labels, path));
  for (const auto& [key, value] : labels) {
    std::string k = key.str();
    if (k == "kubernetes.io/hostname") out.push_back(std::string(path) + ": label \"kubernetes.io/hostname\" is restricted");
    if (k.starts_with("karpenter.sh/")) out.push_back(std::string(path) + ": label domain \"karpenter.sh\" is restricted");
    if (k.starts_with("karpenter.k8s.aws/")) {
      out.push_back(std::string(path) + ": label domain \"karpenter.k8s.aws\" is restricted");
    }
  }
}

bool ValidCron(const std::string& schedule) {
  static const std::set<std::string, std::less<>> kMacros = {"@yearly", "@annually", "@monthly", "@weekly",
                                                             "@daily", "@midnight", "@hourly"};
  if (kMacros.contains(schedule)) return true;
  // Five space-separated fields of digits, names, * , - and /.
  return Matches(schedule, "^([0-9A-Za-z*,/?-]+ ){4}[0-9A-Za-z*,/?-]+$");
}

void CheckDisruption(Problems& out, const kube::Disruption& d) {
  if (!d.consolidation_policy.empty() && d.consolidation_policy != "WhenEmpty" &&
      d.consolidation_policy != "WhenEmptyOrUnderutilized" && d.consolidation_policy != "Balanced") {
    out.push_back("spec.disruption.consolidationPolicy: unsupported value \"" + d.consolidation_policy +
                  "\" (WhenEmpty, WhenEmptyOrUnderutilized or Balanced)");
  }
  if (d.consolidate_after && *d.consolidate_after != "Never" && !Matches(*d.consolidate_after, kDurationPattern)) {
    out.push_back("spec.disruption.consolidateAfter: \"" + *d.consolidate_after +
                  "\" is not a duration like 30s or 1h30m, or Never");
  }
  if (d.budgets.size() > 50) out.push_back("spec.disruption.budgets: must have at most 50 items");
  for (size_t i = 0; i < d.budgets.size(); ++i) {
    const auto& b = d.budgets[i];
    std::string p = Path("spec.disruption.budgets", i);
    if (!Matches(b.nodes, "^((100|[0-9]{1,2})%|[0-9]+)$")) {
      out.push_back(p + ".nodes: \"" + b.nodes + "\" must be a count (5) or a percentage (10%)");
    }
    for (const auto& reason : b.reasons) {
      if (reason != "Underutilized" && reason != "Empty" && reason != "Drifted") {
        out.push_back(p + ".reasons: unsupported reason \"" + reason + "\" (Underutilized, Empty or Drifted)");
      }
    }
    if (b.schedule.has_value() != b.duration.has_value()) {
      out.push_back(p + ": 'schedule' must be set with 'duration'");
    }
    if (b.schedule && !ValidCron(*b.schedule)) out.push_back(p + ".schedule: \"" + *b.schedule + "\" is not a cron schedule");
    if (b.duration && !Matches(*b.duration, "^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$")) {
      out.push_back(p + ".duration: \"" + *b.duration + "\" must be hours and/or minutes, like 8h or 1h30m");
    }
  }
}

}  // namespace

std::string JoinProblems(const std::vector<std::string>& problems, size_t max) {
  std::string out;
  for (size_t i = 0; i < problems.size() && i < max; ++i) {
    if (i > 0) out += "; ";
    out += problems[i];
  }
  if (problems.size() > max) out += "; and " + std::to_string(problems.size() - max) + " more";
  return out;
}

std::vector<std::string> ValidateNodePool(const kube::NodePool& pool) {
  Problems out;
  const auto& tmpl = pool.spec.template_;
  const auto& ref = tmpl.spec.node_class_ref;
  if (ref.group.empty()) out.push_back("spec.template.spec.nodeClassRef.group: required");
  if (ref.kind.empty()) out.push_back("spec.template.spec.nodeClassRef.kind: required");
  if (ref.name.empty()) out.push_back("spec.template.spec.nodeClassRef.name: required");
  CheckTemplateLabels(out, tmpl.metadata.labels, "spec.template.metadata.labels");
  CheckRequirements(out, tmpl.spec.requirements, "spec.template.spec.requirements");
  CheckTaints(out, tmpl.spec.taints, "spec.template.spec.taints");
  CheckTaints(out, tmpl.spec.startup_taints, "spec.template.spec.startupTaints");
  if (tmpl.spec.expire_after && *tmpl.spec.expire_after != "Never" &&
      !Matches(*tmpl.spec.expire_after, kDurationPattern)) {
    out.push_back("spec.template.spec.expireAfter: \"" + *tmpl.spec.expire_after +
                  "\" is not a duration like 720h, or Never");
  }
  if (tmpl.spec.termination_grace_period && !Matches(*tmpl.spec.termination_grace_period, kDurationPattern)) {
    out.push_back("spec.template.spec.terminationGracePeriod: \"" + *tmpl.spec.termination_grace_period +
                  "\" is not a duration like 48h");
  }
  CheckDisruption(out, pool.spec.disruption);
  if (pool.spec.weight && (*pool.spec.weight < 1 || *pool.spec.weight > 100)) {
    out.push_back("spec.weight: must be between 1 and 100");
  }
  if (pool.spec.replicas && *pool.spec.replicas < 0) out.push_back("spec.replicas: must be >= 0");
  for (const auto& [name, quantity] : pool.spec.limits) {
    if (quantity.Sign() < 0) out.push_back("spec.limits." + name + ": must not be negative");
  }
  return out;
}

std::vector<std::string> ValidateEC2NodeClass(const kube::EC2NodeClass& node_class) {
  Problems out;
  const auto& spec = node_class.spec;
  if (spec.subnet_selector_terms.empty()) out.push_back("spec.subnetSelectorTerms: required");
  if (spec.subnet_selector_terms.size() > 30) out.push_back("spec.subnetSelectorTerms: must have at most 30 items");
  for (size_t i = 0; i < spec.subnet_selector_terms.size(); ++i) {
    const auto& t = spec.subnet_selector_terms[i];
    std::string p = Path("spec.subnetSelectorTerms", i);
    if (t.tags.empty() && t.id.empty()) out.push_back(p + ": expected at least one, got none, ['tags', 'id']");
    if (!t.id.empty() && !t.tags.empty()) out.push_back(p + ": 'id' is mutually exclusive, cannot be set with a combination of other fields");
    if (!t.id.empty() && !Matches(t.id, "^subnet-[0-9a-z]+$")) out.push_back(p + ".id: \"" + t.id + "\" is not a subnet id");
  }
  if (spec.security_group_selector_terms.empty()) out.push_back("spec.securityGroupSelectorTerms: required");
  if (spec.security_group_selector_terms.size() > 30) {
    out.push_back("spec.securityGroupSelectorTerms: must have at most 30 items");
  }
  for (size_t i = 0; i < spec.security_group_selector_terms.size(); ++i) {
    const auto& t = spec.security_group_selector_terms[i];
    std::string p = Path("spec.securityGroupSelectorTerms", i);
    int set = !t.tags.empty() + !t.id.empty() + !t.name.empty();
    if (set == 0) out.push_back(p + ": expected at least one, got none, ['tags', 'id', 'name']");
    if (!t.id.empty() && set > 1) out.push_back(p + ": 'id' is mutually exclusive, cannot be set with a combination of other fields");
    if (!t.name.empty() && set > 1) out.push_back(p + ": 'name' is mutually exclusive, cannot be set with a combination of other fields");
    if (!t.id.empty() && !Matches(t.id, "^sg-[0-9a-z]+$")) out.push_back(p + ".id: \"" + t.id + "\" is not a security group id");
  }
  if (spec.capacity_reservation_selector_terms.size() > 30) {
    out.push_back("spec.capacityReservationSelectorTerms: must have at most 30 items");
  }
  for (size_t i = 0; i < spec.capacity_reservation_selector_terms.size(); ++i) {
    const auto& t = spec.capacity_reservation_selector_terms[i];
    std::string p = Path("spec.capacityReservationSelectorTerms", i);
    if (t.tags.empty() && t.id.empty()) out.push_back(p + ": expected at least one, got none, ['tags', 'id']");
    if (!t.id.empty() && (!t.tags.empty() || !t.owner_id.empty() || !t.instance_match_criteria.empty())) {
      out.push_back(p + ": 'id' is mutually exclusive, cannot be set with a combination of other fields");
    }
    if (!t.id.empty() && !Matches(t.id, "^cr-[0-9a-z]+$")) out.push_back(p + ".id: \"" + t.id + "\" is not a capacity reservation id");
    if (!t.owner_id.empty() && !Matches(t.owner_id, "^[0-9]{12}$")) {
      out.push_back(p + ".ownerID: \"" + t.owner_id + "\" is not a 12-digit AWS account id");
    }
    if (!t.instance_match_criteria.empty() && t.instance_match_criteria != "open" &&
        t.instance_match_criteria != "targeted") {
      out.push_back(p + ".instanceMatchCriteria: unsupported value \"" + t.instance_match_criteria + "\" (open or targeted)");
    }
  }
  if (spec.ami_selector_terms.empty()) out.push_back("spec.amiSelectorTerms: required");
  bool alias = false;
  for (size_t i = 0; i < spec.ami_selector_terms.size(); ++i) {
    const auto& t = spec.ami_selector_terms[i];
    std::string p = Path("spec.amiSelectorTerms", i);
    if (t.alias.empty() && t.tags.empty() && t.id.empty() && t.name.empty() && t.ssm_parameter.empty()) {
      out.push_back(p + ": expected at least one, got none, ['tags', 'id', 'name', 'alias', 'ssmParameter']");
    }
    if (!t.alias.empty()) {
      alias = true;
      if (!t.tags.empty() || !t.id.empty() || !t.name.empty() || !t.owner.empty() || !t.ssm_parameter.empty()) {
        out.push_back(p + ": 'alias' is mutually exclusive, cannot be set with a combination of other fields");
      }
      if (spec.ami_selector_terms.size() > 1) {
        out.push_back(p + ": 'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms");
      }
      static const std::regex kAlias("^(al2|al2023|bottlerocket|windows2019|windows2022|windows2025)@.+$");
      if (!std::regex_match(t.alias, kAlias)) {
        out.push_back(p + ".alias: \"" + t.alias +
                      "\" must be family@version with family al2, al2023, bottlerocket, windows2019, windows2022 or windows2025");
      }
    }
    if (!t.id.empty() && (!t.tags.empty() || !t.name.empty() || !t.owner.empty())) {
      out.push_back(p + ": 'id' is mutually exclusive, cannot be set with a combination of other fields");
    }
    if (!t.id.empty() && !Matches(t.id, "^ami-[0-9a-z]+$")) out.push_back(p + ".id: \"" + t.id + "\" is not an AMI id");
  }
  if (!alias && !spec.ami_family) out.push_back("spec.amiFamily: required when amiSelectorTerms has no alias");
  if (spec.ami_family) {
    static const std::set<std::string, std::less<>> kFamilies = {"AL2", "AL2023", "Bottlerocket", "Custom",
                                                                 "Windows2019", "Windows2022", "Windows2025"};
    if (!kFamilies.contains(*spec.ami_family)) out.push_back("spec.amiFamily: unsupported value \"" + *spec.ami_family + "\"");
  }
  if (spec.role.empty() == !spec.instance_profile.has_value()) {
    out.push_back("spec: must specify exactly one of ['role', 'instanceProfile']");
  }
  static const std::vector<std::string_view> kRestrictedTags = {"kubernetes.io/cluster/", "karpenter.sh/nodepool",
                                                                "eks:eks-cluster-name", "karpenter.sh/nodeclaim",
                                                                "karpenter.k8s.aws/ec2nodeclass"};
  for (const auto& [key, value] : spec.tags) {
    for (auto restricted : kRestrictedTags) {
      if (key.str().starts_with(restricted)) out.push_back("spec.tags: tag \"" + key.str() + "\" is restricted");
    }
  }
  if (spec.block_device_mappings.size() > 50) out.push_back("spec.blockDeviceMappings: must have at most 50 items");
  int roots = 0;
  for (const auto& m : spec.block_device_mappings) roots += m.root_volume;
  if (roots > 1) out.push_back("spec.blockDeviceMappings: must have only one blockDeviceMappings with rootVolume");
  if (spec.instance_store_policy && *spec.instance_store_policy != "RAID0") {
    out.push_back("spec.instanceStorePolicy: unsupported value \"" + *spec.instance_store_policy + "\" (RAID0)");
  }
  if (spec.metadata_options) {
    const auto& m = *spec.metadata_options;
    auto check = [&](const std::optional<std::string>& v, const char* field, std::string_view a, std::string_view b) {
      if (v && *v != a && *v != b) {
        out.push_back(std::string("spec.metadataOptions.") + field + ": unsupported value \"" + *v + "\"");
      }
    };
    check(m.http_endpoint, "httpEndpoint", "enabled", "disabled");
    check(m.http_protocol_ipv6, "httpProtocolIPv6", "enabled", "disabled");
    check(m.http_tokens, "httpTokens", "required", "optional");
    if (m.http_put_response_hop_limit && (*m.http_put_response_hop_limit < 1 || *m.http_put_response_hop_limit > 64)) {
      out.push_back("spec.metadataOptions.httpPutResponseHopLimit: must be between 1 and 64");
    }
  }
  return out;
}

std::string NodePoolHash(const kube::NodePool& pool) {
  kube::NodeClaimTemplate tmpl = WithDefaults(pool).spec.template_;
  tmpl.spec.requirements.clear();
  return std::to_string(Fnv1a64(kube::Encode(tmpl).dump()));
}

uint64_t Fnv1a64(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

kube::NodePool WithDefaults(kube::NodePool pool) {
  auto& tmpl = pool.spec.template_.spec;
  if (!tmpl.expire_after) tmpl.expire_after = "720h";
  auto& d = pool.spec.disruption;
  if (d.consolidation_policy.empty()) d.consolidation_policy = "WhenEmptyOrUnderutilized";
  if (!d.consolidate_after) d.consolidate_after = "0s";
  if (d.budgets.empty()) d.budgets.push_back(kube::DisruptionBudget{.nodes = "10%"});
  return pool;
}

}  // namespace gpufleet::provisioner
