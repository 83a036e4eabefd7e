// AwsCloudProvider against the EC2 emulator over HTTP: reserved capacity first, insufficient-
// capacity fallback and caching, idempotent launches, throttling, credentials refused, the
// machine lifecycle, drift and the user data a node boots with.
#include "cloud/aws/provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include "cloud/aws/ec2.h"
#include "cloud/aws/user_data.h"
#include "cloud/emulator_fixture.h"

namespace gpufleet::cloud::aws {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSociUserData = R"(MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="//"

--//
Content-Type: application/node.eks.aws

# Enable the soci snapshotter (SOCI parallel pull) for multi-GB images
apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  featureGates:
    FastImagePull: true
--//--
)";

std::string Unbase64(const std::string& in) {
  std::string out(in.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          int(in.size()));
  if (n < 0) return "";
  size_t pad = 0;
  while (pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
  out.resize(size_t(n) - pad);
  return out;
}

class ProviderTest : public testing::EmulatorFixture {
 protected:
  void SetUp() override {
    EmulatorFixture::SetUp();
    auto reservations = DescribeCapacityReservations(*ec2_, {}, {{"state", {"active"}}});
    ASSERT_TRUE(reservations.ok()) << reservations.status();
    ASSERT_EQ(reservations->size(), 1u);
    odcr_ = (*reservations)[0].id;
    node_class_.metadata.name = "gpu";
    core::Labels discovery;
    discovery[core::InternedString("karpenter.sh/discovery")] = core::InternedString("gpufleet");
    node_class_.spec.subnet_selector_terms = {{.tags = discovery}};
    node_class_.spec.security_group_selector_terms = {{.tags = discovery}};
    node_class_.spec.ami_selector_terms = {{.alias = "al2023@latest"}};
    node_class_.spec.capacity_reservation_selector_terms = {{.id = odcr_}};
    node_class_.spec.role = "KarpenterNodeRole";
    node_class_.spec.user_data = kSociUserData;
    provider_ = MakeProvider(*ec2_);
  }

  std::unique_ptr<AwsCloudProvider> MakeProvider(ApiClient& ec2) {
    auto prices = LoadOnDemandPrices(testing::InstanceData(), "us-west-2");
    EXPECT_TRUE(prices.ok()) << prices.status();
    return std::make_unique<AwsCloudProvider>(
        ec2, *ssm_,
        AwsProviderOptions{.cluster = {.name = "gpufleet", .endpoint = "https://127.0.0.1:6443", .certificate_authority = "Q0E="},
                           .region = "us-west-2",
                           .node_classes = [this](std::string_view) -> Result<kube::EC2NodeClass> { return node_class_; },
                           .on_demand_prices = prices.ok() ? *prices : std::map<std::string, double>{},
                           .clock = &clock_});
  }

  NodeClaim Claim(const std::string& name, std::vector<std::string> types, std::vector<std::string> capacity_types) {
    NodeClaim c{.name = name, .uid = "uid-" + name, .nodepool = "gpu", .node_class = {.name = "gpu"}};
    c.requirements.Add(core::Requirement::In(core::labels::kInstanceType, std::move(types)));
    c.requirements.Add(core::Requirement::In(scheduling::keys::kCapacityType, std::move(capacity_types)));
    c.taints = {{.key = "nvidia.com/gpu", .effect = core::TaintEffect::kNoSchedule}};
    c.labels[core::InternedString("nvidia.com/gpu.present")] = core::InternedString("true");
    return c;
  }

  std::string odcr_;
  kube::EC2NodeClass node_class_;
  std::unique_ptr<AwsCloudProvider> provider_;
};

TEST_F(ProviderTest, InstanceTypesCarryOfferingsPerZoneAndCapacityType) {
  auto types = provider_->GetInstanceTypes({.name = "gpu"});
  ASSERT_TRUE(types.ok()) << types.status();
  auto it = std::find_if(types->begin(), types->end(), [](const auto& t) { return t.name == "g6e.2xlarge"; });
  ASSERT_NE(it, types->end());
  int on_demand = 0, spot = 0, reserved = 0;
  for (const auto& o : it->offerings) {
    if (o.capacity_type == scheduling::CapacityType::kOnDemand) {
      ++on_demand;
      EXPECT_DOUBLE_EQ(o.price, 2.24208);
    } else if (o.capacity_type == scheduling::CapacityType::kSpot) {
      ++spot;
      EXPECT_LT(o.price, 2.24208);
    } else {
      ++reserved;
      EXPECT_EQ(o.reservation_id, odcr_);
      EXPECT_EQ(o.reservation_capacity, 2);
      EXPECT_EQ(o.zone, "us-west-2a");
      EXPECT_NEAR(o.price, 2.24208 / 1e7, 1e-12);
    }
  }
  EXPECT_EQ(on_demand, 4);
  EXPECT_EQ(spot, 4);
  EXPECT_EQ(reserved, 1);
  EXPECT_TRUE(it->requirements.Get("karpenter.k8s.aws/instance-gpu-name").Has("l40s"));
  EXPECT_EQ(it->capacity.Get("nvidia.com/gpu").Value(), 1);
  // Types without a GPU boot the standard AMI, GPU types the NVIDIA one: both resolve.
  EXPECT_TRUE(std::any_of(types->begin(), types->end(), [](const auto& t) { return t.name == "m7i.large"; }));
}

TEST_F(ProviderTest, LaunchesIntoTheReservationFirstThenOnDemandWhenItIsFull) {
  for (int i = 0; i < 2; ++i) {
    auto m = provider_->Create(Claim("gpu-" + std::to_string(i), {"g6e.2xlarge"}, {"reserved", "on-demand"}));
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->capacity_type, "reserved");
    EXPECT_EQ(m->reservation_id, odcr_);
    EXPECT_EQ(m->zone, "us-west-2a");
    EXPECT_EQ(m->labels.at(core::InternedString("karpenter.k8s.aws/capacity-reservation-id")).view(), odcr_);
  }
  auto reservations = DescribeCapacityReservations(*ec2_, {odcr_}, {});
  ASSERT_TRUE(reservations.ok());
  EXPECT_EQ((*reservations)[0].available, 0);
  // The reservation is full: the next claim falls back to on-demand.
  auto third = provider_->Create(Claim("gpu-2", {"g6e.2xlarge"}, {"reserved", "on-demand"}));
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->capacity_type, "on-demand");
  EXPECT_TRUE(third->reservation_id.empty());
}

