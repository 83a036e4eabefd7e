// AwsCloudProvider::Resolve: an EC2NodeClass's selector terms -> subnets, security groups, AMIs and
// capacity reservations, each term a separate query (terms are ORed, fields within a term ANDed).
#include <algorithm>

#include "cloud/aws/provider.h"

namespace gpufleet::cloud::aws {

namespace {

using kube::EC2NodeClassSpec;

std::vector<Filter> TagFilters(const core::Labels& tags) {
  std::vector<Filter> filters;
  for (const auto& [k, v] : tags) {
    if (v.view() == "*") {
      filters.push_back({"tag-key", {k.str()}});
    } else {
      filters.push_back({"tag:" + k.str(), {v.str()}});
    }
  }
  return filters;
}

core::NodeSelectorRequirement Req(std::string key, core::Operator op, std::vector<std::string> values = {}) {
  return {.key = std::move(key), .op = op, .values = std::move(values)};
}

struct AliasAmi {
  const char* arch;     // SSM path spelling
  const char* variant;  // standard, nvidia, neuron
};
constexpr AliasAmi kAl2023Variants[] = {
    {"x86_64", "standard"}, {"arm64", "standard"}, {"x86_64", "nvidia"}, {"arm64", "nvidia"}, {"x86_64", "neuron"}};

}  // namespace

Result<AwsCloudProvider::Resolved> AwsCloudProvider::ResolveRef(const NodeClassRef& ref) {
  if (!options_.node_classes) return FailedPreconditionError("aws provider: no EC2NodeClass source configured");
  if (ref.kind != "EC2NodeClass") {
    return InvalidArgumentError("nodeClassRef kind \"" + ref.kind + "\" is not EC2NodeClass");
  }
  GF_ASSIGN_OR_RETURN(auto node_class, options_.node_classes(ref.name));
  // Resolutions are reused for resolution_ttl while the spec is unchanged (Karpenter reads them
  // from the EC2NodeClass status, refreshed about once a minute); a changed spec re-resolves now.
  const std::string key = kube::Encode(node_class.spec).dump();
  {
    std::lock_guard lock(mu_);
    auto it = resolved_cache_.find(ref.name);
    if (it != resolved_cache_.end() && it->second.key == key &&
        clock_.Now() - it->second.at < options_.resolution_ttl) {
      return it->second.resolved;
    }
  }
  GF_ASSIGN_OR_RETURN(auto resolved, ResolveClass(std::move(node_class), ref.name));
  std::lock_guard lock(mu_);
  resolved.version = ++resolutions_;
  resolved_cache_[ref.name] = {.key = key, .at = clock_.Now(), .resolved = resolved};
  return resolved;
}

void AwsCloudProvider::NoteReservedLaunch(const std::string& node_class, const std::string& reservation_id) {
  std::lock_guard lock(mu_);
  auto it = resolved_cache_.find(node_class);
  if (it == resolved_cache_.end()) return;
  for (auto& cr : it->second.resolved.reservations) {
    if (cr.id == reservation_id && cr.available > 0) --cr.available;
  }
}

Result<AwsCloudProvider::Resolved> AwsCloudProvider::ResolveClass(kube::EC2NodeClass node_class,
                                                                  std::string_view name) {
  Resolved resolved{.node_class = std::move(node_class)};
  const EC2NodeClassSpec& spec = resolved.node_class.spec;
  const std::string where = "EC2NodeClass " + std::string(name);
  kube::EC2NodeClassStatus& status = resolved.status;

  for (const auto& term : spec.subnet_selector_terms) {
    std::vector<std::string> ids;
    std::vector<Filter> filters = TagFilters(term.tags);
    if (!term.id.empty()) ids.push_back(term.id);
    if (!term.cidr.empty()) filters.push_back({"cidr-block", {term.cidr}});
    if (ids.empty() && filters.empty()) return InvalidArgumentError(where + ": a subnetSelectorTerm selects nothing");
    auto found = DescribeSubnets(ec2_, ids, filters);
    if (!found.ok() && found.status().code() != StatusCode::kNotFound) return found.status();
    for (auto& s : found.ok() ? *found : std::vector<Ec2Subnet>{}) {
      if (std::none_of(resolved.subnets.begin(), resolved.subnets.end(), [&](const auto& x) { return x.id == s.id; })) {
        resolved.subnets.push_back(std::move(s));
      }
    }
  }
  std::sort(resolved.subnets.begin(), resolved.subnets.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  for (const auto& s : resolved.subnets) status.subnets.push_back({.id = s.id, .zone = s.zone, .zone_id = s.zone_id});

  std::map<std::string, kube::ResolvedSecurityGroup> groups;
  for (const auto& term : spec.security_group_selector_terms) {
    std::vector<std::string> ids;
    std::vector<Filter> filters = TagFilters(term.tags);
    if (!term.id.empty()) ids.push_back(term.id);
    if (!term.name.empty()) filters.push_back({"group-name", {term.name}});
    if (ids.empty() && filters.empty()) return InvalidArgumentError(where + ": a securityGroupSelectorTerm selects nothing");
    auto found = DescribeSecurityGroups(ec2_, ids, filters);
    if (!found.ok() && found.status().code() != StatusCode::kNotFound) return found.status();
    for (const auto& g : found.ok() ? *found : std::vector<Ec2SecurityGroup>{}) groups[g.id] = {.id = g.id, .name = g.name};
  }
  for (auto& [id, g] : groups) status.security_groups.push_back(g);

  // AMIs: ids with their requirements, newest first within the same requirements.
  std::vector<std::pair<std::string, std::vector<core::NodeSelectorRequirement>>> wanted;
  std::vector<Ec2Image> images;
  for (const auto& term : spec.ami_selector_terms) {
    if (!term.alias.empty()) {
      const size_t at = term.alias.find('@');
      const std::string family = term.alias.substr(0, at);
      const std::string version = at == std::string::npos ? "latest" : term.alias.substr(at + 1);
      if (family != "al2023") {
        return InvalidArgumentError(where + ": amiSelectorTerms alias \"" + term.alias +
                                    "\": only the al2023 family is supported by gpufleet today");
      }
      for (const auto& v : kAl2023Variants) {
        const std::string k8s = options_.cluster.kubernetes_version;
        const std::string base = "/aws/service/eks/optimized-ami/" + k8s + "/amazon-linux-2023/" + v.arch + "/" + v.variant + "/";
        const std::string parameter = version == "latest" ? base + "recommended/image_id"
                                                     : base + "amazon-eks-node-al2023-" + v.arch + "-" + v.variant + "-" +
                                                           k8s + "-" + version + "/image_id";
        auto id = GetParameter(ssm_, parameter);
        if (!id.ok()) {
          if (id.status().code() == StatusCode::kNotFound) continue;  // no such variant here
          return id.status();
        }
        std::vector<core::NodeSelectorRequirement> reqs = {
            Req(std::string(core::labels::kArch), core::Operator::kIn, {std::string(v.arch) == "arm64" ? "arm64" : "amd64"})};
        const std::string variant = v.variant;
        if (variant == "nvidia") {
          reqs.push_back(Req("karpenter.k8s.aws/instance-gpu-count", core::Operator::kExists));
          reqs.push_back(Req("karpenter.k8s.aws/instance-gpu-manufacturer", core::Operator::kIn, {"nvidia"}));
        } else if (variant == "neuron") {
          reqs.push_back(Req("karpenter.k8s.aws/instance-accelerator-count", core::Operator::kExists));
        } else {
          reqs.push_back(Req("karpenter.k8s.aws/instance-gpu-count", core::Operator::kDoesNotExist));
          reqs.push_back(Req("karpenter.k8s.aws/instance-accelerator-count", core::Operator::kDoesNotExist));
        }
        wanted.emplace_back(*id, std::move(reqs));
      }
      continue;
    }
    std::vector<std::string> ids, owners;
    std::vector<Filter> filters = TagFilters(term.tags);
    if (!term.id.empty()) ids.push_back(term.id);
    if (!term.ssm_parameter.empty()) {
      GF_ASSIGN_OR_RETURN(auto id, GetParameter(ssm_, term.ssm_parameter));
      ids.push_back(id);
    }
    if (!term.name.empty()) filters.push_back({"name", {term.name}});
    if (!term.owner.empty()) owners.push_back(term.owner);
    if (ids.empty() && filters.empty()) return InvalidArgumentError(where + ": an amiSelectorTerm selects nothing");
    auto found = DescribeImages(ec2_, ids, owners, filters);
    if (!found.ok() && found.status().code() != StatusCode::kNotFound) return found.status();
    for (const auto& image : found.ok() ? *found : std::vector<Ec2Image>{}) {
      wanted.emplace_back(image.id, std::vector<core::NodeSelectorRequirement>{
                                        Req(std::string(core::labels::kArch), core::Operator::kIn, {image.arch})});
    }
  }
  if (!wanted.empty()) {
    std::vector<std::string> ids;
    for (const auto& [id, reqs] : wanted) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    GF_ASSIGN_OR_RETURN(images, DescribeImages(ec2_, ids, {}, {}));
  }
  for (const auto& [id, reqs] : wanted) {
    const std::string& wanted_id = id;  // clang 14 cannot capture a structured binding
    auto image = std::find_if(images.begin(), images.end(), [&](const auto& i) { return i.id == wanted_id; });
    if (image == images.end()) continue;
    status.amis.push_back({.id = id, .name = image->name, .requirements = reqs, .deprecated = image->deprecated});
    auto parsed = core::Requirements::FromNodeSelectorRequirements(reqs);
    if (!parsed.ok()) return parsed.status();
    if (!image->deprecated) resolved.bootable.emplace_back(id, std::move(*parsed));
  }

  for (const auto& term : spec.capacity_reservation_selector_terms) {
    std::vector<std::string> ids;
    std::vector<Filter> filters = TagFilters(term.tags);
    if (!term.id.empty()) ids.push_back(term.id);
    if (!term.owner_id.empty()) filters.push_back({"owner-id", {term.owner_id}});
    if (!term.instance_match_criteria.empty()) filters.push_back({"instance-match-criteria", {term.instance_match_criteria}});
    if (ids.empty() && filters.empty()) return InvalidArgumentError(where + ": a capacityReservationSelectorTerm selects nothing");
    auto found = DescribeCapacityReservations(ec2_, ids, filters);
    if (!found.ok() && found.status().code() != StatusCode::kNotFound) return found.status();
    for (auto& cr : found.ok() ? *found : std::vector<Ec2CapacityReservation>{}) {
      if (cr.state != "active") continue;  // cancelled, expired, pending: nothing to launch into
      if (std::any_of(resolved.reservations.begin(), resolved.reservations.end(), [&](const auto& x) { return x.id == cr.id; })) {
        continue;
      }
      status.capacity_reservations.push_back(
          {.availability_zone = cr.zone, .end_time = cr.end_date.empty() ? std::nullopt : std::optional(cr.end_date),
           .id = cr.id, .instance_match_criteria = cr.instance_match_criteria, .instance_type = cr.instance_type,
           .owner_id = cr.owner_id, .reservation_type = cr.reservation_type, .state = cr.state});
      resolved.reservations.push_back(std::move(cr));
    }
  }
  status.instance_profile = spec.instance_profile.value_or(spec.role.empty() ? "" : options_.cluster.name + "_" + spec.role);
  return resolved;
}

Result<kube::EC2NodeClassStatus> AwsCloudProvider::Resolve(const kube::EC2NodeClassSpec& spec) {
  kube::EC2NodeClass node_class;
  node_class.spec = spec;
  GF_ASSIGN_OR_RETURN(auto resolved, ResolveClass(std::move(node_class), "(spec)"));
  return resolved.status;
}

}  // namespace gpufleet::cloud::aws
