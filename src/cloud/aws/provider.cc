#include "cloud/aws/provider.h"

#include <algorithm>
#include <fstream>

#include "cloud/aws/instance_types.h"
#include "core/log.h"
#include "core/time_format.h"
#include "scheduling/claim.h"

namespace gpufleet::cloud::aws {

namespace {

const core::log::Logger kLog("aws.provider");
// Filter results kept per NodeClass before starting over (pools add one each; launches one per
// distinct claim).
constexpr size_t kMaxAllowedSets = 256;

std::string CapacityTypeOf(const Ec2Instance& i) {
  if (i.lifecycle == "spot") return "spot";
  if (!i.capacity_reservation_id.empty()) return "reserved";
  return "on-demand";
}

}  // namespace

Result<std::map<std::string, double>> LoadOnDemandPrices(const std::string& data_file, const std::string& region) {
  std::ifstream in(data_file);
  if (!in) return NotFoundError("instance-type data \"" + data_file + "\": cannot open");
  auto data = nlohmann::json::parse(in, nullptr, false);
  if (!data.is_object() || !data.contains("instanceTypes") || !data["instanceTypes"].is_array()) {
    return InvalidArgumentError("instance-type data \"" + data_file + "\": not the expected JSON (an object with instanceTypes)");
  }
  std::map<std::string, double> prices;
  for (const auto& t : data["instanceTypes"]) {
    if (!t.is_object() || !t.contains("onDemandPriceUSD") || !t["onDemandPriceUSD"].is_object()) continue;
    const auto& p = t["onDemandPriceUSD"];
    if (p.contains(region) && p[region].is_number()) {
      prices[t.value("name", "")] = p[region].get<double>();
    } else if (p.contains("us-east-1") && p["us-east-1"].is_number()) {
      prices[t.value("name", "")] = p["us-east-1"].get<double>();
    }
  }
  return prices;
}

Result<std::string> InstanceIdFromProviderId(std::string_view provider_id) {
  // aws:///<zone>/<instance id>
  if (provider_id.rfind("aws:///", 0) != 0) {
    return InvalidArgumentError("provider id \"" + std::string(provider_id) + "\" is not aws:///ZONE/INSTANCE-ID");
  }
  const size_t slash = provider_id.rfind('/');
  std::string id(provider_id.substr(slash + 1));
  if (id.rfind("i-", 0) != 0) {
    return InvalidArgumentError("provider id \"" + std::string(provider_id) + "\" does not end in an instance id");
  }
  return id;
}

AwsCloudProvider::AwsCloudProvider(ApiClient& ec2, ApiClient& ssm, AwsProviderOptions options)
    : ec2_(ec2), ssm_(ssm), options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : core::RealClock()),
      unavailable_(clock_, options_.unavailable_ttl) {}

Result<std::shared_ptr<const AwsCloudProvider::Catalog>> AwsCloudProvider::LoadCatalog() {
  {
    std::lock_guard lock(mu_);
    if (catalog_ && clock_.Now() - catalog_->fetched < options_.catalog_ttl) return catalog_;
  }
  auto catalog = std::make_shared<Catalog>();
  catalog->fetched = clock_.Now();
  GF_ASSIGN_OR_RETURN(catalog->types, DescribeInstanceTypes(ec2_));
  GF_ASSIGN_OR_RETURN(catalog->zones, DescribeZoneOfferings(ec2_));
  GF_ASSIGN_OR_RETURN(catalog->spot, DescribeSpotPrices(ec2_, clock_.Now()));
  std::lock_guard lock(mu_);
  catalog_ = catalog;
  return std::shared_ptr<const Catalog>(catalog);
}

