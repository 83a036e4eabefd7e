// AwsCloudProvider::Create and its launch templates: capacity type, types by price, one
// template per (AMI, reservation), CreateFleet, and the insufficient-capacity bookkeeping.
#include <openssl/evp.h>

#include <algorithm>

#include "cloud/aws/instance_types.h"
#include "cloud/aws/provider.h"
#include "cloud/aws/user_data.h"
#include "core/log.h"
#include "core/quantity.h"
#include "scheduling/claim.h"

namespace gpufleet::cloud::aws {

namespace {

const core::log::Logger kLog("aws.provider");

std::string Base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()), int(data.size()));
  out.resize(size_t(n));
  return out;
}

std::string Hex16(size_t h) {
  char buf[20];
  std::snprintf(buf, sizeof(buf), "%016zx", h);
  return buf;
}

bool IsIdempotentParameterMismatch(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition &&
         status.message().find("IdempotentParameterMismatch") != std::string_view::npos;
}

// Everything a CreateFleet request asks for except its token.
std::string FleetIdentity(const FleetRequest& request) {
  std::string out = request.capacity_type + "\n" + request.launch_template_name + "\n" + request.allocation_strategy +
                    (request.reservations_first ? "\nreservations-first\n" : "\n");
  for (const auto& o : request.overrides) {
    out += o.instance_type + "/" + o.subnet_id + "/" + o.zone + "/" + o.image_id + "/" +
           (o.priority ? std::to_string(*o.priority) : "") + "\n";
  }
  for (const auto& [k, v] : request.tags) out += k + "=" + v + "\n";
  return out;
}

}  // namespace

