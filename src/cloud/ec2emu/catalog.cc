#include "cloud/ec2emu/catalog.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>

#include "core/ascii.h"

namespace gpufleet::cloud::ec2emu {

namespace {

using nlohmann::json;


// "us-west-2" -> "usw2", "ap-northeast-1" -> "apne1", "eu-central-1" -> "euc1".
std::string RegionAbbreviation(std::string_view region) {
  static const std::map<std::string, std::string, std::less<>> kDirections = {
      {"north", "n"}, {"south", "s"},      {"east", "e"},       {"west", "w"},        {"central", "c"},
      {"northeast", "ne"}, {"southeast", "se"}, {"northwest", "nw"}, {"southwest", "sw"}};
  std::string out;
  size_t start = 0;
  int part = 0;
  while (start <= region.size()) {
    size_t dash = region.find('-', start);
    std::string_view piece = region.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start);
    if (part == 0) {
      out += piece;
    } else if (auto it = kDirections.find(piece); it != kDirections.end()) {
      out += it->second;
    } else {
      out += piece;
    }
    ++part;
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  return out;
}

json TypeInfo(const json& t, const std::string& arch) {
  const std::string name = t.value("name", "");
  const int64_t vcpu = t.value("vcpu", 0);
  const bool arm = arch == "arm64";
  json info = {
      {"instanceType", name},
      {"currentGeneration", true},
      {"freeTierEligible", false},
      {"supportedUsageClasses", json::array({"on-demand", "spot"})},
      {"supportedRootDeviceTypes", json::array({"ebs"})},
      {"supportedVirtualizationTypes", json::array({"hvm"})},
      {"bareMetal", t.value("bareMetal", false)},
      {"processorInfo",
       {{"supportedArchitectures", json::array({arch})},
        {"sustainedClockSpeedInGhz", t.value("cpuSustainedClockSpeedMhz", 0) / 1000.0},
        {"manufacturer", t.value("cpuManufacturer", "") == "aws" ? "AWS" : t.value("cpuManufacturer", "") == "amd" ? "AMD" : "Intel"}}},
      {"vCpuInfo", {{"defaultVCpus", vcpu}, {"defaultCores", arm ? vcpu : std::max<int64_t>(1, vcpu / 2)},
                    {"defaultThreadsPerCore", arm || vcpu < 2 ? 1 : 2}}},
      {"memoryInfo", {{"sizeInMiB", t.value("memoryMiB", 0)}}},
      {"instanceStorageSupported", t.contains("localNvmeGiB")},
      {"burstablePerformanceSupported", t.value("family", "").rfind('t', 0) == 0 && t.value("category", "") == "t"},
      {"hibernationSupported", false},
      {"dedicatedHostsSupported", false},
      {"autoRecoverySupported", !t.contains("localNvmeGiB")},
      {"supportedBootModes", arm ? json::array({"uefi"}) : json::array({"legacy-bios", "uefi"})},
      {"placementGroupInfo", {{"supportedStrategies", json::array({"cluster", "partition", "spread"})}}},
  };
  if (const std::string hv = t.value("hypervisor", ""); !hv.empty()) info["hypervisor"] = hv;
  if (t.contains("localNvmeGiB")) {
    info["instanceStorageInfo"] = {{"totalSizeInGB", t["localNvmeGiB"]}, {"nvmeSupport", "required"},
                                   {"encryptionSupport", "required"}};
  }
  json ebs = {{"ebsOptimizedSupport", "default"}, {"encryptionSupport", "supported"}, {"nvmeSupport", "required"}};
  if (t.contains("ebsBandwidthMbps")) ebs["ebsOptimizedInfo"] = {{"baselineBandwidthInMbps", t["ebsBandwidthMbps"]}, {"maximumBandwidthInMbps", t["ebsBandwidthMbps"]}};
  info["ebsInfo"] = ebs;
  json network = {{"ipv6Supported", true}, {"enaSupport", "required"},
                  {"encryptionInTransitSupported", t.value("encryptionInTransitSupported", false)},
                  {"efaSupported", t.contains("efa")}};
  if (t.contains("networkBandwidthMbps")) {
    const double gbps = t["networkBandwidthMbps"].get<double>() / 1000.0;
    network["networkPerformance"] = json(gbps).dump() + " Gigabit";
  }
  if (auto eni = t.find("eniLimits"); eni != t.end()) {
    network["maximumNetworkInterfaces"] = eni->value("maxNetworkInterfaces", 0);
    network["ipv4AddressesPerInterface"] = eni->value("ipv4AddressesPerInterface", 0);
    network["ipv6AddressesPerInterface"] = eni->value("ipv4AddressesPerInterface", 0);
    network["defaultNetworkCardIndex"] = eni->value("defaultNetworkCardIndex", 0);
    json cards = json::array();
    for (const auto& card : eni->value("networkCards", json::array())) {
      json c = {{"networkCardIndex", card.value("networkCardIndex", 0)},
                {"maximumNetworkInterfaces", card.value("maximumNetworkInterfaces", 0)}};
      if (t.contains("networkBandwidthMbps")) {
        c["baselineBandwidthInGbps"] = t["networkBandwidthMbps"].get<double>() / 1000.0;
      }
      cards.push_back(c);
    }
    network["maximumNetworkCards"] = cards.size();
    network["networkCards"] = cards;
  }
  if (t.contains("efa")) network["efaInfo"] = {{"maximumEfaInterfaces", t["efa"]}};
  info["networkInfo"] = network;
  if (auto gpu = t.find("gpu"); gpu != t.end()) {
    const std::string manufacturer = gpu->value("manufacturer", "");
    // EC2's GpuInfo name ("H100", "L40S", "A10G"); the table's modelId is the NVML product.
    const std::string model = core::AsciiUpper(gpu->value("name", ""));
    const int64_t count = gpu->value("count", 0), mib = gpu->value("memoryMiB", 0);
    info["gpuInfo"] = {{"gpus", json::array({{{"name", model},
                                              {"manufacturer", manufacturer == "nvidia" ? "NVIDIA" : core::AsciiUpper(manufacturer)},
                                              {"count", count},
                                              {"memoryInfo", {{"sizeInMiB", mib}}}}})},
                       {"totalGpuMemoryInMiB", count * mib}};
  }
  if (auto acc = t.find("accelerators"); acc != t.end() && acc->is_array() && !acc->empty()) {
    json accelerators = json::array();
    for (const auto& a : *acc) {
      accelerators.push_back({{"name", a.value("name", "")}, {"manufacturer", core::AsciiUpper(a.value("manufacturer", ""))},
                              {"count", a.value("count", 0)}});
    }
    info["inferenceAcceleratorInfo"] = {{"accelerators", accelerators}};
  }
  return info;
}

}  // namespace

std::vector<std::string> ZonesOf(std::string_view region) {
  const std::string letters = (region == "us-east-1" || region == "us-west-2") ? "abcd" : "abc";
  std::vector<std::string> zones;
  for (char c : letters) zones.push_back(std::string(region) + c);
  return zones;
}

Result<Catalog> Catalog::Load(const std::string& data_file, const std::string& region) {
  std::ifstream in(data_file);
  if (!in) return NotFoundError("instance-type data \"" + data_file + "\": cannot open");
  json data = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (data.is_discarded() || !data.is_object() || !data.contains("instanceTypes") || !data["instanceTypes"].is_array()) {
    return InvalidArgumentError("instance-type data \"" + data_file + "\": not the expected JSON (an object with instanceTypes)");
  }
  Catalog catalog;
  catalog.region_ = region;
  catalog.zones_ = ZonesOf(region);
  for (const auto& t : data["instanceTypes"]) {
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
    auto prices = t.find("onDemandPriceUSD");
    if (prices == t.end() || !prices->is_object()) continue;
    double price = 0;
    if (auto p = prices->find(region); p != prices->end() && p->is_number()) {
      price = p->get<double>();
    } else if (auto q = prices->find("us-east-1"); q != prices->end() && q->is_number()) {
      price = q->get<double>();
    } else {
      continue;
    }
    const std::string arch = t.value("arch", "amd64") == "arm64" ? "arm64" : "x86_64";
    catalog.types_.push_back({.name = t["name"].get<std::string>(), .arch = arch, .on_demand_price = price,
                              .info = TypeInfo(t, arch)});
  }
  if (catalog.types_.empty()) {
    return InvalidArgumentError("region \"" + region + "\": no instance type in \"" + data_file + "\" is priced there");
  }
  std::sort(catalog.types_.begin(), catalog.types_.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (size_t i = 0; i < catalog.types_.size(); ++i) catalog.by_name_[catalog.types_[i].name] = i;
  return catalog;
}

std::string Catalog::ZoneId(std::string_view zone) const {
  if (zone.size() <= region_.size()) return "";
  const char letter = zone.back();
  return RegionAbbreviation(region_) + "-az" + std::to_string(letter - 'a' + 1);
}

bool Catalog::HasZone(std::string_view zone) const {
  return std::find(zones_.begin(), zones_.end(), zone) != zones_.end();
}

const CatalogType* Catalog::Find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &types_[it->second];
}

double Catalog::SpotPrice(const CatalogType& type, std::string_view zone) const {
  // A stable pseudo-random discount per (type, zone): 30 % to 70 % of on-demand.
  const size_t h = std::hash<std::string>{}(type.name + "/" + std::string(zone));
  const double fraction = 0.3 + 0.4 * double(h % 1000) / 1000.0;
  return std::round(type.on_demand_price * fraction * 1e4) / 1e4;
}

}  // namespace gpufleet::cloud::ec2emu