Result<std::vector<scheduling::InstanceType>> AwsCloudProvider::BuildInstanceTypes(const Catalog& catalog,
                                                                                  const Resolved& resolved) {
  std::set<std::string> subnet_zones;
  for (const auto& s : resolved.subnets) subnet_zones.insert(s.zone);
  std::vector<scheduling::InstanceType> out;
  std::map<std::string, scheduling::InstanceType> by_name;
  for (const auto& ec2_type : catalog.types) {
    auto offered = catalog.zones.find(ec2_type.name);
    if (offered == catalog.zones.end()) continue;
    std::vector<std::string> zones;
    for (const auto& z : offered->second) {
      if (subnet_zones.contains(z)) zones.push_back(z);
    }
    if (zones.empty()) continue;
    scheduling::InstanceType type = ToSchedulingType(ec2_type);
    if (AmiFor(resolved, type).empty() && !resolved.status.amis.empty()) continue;  // no AMI can boot it
    const auto price = options_.on_demand_prices.find(ec2_type.name);
    const bool spot_ok = std::find(ec2_type.usage_classes.begin(), ec2_type.usage_classes.end(), "spot") != ec2_type.usage_classes.end();
    std::set<std::string> capacity_types;
    for (const auto& zone : zones) {
      if (price != options_.on_demand_prices.end()) {
        type.offerings.push_back({.zone = zone, .capacity_type = scheduling::CapacityType::kOnDemand, .price = price->second});
        capacity_types.insert("on-demand");
      }
      if (auto spot = catalog.spot.find({ec2_type.name, zone}); spot_ok && spot != catalog.spot.end()) {
        type.offerings.push_back({.zone = zone, .capacity_type = scheduling::CapacityType::kSpot, .price = spot->second});
        capacity_types.insert("spot");
      }
    }
    for (const auto& cr : resolved.reservations) {
      if (cr.instance_type != ec2_type.name || !subnet_zones.contains(cr.zone)) continue;
      const double od = price != options_.on_demand_prices.end() ? price->second : 0;
      type.offerings.push_back({.zone = cr.zone, .capacity_type = scheduling::CapacityType::kReserved,
                                .price = od / 1e7, .reservation_id = cr.id,
                                .capacity_block = cr.reservation_type == "capacity-block"});
      capacity_types.insert("reserved");
    }
    if (type.offerings.empty()) continue;
    type.requirements.Add(core::Requirement::In(core::labels::kZone, zones));
    type.requirements.Add(core::Requirement::In(scheduling::keys::kCapacityType,
                                                std::vector<std::string>(capacity_types.begin(), capacity_types.end())));
    by_name[type.name] = type;
    out.push_back(std::move(type));
  }
  std::lock_guard lock(mu_);
  for (auto& [name, t] : by_name) types_by_name_[name] = std::move(t);
  return out;
}

void AwsCloudProvider::ApplyAvailability(std::vector<scheduling::InstanceType>& types, const Resolved& resolved) const {
  for (auto& type : types) {
    for (auto& o : type.offerings) {
      if (o.capacity_type != scheduling::CapacityType::kReserved) {
        o.available = !unavailable_.IsUnavailable(type.name, o.zone, std::string(scheduling::CapacityTypeName(o.capacity_type)));
        continue;
      }
      auto cr = std::find_if(resolved.reservations.begin(), resolved.reservations.end(),
                             [&](const auto& r) { return r.id == o.reservation_id; });
      o.reservation_capacity = cr == resolved.reservations.end() ? 0 : int(cr->available);
      o.available = o.reservation_capacity > 0 && !unavailable_.IsReservationExhausted(o.reservation_id) &&
                    !unavailable_.IsUnavailable(type.name, o.zone, "reserved");
    }
  }
}

