// The controller's own validation: the seed manifests pass, each Karpenter v1 rule refuses what
// it should with a message naming the field.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/yaml.h"
#include "kube/types/karpenter.h"
#include "provisioner/validation.h"

namespace gpufleet::provisioner {
namespace {

nlohmann::json ReadYaml(const std::string& relative) {
  std::ifstream in(std::string(GPUFLEET_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  auto docs = core::YamlToJson(text.str());
  EXPECT_TRUE(docs.ok()) << docs.status();
  return docs.ok() && !docs->empty() ? (*docs)[0] : nlohmann::json();
}

kube::NodePool SeedPool() {
  auto pool = kube::FromJson<kube::NodePool>(ReadYaml("deploy/examples/seed/nodepool.yaml"));
  EXPECT_TRUE(pool.ok()) << pool.status();
  return pool.ok() ? *pool : kube::NodePool{};
}

kube::EC2NodeClass SeedNodeClass() {
  auto nc = kube::FromJson<kube::EC2NodeClass>(ReadYaml("deploy/examples/seed/ec2nodeclass.yaml"));
  EXPECT_TRUE(nc.ok()) << nc.status();
  return nc.ok() ? *nc : kube::EC2NodeClass{};
}

std::string Problems(const std::vector<std::string>& p) { return JoinProblems(p, 100); }

TEST(ValidationTest, SeedManifestsAreValid) {
  EXPECT_EQ(Problems(ValidateNodePool(WithDefaults(SeedPool()))), "");
  EXPECT_EQ(Problems(ValidateEC2NodeClass(SeedNodeClass())), "");
}

TEST(ValidationTest, DefaultsAreKarpenters) {
  kube::NodePool pool = WithDefaults(kube::NodePool{});
  EXPECT_EQ(pool.spec.template_.spec.expire_after, "720h");
  EXPECT_EQ(pool.spec.disruption.consolidation_policy, "WhenEmptyOrUnderutilized");
  EXPECT_EQ(pool.spec.disruption.consolidate_after, "0s");
  ASSERT_EQ(pool.spec.disruption.budgets.size(), 1u);
  EXPECT_EQ(pool.spec.disruption.budgets[0].nodes, "10%");
}

TEST(ValidationTest, RequirementRules) {
  kube::NodePool pool = SeedPool();
  auto& reqs = pool.spec.template_.spec.requirements;
  reqs.push_back({.key = "kubernetes.io/hostname", .op = core::Operator::kIn, .values = {"a"}, .min_values = {}});
  reqs.push_back({.key = "karpenter.sh/initialized", .op = core::Operator::kExists, .values = {}, .min_values = {}});
  reqs.push_back({.key = "karpenter.sh/capacity-type", .op = core::Operator::kIn, .values = {"cheap"}, .min_values = {}});
  reqs.push_back({.key = "karpenter.k8s.aws/instance-cpu", .op = core::Operator::kGt, .values = {"-1"}, .min_values = {}});
  reqs.push_back({.key = "node.kubernetes.io/instance-type", .op = core::Operator::kIn, .values = {"a"}, .min_values = 2});
  std::string p = Problems(ValidateNodePool(pool));
  EXPECT_NE(p.find("requirements[2].key: label \"kubernetes.io/hostname\" is restricted"), std::string::npos) << p;
  EXPECT_NE(p.find("requirements[3].key: label domain \"karpenter.sh\" is restricted"), std::string::npos) << p;
  EXPECT_NE(p.find("unsupported capacity type \"cheap\""), std::string::npos) << p;
  EXPECT_NE(p.find("requirements[5]"), std::string::npos) << p;
  EXPECT_NE(p.find("requirements[6]"), std::string::npos) << p;
}

TEST(ValidationTest, TemplateDisruptionAndWeightRules) {
  kube::NodePool pool = SeedPool();
  pool.spec.template_.metadata.labels[core::InternedString("karpenter.sh/nodepool")] = "x";
  pool.spec.template_.spec.expire_after = "30 days";
  pool.spec.disruption.consolidation_policy = "Sometimes";
  pool.spec.disruption.budgets = {{.nodes = "150%", .reasons = {"Bored"}, .schedule = "@daily", .duration = std::nullopt}};
  pool.spec.weight = 0;
  pool.spec.template_.spec.node_class_ref.name = "";
  std::string p = Problems(ValidateNodePool(pool));
  for (const char* want : {"label domain \"karpenter.sh\" is restricted", "expireAfter: \"30 days\"",
                           "consolidationPolicy: unsupported value \"Sometimes\"", "budgets[0].nodes: \"150%\"",
                           "unsupported reason \"Bored\"", "'schedule' must be set with 'duration'",
                           "spec.weight: must be between 1 and 100", "nodeClassRef.name: required"}) {
    EXPECT_NE(p.find(want), std::string::npos) << "missing \"" << want << "\" in: " << p;
  }
}

TEST(ValidationTest, EC2NodeClassRules) {
  kube::EC2NodeClass nc = SeedNodeClass();
  nc.spec.ami_selector_terms.push_back({.alias = "", .tags = {}, .id = "ami-123", .name = "", .owner = "", .ssm_parameter = ""});
  nc.spec.capacity_reservation_selector_terms = {
      {.tags = {{"a", "b"}}, .id = "cr-1", .owner_id = "", .instance_match_criteria = ""},
      {.tags = {{"a", "b"}}, .id = "", .owner_id = "12", .instance_match_criteria = "sometimes"}};
  nc.spec.instance_profile = "profile";  // and role: both set
  nc.spec.subnet_selector_terms.push_back({});
  nc.spec.tags[core::InternedString("karpenter.sh/nodepool")] = "x";
  std::string p = Problems(ValidateEC2NodeClass(nc));
  for (const char* want : {"'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms",
                           "capacityReservationSelectorTerms[0]: 'id' is mutually exclusive",
                           "ownerID: \"12\" is not a 12-digit AWS account id",
                           "instanceMatchCriteria: unsupported value \"sometimes\"",
                           "exactly one of ['role', 'instanceProfile']", "subnetSelectorTerms[1]: expected at least one",
                           "tag \"karpenter.sh/nodepool\" is restricted"}) {
    EXPECT_NE(p.find(want), std::string::npos) << "missing \"" << want << "\" in: " << p;
  }
  kube::EC2NodeClass no_family = SeedNodeClass();
  no_family.spec.ami_selector_terms = {{.alias = "", .tags = {}, .id = "ami-0abc", .name = "", .owner = "", .ssm_parameter = ""}};
  EXPECT_NE(Problems(ValidateEC2NodeClass(no_family)).find("spec.amiFamily: required"), std::string::npos);
  no_family.spec.ami_family = "AL2023";
  EXPECT_EQ(Problems(ValidateEC2NodeClass(no_family)), "");
}

TEST(ValidationTest, NodePoolHashIgnoresRequirementsButNotTaints) {
  kube::NodePool a = SeedPool();
  kube::NodePool b = a;
  b.spec.template_.spec.requirements.clear();
  EXPECT_EQ(NodePoolHash(a), NodePoolHash(b));
  b.spec.template_.spec.taints.clear();
  EXPECT_NE(NodePoolHash(a), NodePoolHash(b));
}

}  // namespace
}  // namespace gpufleet::provisioner