TEST_F(ProviderTest, StrictlyReservedClaimGetsInsufficientCapacityWhenTheReservationIsFull) {
  ASSERT_TRUE(provider_->Create(Claim("a", {"g6e.2xlarge"}, {"reserved"})).ok());
  ASSERT_TRUE(provider_->Create(Claim("b", {"g6e.2xlarge"}, {"reserved"})).ok());
  auto full = provider_->Create(Claim("c", {"g6e.2xlarge"}, {"reserved"}));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(Classify(full.status()), ErrorKind::kInsufficientCapacity) << full.status();
}

TEST_F(ProviderTest, CapacityBlockLaunchesWithItsMarketTypeAndEndsWithTheBlock) {
  QueryParams describe;
  describe.Add("InstanceType", "p5.48xlarge").Add("InstanceCount", "1").Add("CapacityDurationHours", "24");
  auto offerings = ec2_->Query("DescribeCapacityBlockOfferings", describe);
  ASSERT_TRUE(offerings.ok()) << offerings.status();
  auto items = Items((*offerings)->first_child(), "capacityBlockOfferingSet");
  ASSERT_EQ(items.size(), 4u);  // one per zone
  QueryParams purchase;
  purchase.Add("CapacityBlockOfferingId", Text(items[1], "capacityBlockOfferingId")).Add("InstancePlatform", "Linux/UNIX");
  auto bought = ec2_->Query("PurchaseCapacityBlock", purchase);
  ASSERT_TRUE(bought.ok()) << bought.status();
  const std::string block = (*bought)->first_child().child("capacityReservation").child_value("capacityReservationId");
  EXPECT_EQ(std::string((*bought)->first_child().child("capacityReservation").child_value("reservationType")), "capacity-block");
  node_class_.spec.capacity_reservation_selector_terms.push_back({.id = block});

  auto m = provider_->Create(Claim("block", {"p5.48xlarge"}, {"reserved", "on-demand"}));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->capacity_type, "reserved");
  EXPECT_EQ(m->reservation_id, block);
  EXPECT_EQ(m->reservation_type, "capacity-block");
  EXPECT_EQ(m->zone, "us-west-2b");
  BootAll();
  // The block ends: EC2 expires the reservation and stops its instances.
  clock_.Advance(std::chrono::hours(25));
  emulator_->Tick();
  auto after = DescribeCapacityReservations(*ec2_, {block}, {});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)[0].state, "expired");
  auto got = provider_->Get(m->provider_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, "shutting-down");
}

