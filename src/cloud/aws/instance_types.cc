#include "cloud/aws/instance_types.h"

#include <cctype>
#include <cmath>

#include "core/ascii.h"

namespace gpufleet::cloud::aws {

namespace {


// GPU and accelerator names as labels: "Radeon Pro V520" -> "radeon-pro-v520".
std::string LabelName(std::string s) {
  s = core::AsciiLower(std::move(s));
  for (char& c : s) {
    if (c == ' ') c = '-';
  }
  return s;
}

void Set(core::Labels& labels, std::string_view key, std::string value) {
  labels[core::InternedString(key)] = core::InternedString(value);
}

}  // namespace

int64_t EniLimitedPods(const Ec2InstanceType& type) {
  if (type.enis <= 0 || type.ipv4_per_eni <= 0) return 110;
  return type.enis * (type.ipv4_per_eni - 1) + 2;
}

core::Labels InstanceTypeLabels(const Ec2InstanceType& t) {
  core::Labels out;
  Set(out, core::labels::kInstanceType, t.name);
  Set(out, core::labels::kArch, t.arch);
  Set(out, core::labels::kOs, "linux");
  // "g6e.2xlarge": family "g6e", size "2xlarge", category "g", generation "6".
  const size_t dot = t.name.find('.');
  const std::string family = t.name.substr(0, dot);
  const std::string size = dot == std::string::npos ? "" : t.name.substr(dot + 1);
  Set(out, labels::kInstanceFamily, family);
  if (!size.empty()) Set(out, labels::kInstanceSize, size);
  // Category: the leading letters. Generation: the digits after them, skipping a memory tier
  // right after the letters ("u-3tb1" is category u, generation 1).
  size_t letters = 0;
  while (letters < family.size() && std::islower(static_cast<unsigned char>(family[letters]))) ++letters;
  size_t digits = letters;
  if (family.compare(letters, 1, "-") == 0) {
    size_t tb = family.find("tb", letters);
    if (tb != std::string::npos && family.find_first_not_of("0123456789", letters + 1) == tb) digits = tb + 2;
  }
  size_t end = digits;
  while (end < family.size() && std::isdigit(static_cast<unsigned char>(family[end]))) ++end;
  if (letters > 0 && end > digits) {
    Set(out, labels::kInstanceCategory, family.substr(0, letters));
    Set(out, labels::kInstanceGeneration, family.substr(digits, end - digits));
  }
  Set(out, "karpenter.k8s.aws/instance-cpu", std::to_string(t.vcpu));
  if (!t.cpu_manufacturer.empty()) Set(out, "karpenter.k8s.aws/instance-cpu-manufacturer", t.cpu_manufacturer);
  if (t.clock_ghz) {
    Set(out, "karpenter.k8s.aws/instance-cpu-sustained-clock-speed-mhz", std::to_string(std::llround(*t.clock_ghz * 1000)));
  }
  Set(out, "karpenter.k8s.aws/instance-memory", std::to_string(t.memory_mib));
  Set(out, "karpenter.k8s.aws/instance-hypervisor", t.hypervisor);
  Set(out, "karpenter.k8s.aws/instance-encryption-in-transit-supported", t.encryption_in_transit ? "true" : "false");
  // Flex families ("m7i-flex") trade sustained CPU for price; Karpenter labels them by name.
  Set(out, "karpenter.k8s.aws/instance-capability-flex", family.find("flex") != std::string::npos ? "true" : "false");
  if (t.ebs_mbps > 0) Set(out, "karpenter.k8s.aws/instance-ebs-bandwidth", std::to_string(t.ebs_mbps));
  if (t.network_mbps > 0) Set(out, "karpenter.k8s.aws/instance-network-bandwidth", std::to_string(t.network_mbps));
  if (t.local_nvme_gb > 0) Set(out, "karpenter.k8s.aws/instance-local-nvme", std::to_string(t.local_nvme_gb));
  if (t.gpu) {
    Set(out, "karpenter.k8s.aws/instance-gpu-name", LabelName(t.gpu->name));
    Set(out, "karpenter.k8s.aws/instance-gpu-manufacturer", core::AsciiLower(t.gpu->manufacturer));
    Set(out, "karpenter.k8s.aws/instance-gpu-count", std::to_string(t.gpu->count));
    Set(out, "karpenter.k8s.aws/instance-gpu-memory", std::to_string(t.gpu->memory_mib));
  }
  if (t.accelerators.size() == 1) {
    Set(out, "karpenter.k8s.aws/instance-accelerator-name", LabelName(t.accelerators[0].name));
    Set(out, "karpenter.k8s.aws/instance-accelerator-manufacturer", core::AsciiLower(t.accelerators[0].manufacturer));
    Set(out, "karpenter.k8s.aws/instance-accelerator-count", std::to_string(t.accelerators[0].count));
  }
  return out;
}

scheduling::InstanceType ToSchedulingType(const Ec2InstanceType& t, const scheduling::AwsNodeOptions& node) {
  scheduling::Ec2Shape shape{.arch = t.arch, .vcpu = t.vcpu, .memory_mib = t.memory_mib, .max_pods = EniLimitedPods(t)};
  if (t.gpu && t.gpu->count > 0) {
    const std::string manufacturer = core::AsciiLower(t.gpu->manufacturer);
    if (manufacturer == "nvidia") shape.extended.emplace_back("nvidia.com/gpu", t.gpu->count);
    if (manufacturer == "amd") shape.extended.emplace_back("amd.com/gpu", t.gpu->count);
  }
  for (const auto& a : t.accelerators) {
    if (core::AsciiLower(a.manufacturer) == "aws") shape.extended.emplace_back("aws.amazon.com/neuron", a.count);
  }
  if (t.efa_interfaces > 0) shape.extended.emplace_back("vpc.amazonaws.com/efa", t.efa_interfaces);
  scheduling::InstanceType out = scheduling::AwsInstanceType(t.name, shape, node);
  for (const auto& [key, value] : InstanceTypeLabels(t)) {
    out.requirements.Add(core::Requirement::In(key.view(), {std::string(value.view())}));
  }
  return out;
}

}  // namespace gpufleet::cloud::aws
