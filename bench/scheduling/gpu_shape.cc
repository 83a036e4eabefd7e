#include "gpu_shape.h"

#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "scheduling/claim.h"
#include "scheduling/instance_type.h"

namespace gpufleet::bench {

using scheduling::InstanceType;

scheduling::Input GpuShape(const std::string& data_file, int pods) {
  scheduling::Input in;
  std::ifstream file(data_file);
  if (!file) return in;
  const nlohmann::json data = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
  if (!data.is_object() || !data.contains("instanceTypes")) return in;
  for (const auto& it : data["instanceTypes"]) {
    if (!it.contains("gpu") || it["gpu"].value("resourceName", "") != "nvidia.com/gpu") continue;
    auto prices = it.find("onDemandPriceUSD");
    if (prices == it.end() || !prices->is_object() || !prices->contains("us-east-1")) continue;
    const double price = (*prices)["us-east-1"].get<double>();
    scheduling::Ec2Shape shape{.arch = it.value("arch", "amd64"), .vcpu = it.value("vcpu", 0),
                               .memory_mib = it.value("memoryMiB", 0), .max_pods = it.value("maxPods", 0)};
    shape.extended.emplace_back("nvidia.com/gpu", it["gpu"].value("count", 0));
    InstanceType t = scheduling::AwsInstanceType(it.value("name", ""), shape);
    for (const char* zone : {"us-east-1a", "us-east-1b", "us-east-1c"}) {
      t.offerings.push_back({.zone = zone, .price = price});
    }
    if (auto labels = it.find("labels"); labels != it.end() && labels->is_object()) {
      for (auto l = labels->begin(); l != labels->end(); ++l) {
        if (l->is_string()) t.requirements.Add(core::Requirement::In(l.key(), {l->get<std::string>()}));
      }
    }
    t.requirements.Add(core::Requirement::In(core::labels::kZone, {"us-east-1a", "us-east-1b", "us-east-1c"}));
    t.requirements.Add(core::Requirement::In(scheduling::keys::kCapacityType, {"on-demand"}));
    in.instance_types.push_back(std::move(t));
  }
  scheduling::NodePool pool{.name = "gpu"};
  pool.taints = {{.key = "nvidia.com/gpu", .effect = core::TaintEffect::kNoSchedule}};
  for (size_t i = 0; i < in.instance_types.size(); ++i) pool.instance_types.push_back(i);
  in.nodepools.push_back(std::move(pool));

  std::mt19937 rng(42);
  static const int kGpus[] = {1, 1, 1, 1, 2, 2, 4, 8};
  for (int i = 0; i < pods; ++i) {
    const int gpus = kGpus[rng() % 8];
    scheduling::Pod p{.key = "llm/server-" + std::to_string(i), .ns = "llm", .uid = std::to_string(i), .created = i};
    p.requests.Set("nvidia.com/gpu", core::Quantity::FromInt(gpus));
    p.requests.Set("cpu", core::Quantity::FromInt(2 * gpus));
    p.requests.Set("memory", core::Quantity::FromInt(int64_t{16} * gpus << 30, core::Format::kBinarySI));
    p.tolerations = {{.key = "nvidia.com/gpu", .op = core::TolerationOperator::kExists}};
    in.pods.push_back(std::move(p));
  }
  return in;
}

double ClaimsPricePerHour(const scheduling::Input& in, const scheduling::Result& r) {
  double total = 0;
  for (const scheduling::NewNodeClaim& c : r.new_claims) {
    if (c.instance_types.empty()) continue;
    const scheduling::Offering* o = scheduling::CheapestOffering(in.instance_types[c.instance_types[0]], c.requirements);
    if (o != nullptr) total += o->price;
  }
  return total;
}

}  // namespace gpufleet::bench