TEST_F(ProviderTest, InsufficientCapacityFallsBackToTheNextTypeAndIsCached) {
  emulator_->SetFaults({.insufficient_capacity = {{.instance_type = "g6e.xlarge", .capacity_type = "on-demand"}}});
  auto m = provider_->Create(Claim("ice", {"g6e.xlarge", "g6e.2xlarge"}, {"on-demand"}));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->instance_type, "g6e.2xlarge");  // g6e.xlarge is cheaper but had no capacity
  for (const char* zone : {"us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"}) {
    EXPECT_TRUE(provider_->unavailable().IsUnavailable("g6e.xlarge", zone, "on-demand")) << zone;
  }
  // The next solve sees the offerings unavailable, for three minutes.
  auto types = provider_->GetInstanceTypes({.name = "gpu"});
  ASSERT_TRUE(types.ok());
  auto xl = std::find_if(types->begin(), types->end(), [](const auto& t) { return t.name == "g6e.xlarge"; });
  ASSERT_NE(xl, types->end());
  for (const auto& o : xl->offerings) {
    if (o.capacity_type == scheduling::CapacityType::kOnDemand) {
      EXPECT_FALSE(o.available);
    }
  }
  clock_.Advance(std::chrono::minutes(3) + std::chrono::seconds(1));
  EXPECT_FALSE(provider_->unavailable().IsUnavailable("g6e.xlarge", "us-west-2a", "on-demand"));
}

TEST_F(ProviderTest, NoCapacityAnywhereIsInsufficientCapacity) {
  emulator_->SetFaults({.insufficient_capacity = {{.capacity_type = "on-demand"}}});
  auto m = provider_->Create(Claim("none", {"g6e.2xlarge"}, {"on-demand"}));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(Classify(m.status()), ErrorKind::kInsufficientCapacity);
  EXPECT_THAT(m.status().message(), HasSubstr("InsufficientInstanceCapacity"));
}

TEST_F(ProviderTest, RetryWithTheSameNodeClaimUidReturnsTheSameInstance) {
  auto first = provider_->Create(Claim("same", {"g6e.2xlarge"}, {"on-demand"}));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = provider_->Create(Claim("same", {"g6e.2xlarge"}, {"on-demand"}));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->instance_id, second->instance_id);
  auto tagged = DescribeInstances(*ec2_, {}, {{"tag:karpenter.sh/nodeclaim", {"same"}}});
  ASSERT_TRUE(tagged.ok());
  EXPECT_EQ(tagged->size(), 1u);
}