Result<std::string> AwsCloudProvider::EnsureLaunchTemplate(const Resolved& resolved, const NodeClaim& claim,
                                                           const std::string& image_id, const std::string& capacity_type,
                                                           const std::string& reservation_id) {
  const auto& spec = resolved.node_class.spec;
  NodeadmInput input{.cluster_name = options_.cluster.name, .api_server_endpoint = options_.cluster.endpoint,
                     .certificate_authority = options_.cluster.certificate_authority,
                     .service_cidr = options_.cluster.service_cidr, .cluster_dns = options_.cluster.cluster_dns,
                     .labels = claim.labels, .custom = spec.user_data.value_or("")};
  if (spec.kubelet && spec.kubelet->max_pods) input.max_pods = *spec.kubelet->max_pods;
  input.labels[core::InternedString(scheduling::keys::kNodePool)] = core::InternedString(claim.nodepool);
  input.labels[core::InternedString(labels::kNodeClass)] = core::InternedString(claim.node_class.name);
  input.labels[core::InternedString(scheduling::keys::kCapacityType)] = core::InternedString(capacity_type);
  input.taints = claim.taints;
  input.taints.insert(input.taints.end(), claim.startup_taints.begin(), claim.startup_taints.end());
  input.taints.push_back({.key = "karpenter.sh/unregistered", .effect = core::TaintEffect::kNoExecute});
  GF_ASSIGN_OR_RETURN(std::string user_data, Al2023UserData(input));

  QueryParams data;
  data.Add("ImageId", image_id).Add("UserData", Base64(user_data));
  std::vector<std::string> groups;
  for (const auto& g : resolved.status.security_groups) groups.push_back(g.id);
  data.AddList("SecurityGroupId", groups);
  if (!resolved.status.instance_profile.empty()) data.Add("IamInstanceProfile.Name", resolved.status.instance_profile);
  const auto& md = spec.metadata_options;
  data.Add("MetadataOptions.HttpEndpoint", md && md->http_endpoint ? *md->http_endpoint : "enabled")
      .Add("MetadataOptions.HttpTokens", md && md->http_tokens ? *md->http_tokens : "required")
      .Add("MetadataOptions.HttpPutResponseHopLimit",
           std::to_string(md && md->http_put_response_hop_limit ? *md->http_put_response_hop_limit : 1));
  int n = 0;
  for (const auto& bdm : spec.block_device_mappings) {
    const std::string prefix = "BlockDeviceMapping." + std::to_string(++n);
    data.Add(prefix + ".DeviceName", bdm.device_name.value_or("/dev/xvda"));
    if (!bdm.ebs) continue;
    if (bdm.ebs->volume_size) {
      auto q = core::Quantity::Parse(*bdm.ebs->volume_size);
      if (!q.ok()) {
        return InvalidArgumentError("EC2NodeClass " + claim.node_class.name + ": blockDeviceMappings volumeSize \"" +
                                    *bdm.ebs->volume_size + "\" is not a quantity");
      }
      data.Add(prefix + ".Ebs.VolumeSize", std::to_string((q->Value() + (int64_t{1} << 30) - 1) >> 30));
    }
    if (bdm.ebs->volume_type) data.Add(prefix + ".Ebs.VolumeType", *bdm.ebs->volume_type);
    if (bdm.ebs->encrypted) data.Add(prefix + ".Ebs.Encrypted", *bdm.ebs->encrypted ? "true" : "false");
    if (bdm.ebs->delete_on_termination) {
      data.Add(prefix + ".Ebs.DeleteOnTermination", *bdm.ebs->delete_on_termination ? "true" : "false");
    }
    if (bdm.ebs->iops) data.Add(prefix + ".Ebs.Iops", std::to_string(*bdm.ebs->iops));
    if (bdm.ebs->throughput) data.Add(prefix + ".Ebs.Throughput", std::to_string(*bdm.ebs->throughput));
  }
  if (!reservation_id.empty()) {
    if (capacity_type == "capacity-block") data.Add("InstanceMarketOptions.MarketType", "capacity-block");
    data.Add("CapacityReservationSpecification.CapacityReservationPreference", "capacity-reservations-only")
        .Add("CapacityReservationSpecification.CapacityReservationTarget.CapacityReservationId", reservation_id);
  } else {
    // Karpenter's choice: on-demand and spot launches never consume open reservations.
    data.Add("CapacityReservationSpecification.CapacityReservationPreference", "none");
  }
  std::string identity;
  for (const auto& [k, v] : data.items()) identity += k + "=" + v + "\n";
  const std::string name = "karpenter.k8s.aws/" + Hex16(std::hash<std::string>{}(identity));
  {
    std::lock_guard lock(mu_);
    if (launch_templates_.contains(name)) return name;
  }
  GF_ASSIGN_OR_RETURN(bool exists, LaunchTemplateExists(ec2_, name));
  if (!exists) {
    Tags tags = {{"karpenter.k8s.aws/cluster", options_.cluster.name},
                 {"karpenter.k8s.aws/ec2nodeclass", claim.node_class.name}};
    Status created = CreateLaunchTemplate(ec2_, name, data, tags);
    if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
    kLog.Info("created launch template", {{"name", name}, {"image", image_id}, {"capacityType", capacity_type}});
  }
  std::lock_guard lock(mu_);
  launch_templates_.insert(name);
  return name;
}