Result<std::vector<scheduling::InstanceType>> AwsCloudProvider::InstanceTypesFor(const NodeClassRef& ref,
                                                                                Resolved& resolved,
                                                                                const core::Requirements* only) {
  GF_ASSIGN_OR_RETURN(resolved, ResolveRef(ref));
  GF_ASSIGN_OR_RETURN(auto catalog, LoadCatalog());
  // The types depend on the catalog and the resolution; only availability changes between
  // calls, so the built list is reused until either changes.
  std::vector<scheduling::InstanceType> types;
  {
    std::lock_guard lock(mu_);
    auto it = types_cache_.find(ref.name);
    if (it != types_cache_.end() && it->second.catalog == catalog && it->second.resolution == resolved.version) {
      // A batch or a launch copies only the types its pool or claim allows.
      const auto& all = it->second.types;
      if (only == nullptr) {
        types = all;
      } else {
        std::string key = only->ToString();
        auto allowed = it->second.allowed.find(key);
        if (allowed == it->second.allowed.end()) {
          if (it->second.allowed.size() >= kMaxAllowedSets) it->second.allowed.clear();
          std::vector<size_t> indices;
          for (size_t i = 0; i < all.size(); ++i) {
            if (all[i].requirements.DoesIntersect(*only)) indices.push_back(i);
          }
          allowed = it->second.allowed.emplace(std::move(key), std::move(indices)).first;
        }
        types.reserve(allowed->second.size());
        for (size_t i : allowed->second) types.push_back(all[i]);
      }
      ApplyAvailability(types, resolved);
      return types;
    }
  }
  GF_ASSIGN_OR_RETURN(types, BuildInstanceTypes(*catalog, resolved));
  {
    std::lock_guard lock(mu_);
    types_cache_[ref.name] = {.catalog = catalog, .resolution = resolved.version, .types = types};
  }
  if (only != nullptr) std::erase_if(types, [&](const auto& t) { return !t.requirements.DoesIntersect(*only); });
  ApplyAvailability(types, resolved);
  return types;
}

Result<std::vector<scheduling::InstanceType>> AwsCloudProvider::GetInstanceTypes(const NodeClassRef& node_class,
                                                                                const core::Requirements* only) {
  Resolved resolved;
  return InstanceTypesFor(node_class, resolved, only);
}

std::string AwsCloudProvider::AmiFor(const Resolved& resolved, const scheduling::InstanceType& type) const {
  for (const auto& [id, reqs] : resolved.bootable) {
    if (type.requirements.IsCompatible(reqs)) return id;
  }
  return "";
}

Machine AwsCloudProvider::ToMachine(const Ec2Instance& i) const {
  Machine m{.provider_id = "aws:///" + i.zone + "/" + i.id, .instance_id = i.id, .instance_type = i.instance_type,
            .zone = i.zone, .capacity_type = CapacityTypeOf(i), .reservation_id = i.capacity_reservation_id,
            .image_id = i.image_id, .state = i.state, .private_dns_name = i.private_dns_name};
  if (!i.capacity_reservation_id.empty()) m.reservation_type = i.lifecycle == "capacity-block" ? "capacity-block" : "default";
  if (auto t = core::ParseRfc3339(i.launch_time); t.ok()) m.launch_time = *t;
  for (const auto& [k, v] : i.tags) m.tags[k] = v;
  if (auto it = i.tags.find("karpenter.sh/nodeclaim"); it != i.tags.end()) m.nodeclaim = it->second;
  if (auto it = i.tags.find("karpenter.sh/nodepool"); it != i.tags.end()) m.nodepool = it->second;
  {
    std::lock_guard lock(mu_);
    if (auto t = types_by_name_.find(i.instance_type); t != types_by_name_.end()) {
      m.capacity = t->second.capacity;
      m.allocatable = t->second.allocatable;
      for (const auto& [key, req] : t->second.requirements.ByKey()) {
        if (key == core::labels::kZone || key == scheduling::keys::kCapacityType) continue;
        if (!req.complement() && req.values().size() == 1) m.labels[core::InternedString(key)] = core::InternedString(req.values().front());
      }
    }
  }
  auto set = [&](std::string_view k, const std::string& v) {
    if (!v.empty()) m.labels[core::InternedString(k)] = core::InternedString(v);
  };
  set(core::labels::kInstanceType, i.instance_type);
  set(core::labels::kZone, i.zone);
  set(scheduling::keys::kCapacityType, m.capacity_type);
  set(scheduling::keys::kReservationId, m.reservation_id);
  set(labels::kCapacityReservationType, m.reservation_type);
  set(scheduling::keys::kNodePool, m.nodepool);
  if (auto it = i.tags.find("karpenter.k8s.aws/ec2nodeclass"); it != i.tags.end()) set(labels::kNodeClass, it->second);
  return m;
}