TEST_F(ProviderTest, RetryWithOtherParametersAfterALaunchOfNothingLaunchesUnderItsOwnToken) {
  // The first attempt finds no capacity: EC2 records that answer under the NodeClaim's UID.
  emulator_->SetFaults({.insufficient_capacity = {{.instance_type = "g6e.2xlarge", .capacity_type = "on-demand"}}});
  auto first = provider_->Create(Claim("again", {"g6e.2xlarge"}, {"on-demand"}));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(Classify(first.status()), ErrorKind::kInsufficientCapacity);
  // A retry that asks for something else (here: other types, as after a restart that sees other
  // offerings) must not be stuck on IdempotentParameterMismatch.
  emulator_->SetFaults({});
  auto second = provider_->Create(Claim("again", {"g6e.2xlarge", "g6e.4xlarge"}, {"on-demand"}));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->instance_type, "g6e.4xlarge");  // g6e.2xlarge is still cached unavailable
  // Retrying the same request again is still idempotent: the same instance, no second one.
  auto third = provider_->Create(Claim("again", {"g6e.2xlarge", "g6e.4xlarge"}, {"on-demand"}));
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->instance_id, second->instance_id);
  auto tagged = DescribeInstances(*ec2_, {}, {{"tag:karpenter.sh/nodeclaim", {"again"}}});
  ASSERT_TRUE(tagged.ok());
  EXPECT_EQ(tagged->size(), 1u);
}

TEST_F(ProviderTest, ThrottlingIsRetriedWithBackoff) {
  emulator_->SetFaults({.throttle_next = 2});
  int attempts = 0;
  auto doc = ec2_->Query("DescribeSubnets", {}, &attempts);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(attempts, 3);
  emulator_->SetFaults({.throttle_next = 100});
  auto refused = ec2_->Query("DescribeSubnets", {}, &attempts);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(attempts, 5);
  EXPECT_EQ(Classify(refused.status()), ErrorKind::kRetryable);
  EXPECT_THAT(refused.status().message(), HasSubstr("RequestLimitExceeded"));
  emulator_->SetFaults({.server_errors_next = 1});
  EXPECT_TRUE(provider_->Create(Claim("after-5xx", {"g6e.2xlarge"}, {"on-demand"})).ok());
}

TEST_F(ProviderTest, WrongSecretIsUnauthorizedAndNeverEchoed) {
  auto wrong = NewStaticCredentials({.access_key_id = emulator_->access_key_id(),
                                     .secret_access_key = "not-the-secret-0123456789", .source = "static"});
  auto client = MakeClient("ec2", wrong.get());
  auto provider = MakeProvider(*client);
  auto types = provider->GetInstanceTypes({.name = "gpu"});
  ASSERT_FALSE(types.ok());
  EXPECT_EQ(Classify(types.status()), ErrorKind::kUnauthorized) << types.status();
  EXPECT_THAT(types.status().message(), HasSubstr("AuthFailure"));
  EXPECT_THAT(types.status().message(), Not(HasSubstr("not-the-secret")));
  EXPECT_THAT(types.status().message(), Not(HasSubstr(emulator_->secret_access_key())));
}