Result<Machine> AwsCloudProvider::Create(const NodeClaim& claim) {
  if (claim.uid.empty()) return InvalidArgumentError("NodeClaim " + claim.name + " has no UID (the launch's idempotency token)");
  Resolved resolved;
  GF_ASSIGN_OR_RETURN(auto types, InstanceTypesFor(claim.node_class, resolved, &claim.requirements));
  // Idempotency before any local bookkeeping: a launch that already happened (a retry after a
  // crash, or a reconcile that read a stale cache) gets its instance back, even where offerings
  // as counted now (the reservation slot it took) would refuse a new launch.
  GF_ASSIGN_OR_RETURN(auto existing,
                      DescribeInstances(ec2_, {},
                                        {{"tag:karpenter.sh/nodeclaim", {claim.name}},
                                         {"tag:kubernetes.io/cluster/" + options_.cluster.name, {"owned"}},
                                         {"instance-state-name", {"pending", "running"}}}));
  if (!existing.empty()) return ToMachine(existing.front());
  const std::string where = "EC2NodeClass " + claim.node_class.name;
  if (resolved.subnets.empty()) return FailedPreconditionError(where + ": no subnet matches subnetSelectorTerms");
  if (resolved.status.security_groups.empty()) {
    return FailedPreconditionError(where + ": no security group matches securityGroupSelectorTerms");
  }
  if (resolved.status.amis.empty()) return FailedPreconditionError(where + ": no AMI matches amiSelectorTerms");

  // Capacity type: reserved > spot > on-demand, the first the claim allows with an offering.
  const core::Requirement allowed = claim.requirements.Get(scheduling::keys::kCapacityType);
  std::string capacity_type;
  std::vector<std::pair<const scheduling::Offering*, const scheduling::InstanceType*>> choices;
  for (const char* ct : {"reserved", "spot", "on-demand"}) {
    if (!allowed.Has(ct)) continue;
    core::Requirements reqs = claim.requirements;
    reqs.Add(core::Requirement::In(scheduling::keys::kCapacityType, {ct}));
    for (const auto& t : types) {
      if (!t.requirements.DoesIntersect(reqs)) continue;
      if (const scheduling::Offering* o = scheduling::CheapestOffering(t, reqs)) choices.emplace_back(o, &t);
    }
    if (!choices.empty()) {
      capacity_type = ct;
      break;
    }
  }
  if (choices.empty()) {
    return ResourceExhaustedError("NodeClaim " + claim.name + ": no instance type has an available offering for " +
                                  claim.requirements.ToString());
  }
  std::stable_sort(choices.begin(), choices.end(), [](const auto& a, const auto& b) { return a.first->price < b.first->price; });
  if (choices.size() > options_.max_instance_types) choices.resize(options_.max_instance_types);

  Tags tags = {{"karpenter.sh/nodeclaim", claim.name},
               {"karpenter.sh/nodepool", claim.nodepool},
               {"karpenter.k8s.aws/ec2nodeclass", claim.node_class.name},
               {"kubernetes.io/cluster/" + options_.cluster.name, "owned"},
               {"eks:eks-cluster-name", options_.cluster.name}};
  for (const auto& [k, v] : resolved.node_class.spec.tags) tags[k.str()] = v.str();
  for (const auto& [k, v] : claim.tags) tags[k] = v;

  // The subnet with the most free addresses in each zone.
  std::map<std::string, const Ec2Subnet*> subnet_for_zone;
  for (const auto& s : resolved.subnets) {
    auto& best = subnet_for_zone[s.zone];
    if (best == nullptr || s.available_ips > best->available_ips) best = &s;
  }

  std::vector<std::string> failures;
  auto launch = [&](FleetRequest request, const std::string& pool_capacity) -> Result<std::optional<Machine>> {
    Result<FleetResult> fleet = CreateFleet(ec2_, request);
    if (!fleet.ok() && IsIdempotentParameterMismatch(fleet.status())) {
      // An earlier attempt used this token with other parameters and, as the look-up above
      // found no instance, launched nothing (EC2 keeps answering with that recorded failure).
      // These parameters get a token of their own, still stable across retries.
      request.client_token += "-" + Hex16(std::hash<std::string>{}(FleetIdentity(request))).substr(0, 12);
      kLog.Info("launch parameters changed since an earlier attempt; new client token",
                {{"nodeclaim", claim.name}, {"clientToken", request.client_token}});
      fleet = CreateFleet(ec2_, request);
    }
    GF_ASSIGN_OR_RETURN(FleetResult result, std::move(fleet));
    for (const auto& e : result.errors) {
      failures.push_back(e.instance_type + "/" + e.zone + "/" + pool_capacity + ": " + e.code);
      if (e.code == "ReservationCapacityExceeded") {
        for (const auto& cr : resolved.reservations) {
          if (cr.instance_type == e.instance_type && cr.zone == e.zone) unavailable_.MarkReservationExhausted(cr.id);
        }
      } else if (IsCapacityError(e.code)) {
        unavailable_.MarkUnavailable(e.instance_type, e.zone, pool_capacity);
      }
    }
    if (result.instance_ids.empty()) {
      for (const auto& e : result.errors) {
        if (!IsCapacityError(e.code)) {
          return ToStatus("EC2", "CreateFleet", AwsError{.http_status = 400, .code = e.code, .message = e.message});
        }
      }
      return std::optional<Machine>();
    }
    GF_ASSIGN_OR_RETURN(auto described, DescribeInstances(ec2_, {result.instance_ids[0]}, {}));
    if (described.empty()) return InternalError("EC2 launched " + result.instance_ids[0] + " but does not describe it");
    Machine m = ToMachine(described[0]);
    kLog.Info("launched instance", {{"nodeclaim", claim.name}, {"instance", m.instance_id}, {"type", m.instance_type},
                                    {"zone", m.zone}, {"capacityType", m.capacity_type}});
    return std::optional<Machine>(std::move(m));
  };

  if (capacity_type == "reserved") {
    // One launch template and fleet per reservation, cheapest first (Karpenter's layout).
    int attempt = 0;
    for (const auto& [offering, type] : choices) {
      auto subnet = subnet_for_zone.find(offering->zone);
      if (subnet == subnet_for_zone.end()) continue;
      const std::string pool = offering->capacity_block ? "capacity-block" : "reserved";
      GF_ASSIGN_OR_RETURN(std::string lt, EnsureLaunchTemplate(resolved, claim, AmiFor(resolved, *type), pool,
                                                               offering->reservation_id));
      FleetRequest request{.client_token = attempt == 0 ? claim.uid : claim.uid + "-" + std::to_string(attempt),
                           .capacity_type = offering->capacity_block ? "capacity-block" : "on-demand",
                           .launch_template_name = lt,
                           .overrides = {{.instance_type = type->name, .subnet_id = subnet->second->id, .zone = offering->zone}},
                           .tags = tags};
      ++attempt;
      GF_ASSIGN_OR_RETURN(auto machine, launch(request, "reserved"));
      if (machine) {
        NoteReservedLaunch(claim.node_class.name, offering->reservation_id);
        return *machine;
      }
    }
  } else {
    // One template for the AMI of the cheapest type; overrides for every type that AMI boots,
    // in each zone the claim and the offerings allow.
    const std::string image = AmiFor(resolved, *choices.front().second);
    GF_ASSIGN_OR_RETURN(std::string lt, EnsureLaunchTemplate(resolved, claim, image, capacity_type, ""));
    core::Requirements reqs = claim.requirements;
    reqs.Add(core::Requirement::In(scheduling::keys::kCapacityType, {capacity_type}));
    const core::Requirement zones = reqs.Get(core::labels::kZone);
    FleetRequest request{.client_token = claim.uid, .capacity_type = capacity_type, .launch_template_name = lt, .tags = tags};
    for (const auto& [offering, type] : choices) {
      if (AmiFor(resolved, *type) != image) continue;
      for (const auto& o : type->offerings) {
        if (!o.available || scheduling::CapacityTypeName(o.capacity_type) != capacity_type || !zones.Has(o.zone)) continue;
        auto subnet = subnet_for_zone.find(o.zone);
        if (subnet == subnet_for_zone.end()) continue;
        request.overrides.push_back({.instance_type = type->name, .subnet_id = subnet->second->id, .zone = o.zone});
      }
    }
    GF_ASSIGN_OR_RETURN(auto machine, launch(request, capacity_type));
    if (machine) return *machine;
  }
  std::string detail;
  for (const auto& f : failures) detail += (detail.empty() ? "" : "; ") + f;
  return ResourceExhaustedError("NodeClaim " + claim.name + ": insufficient capacity (" + detail + ")");
}

}  // namespace gpufleet::cloud::aws