Result<Ec2Instance> AwsCloudProvider::Describe(const std::string& provider_id) {
  GF_ASSIGN_OR_RETURN(std::string id, InstanceIdFromProviderId(provider_id));
  auto found = DescribeInstances(ec2_, {id}, {});
  if (!found.ok()) return found.status();
  if (found->empty() || (*found)[0].state == "terminated") return NotFoundError("instance " + id + " does not exist");
  return (*found)[0];
}

Result<Machine> AwsCloudProvider::Get(const std::string& provider_id) {
  GF_ASSIGN_OR_RETURN(auto instance, Describe(provider_id));
  return ToMachine(instance);
}

Status AwsCloudProvider::Delete(const std::string& provider_id) {
  GF_ASSIGN_OR_RETURN(auto instance, Describe(provider_id));
  if (instance.state == "shutting-down") return OkStatus();
  GF_RETURN_IF_ERROR(TerminateInstances(ec2_, {instance.id}));
  kLog.Info("terminated instance", {{"instance", instance.id}});
  return OkStatus();
}

Result<std::vector<Machine>> AwsCloudProvider::List() {
  GF_ASSIGN_OR_RETURN(auto instances,
                      DescribeInstances(ec2_, {},
                                        {{"tag-key", {"karpenter.sh/nodepool"}},
                                         {"tag:kubernetes.io/cluster/" + options_.cluster.name, {"owned"}},
                                         {"instance-state-name", {"pending", "running", "stopping", "stopped", "shutting-down"}}}));
  std::vector<Machine> out;
  for (const auto& i : instances) out.push_back(ToMachine(i));
  return out;
}

Result<std::optional<std::string>> AwsCloudProvider::IsDrifted(const Machine& machine, const NodeClassRef& node_class) {
  GF_ASSIGN_OR_RETURN(auto instance, Describe(machine.provider_id));
  GF_ASSIGN_OR_RETURN(auto resolved, ResolveRef(node_class));
  const auto& status = resolved.status;
  if (!status.amis.empty() &&
      std::none_of(status.amis.begin(), status.amis.end(), [&](const auto& a) { return a.id == instance.image_id; })) {
    return std::optional<std::string>("AMIDrift");
  }
  if (!status.subnets.empty() &&
      std::none_of(status.subnets.begin(), status.subnets.end(), [&](const auto& s) { return s.id == instance.subnet_id; })) {
    return std::optional<std::string>("SubnetDrift");
  }
  std::set<std::string> want, have(instance.security_group_ids.begin(), instance.security_group_ids.end());
  for (const auto& g : status.security_groups) want.insert(g.id);
  if (!want.empty() && want != have) return std::optional<std::string>("SecurityGroupDrift");
  return std::optional<std::string>();
}

std::vector<RepairPolicy> AwsCloudProvider::RepairPolicies() const {
  using std::chrono::minutes;
  // Karpenter core's Ready policy plus the EKS node monitoring agent's conditions (AWS provider).
  return {
      {"Ready", "False", minutes(30)},
      {"Ready", "Unknown", minutes(30)},
      {"AcceleratedHardwareReady", "False", minutes(10)},
      {"StorageReady", "False", minutes(30)},
      {"NetworkingReady", "False", minutes(30)},
      {"KernelReady", "False", minutes(30)},
      {"ContainerRuntimeReady", "False", minutes(30)},
  };
}

}  // namespace gpufleet::cloud::aws