TEST_F(ProviderTest, MachineLifecycleGetListDelete) {
  auto m = provider_->Create(Claim("life", {"g6e.2xlarge"}, {"on-demand"}));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->state, "pending");
  EXPECT_EQ(m->provider_id, "aws:///" + m->zone + "/" + m->instance_id);
  EXPECT_EQ(m->nodeclaim, "life");
  EXPECT_EQ(m->allocatable.Get("nvidia.com/gpu").Value(), 1);
  BootAll();
  auto got = provider_->Get(m->provider_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, "running");
  auto listed = provider_->List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].instance_id, m->instance_id);
  ASSERT_TRUE(provider_->Delete(m->provider_id).ok());
  clock_.Advance(std::chrono::seconds(5));
  emulator_->Tick();
  EXPECT_EQ(provider_->Get(m->provider_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(provider_->Delete(m->provider_id).code(), StatusCode::kNotFound);
  EXPECT_EQ(Classify(provider_->Get("aws:///us-west-2a/i-0123456789abcdef0").status()), ErrorKind::kNotFound);
  EXPECT_EQ(provider_->Get("gce://nope").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ProviderTest, NodeBootsWithTheNodeClassUserDataAndTheNodePoolsLabelsAndTaints) {
  auto m = provider_->Create(Claim("boot", {"g6e.2xlarge"}, {"on-demand"}));
  ASSERT_TRUE(m.ok()) << m.status();
  BootAll();
  auto booted = Booted();
  ASSERT_EQ(booted.size(), 1u);
  const std::string user_data = Unbase64(booted[0].value("_userData", ""));
  auto summary = ParseAl2023UserData(user_data);
  ASSERT_TRUE(summary.ok()) << summary.status() << "\n" << user_data;
  EXPECT_TRUE(summary->feature_gates["FastImagePull"]);  // the seed's SOCI setting survived
  EXPECT_EQ(summary->cluster_name, "gpufleet");
  EXPECT_EQ(summary->labels.at(core::InternedString("nvidia.com/gpu.present")).view(), "true");
  EXPECT_EQ(summary->labels.at(core::InternedString("karpenter.sh/nodepool")).view(), "gpu");
  std::vector<std::string> taints;
  for (const auto& t : summary->taints) taints.push_back(t.ToString());
  EXPECT_THAT(taints, ::testing::UnorderedElementsAre("nvidia.com/gpu:NoSchedule", "karpenter.sh/unregistered:NoExecute"));
}

TEST_F(ProviderTest, DriftWhenTheAmiSelectorMovesAway) {
  auto m = provider_->Create(Claim("drift", {"g6e.2xlarge"}, {"on-demand"}));
  ASSERT_TRUE(m.ok()) << m.status();
  auto drifted = provider_->IsDrifted(*m, {.name = "gpu"});
  ASSERT_TRUE(drifted.ok()) << drifted.status();
  EXPECT_FALSE(drifted->has_value());
  auto images = DescribeImages(*ec2_, {}, {}, {{"name", {"amazon-eks-node-al2023-x86_64-nvidia-1.33-*"}}});
  ASSERT_TRUE(images.ok());
  ASSERT_EQ(images->size(), 1u);
  node_class_.spec.ami_selector_terms = {{.id = (*images)[0].id}};
  drifted = provider_->IsDrifted(*m, {.name = "gpu"});
  ASSERT_TRUE(drifted.ok());
  EXPECT_EQ(drifted->value_or(""), "AMIDrift");
}

TEST_F(ProviderTest, ResolveReportsWhatTheSelectorsFound) {
  auto status = provider_->Resolve(node_class_.spec);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->subnets.size(), 4u);
  EXPECT_EQ(status->security_groups.size(), 1u);
  ASSERT_EQ(status->capacity_reservations.size(), 1u);
  EXPECT_EQ(status->capacity_reservations[0].instance_type, "g6e.2xlarge");
  EXPECT_EQ(status->capacity_reservations[0].instance_match_criteria, "targeted");
  EXPECT_GE(status->amis.size(), 3u);  // standard x86_64 and arm64, NVIDIA x86_64 at least
  kube::EC2NodeClassSpec bad = node_class_.spec;
  bad.ami_selector_terms = {{.alias = "bottlerocket@latest"}};
  EXPECT_EQ(provider_->Resolve(bad).status().code(), StatusCode::kInvalidArgument);
  bad = node_class_.spec;
  bad.subnet_selector_terms = {{}};
  EXPECT_EQ(provider_->Resolve(bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ProviderTest, MissingSubnetsAreAConfigurationError) {
  core::Labels nowhere;
  nowhere[core::InternedString("karpenter.sh/discovery")] = core::InternedString("other-cluster");
  node_class_.spec.subnet_selector_terms = {{.tags = nowhere}};
  auto m = provider_->Create(Claim("nosubnet", {"g6e.2xlarge"}, {"on-demand"}));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(Classify(m.status()), ErrorKind::kInvalidConfiguration);
  EXPECT_THAT(m.status().message(), HasSubstr("subnetSelectorTerms"));
}

}  // namespace
}  // namespace gpufleet::cloud::aws
