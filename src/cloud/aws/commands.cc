#include "cloud/aws/commands.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cloud/aws/provider.h"
#include "cloud/aws/session.h"
#include "core/data_files.h"
#include "core/yaml.h"

namespace gpufleet::cloud::aws {

namespace {

struct Flags {
  std::string region, endpoint, profile, nodeclass, cluster = "gpufleet", kubernetes_version = "1.32";
  std::string instance_data = core::DefaultDataFile("aws-instance-types.json");
  bool gpu_only = false;
};

[[noreturn]] void Fail(std::string_view message) {
  std::cerr << "error: " << message << "\n";
  throw CLI::RuntimeError(1);
}

std::unique_ptr<Session> OpenSession(const Flags& f) {
  auto session = NewSession({.region = f.region, .endpoint = f.endpoint, .profile = f.profile});
  if (!session.ok()) Fail(session.status().message());
  return std::move(*session);
}

kube::EC2NodeClass ReadNodeClass(const std::string& path) {
  if (path.empty()) Fail("--nodeclass FILE is required (an EC2NodeClass manifest)");
  std::ifstream in(path);
  if (!in) Fail("--nodeclass \"" + path + "\": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  auto docs = core::YamlToJson(text.str());
  if (!docs.ok()) Fail(path + ": " + std::string(docs.status().message()));
  for (const auto& doc : *docs) {
    if (doc.is_object() && doc.value("kind", "") == "EC2NodeClass") {
      auto nc = kube::FromJson<kube::EC2NodeClass>(doc);
      if (!nc.ok()) Fail(path + ": " + std::string(nc.status().message()));
      return *nc;
    }
  }
  Fail(path + ": no EC2NodeClass document");
}

std::unique_ptr<AwsCloudProvider> MakeProvider(Session& s, const Flags& f, const kube::EC2NodeClass& nc) {
  auto prices = LoadOnDemandPrices(f.instance_data, s.region);
  if (!prices.ok()) Fail(prices.status().message());
  return std::make_unique<AwsCloudProvider>(
      *s.ec2, *s.ssm,
      AwsProviderOptions{.cluster = {.name = f.cluster, .kubernetes_version = f.kubernetes_version},
                         .region = s.region,
                         .node_classes = [nc](std::string_view) -> Result<kube::EC2NodeClass> { return nc; },
                         .on_demand_prices = *prices});
}

void AddSessionFlags(CLI::App* cmd, Flags& f) {
  cmd->add_option("--region", f.region, "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile)");
  cmd->add_option("--aws-endpoint", f.endpoint, "EC2 and SSM endpoint URL (e.g. the ec2-emulator's)");
  cmd->add_option("--profile", f.profile, "Shared config profile");
}

}  // namespace

void AddCommands(CLI::App& app) {
  auto flags = std::make_shared<Flags>();
  CLI::App* aws = app.add_subcommand("aws", "Inspect what the AWS provider sees (credentials, NodeClass resolution, offerings)");
  aws->require_subcommand(1);

  CLI::App* whoami = aws->add_subcommand("whoami", "Region, endpoints and where the credentials come from");
  AddSessionFlags(whoami, *flags);
  whoami->callback([flags] {
    auto s = OpenSession(*flags);
    auto credentials = s->credentials->Get();
    std::cout << "region:       " << s->region << "\nec2 endpoint: " << s->ec2_endpoint
              << "\nssm endpoint: " << s->ssm_endpoint << "\n";
    if (!credentials.ok()) Fail(credentials.status().message());
    const std::string& key = credentials->access_key_id;
    std::cout << "credentials:  " << credentials->source << " (access key "
              << (key.size() > 8 ? key.substr(0, 4) + "..." + key.substr(key.size() - 4) : "****") << ")\n";
    // One cheap signed call proves the credentials are accepted.
    auto zones = s->ec2->Query("DescribeAvailabilityZones", {});
    if (!zones.ok()) Fail(zones.status().message());
    std::cout << "zones:       ";
    for (const auto& z : Items((*zones)->first_child(), "availabilityZoneInfo")) std::cout << " " << Text(z, "zoneName");
    std::cout << "\n";
  });

  CLI::App* resolve = aws->add_subcommand("resolve", "Print the EC2NodeClass status its selectors resolve to now");
  AddSessionFlags(resolve, *flags);
  resolve->add_option("--nodeclass", flags->nodeclass, "EC2NodeClass manifest (YAML)")->required();
  resolve->add_option("--kubernetes-version", flags->kubernetes_version, "For the AMI alias")->capture_default_str();
  resolve->callback([flags] {
    auto nc = ReadNodeClass(flags->nodeclass);
    auto s = OpenSession(*flags);
    auto status = MakeProvider(*s, *flags, nc)->Resolve(nc.spec);
    if (!status.ok()) Fail(status.status().message());
    std::cout << core::JsonToYaml(nlohmann::json{{"status", kube::Encode(*status)}});
  });

  CLI::App* types = aws->add_subcommand("instance-types", "Instance types the EC2NodeClass can launch, with offerings");
  AddSessionFlags(types, *flags);
  types->add_option("--nodeclass", flags->nodeclass, "EC2NodeClass manifest (YAML)")->required();
  types->add_option("--instance-data", flags->instance_data, "On-demand price table")->capture_default_str();
  types->add_option("--kubernetes-version", flags->kubernetes_version, "For the AMI alias")->capture_default_str();
  types->add_flag("--gpu", flags->gpu_only, "Only types with GPUs");
  types->callback([flags] {
    auto nc = ReadNodeClass(flags->nodeclass);
    auto s = OpenSession(*flags);
    auto list = MakeProvider(*s, *flags, nc)->GetInstanceTypes({.name = nc.metadata.name});
    if (!list.ok()) Fail(list.status().message());
    std::printf("%-20s %-6s %-10s %-34s %s\n", "NAME", "ACCEL", "ALLOC-CPU", "CHEAPEST (ZONE CAPACITY $/H)", "OFFERINGS");
    for (const auto& t : *list) {
      int64_t gpus = 0;
      for (const char* r : {"nvidia.com/gpu", "amd.com/gpu", "aws.amazon.com/neuron"}) gpus += t.capacity.Get(r).Value();
      if (flags->gpu_only && !t.HasAccelerators()) continue;
      const scheduling::Offering* best = nullptr;
      int available = 0;
      for (const auto& o : t.offerings) {
        if (!o.available) continue;
        ++available;
        if (best == nullptr || o.price < best->price) best = &o;
      }
      char cheapest[64] = "none available";
      if (best != nullptr) {
        std::snprintf(cheapest, sizeof(cheapest), "%s %s %.4f", best->zone.c_str(),
                      std::string(scheduling::CapacityTypeName(best->capacity_type)).c_str(), best->price);
      }
      std::printf("%-20s %-6lld %-10s %-34s %d/%zu\n", t.name.c_str(), static_cast<long long>(gpus),
                  t.allocatable.Get("cpu").String().c_str(), cheapest, available, t.offerings.size());
    }
  });
}

}  // namespace gpufleet::cloud::aws
