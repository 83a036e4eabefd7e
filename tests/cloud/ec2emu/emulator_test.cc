// The EC2 emulator over HTTP with our signed client: AWS-shaped errors for bad input, DryRun,
// the instance lifecycle and boot hook, idempotency, persistence across restarts, fault injection.
#include "cloud/ec2emu/emulator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cloud/aws/ec2.h"
#include "cloud/emulator_fixture.h"

namespace gpufleet::cloud::ec2emu {
namespace {

using ::testing::HasSubstr;

class EmulatorTest : public testing::EmulatorFixture {
 protected:
  Status Call(const std::string& action, std::vector<std::pair<std::string, std::string>> params) {
    aws::QueryParams q;
    for (auto& [k, v] : params) q.Add(k, v);
    return ec2_->Query(action, q).status();
  }
  std::string Ami() {
    auto id = aws::GetParameter(*ssm_, "/aws/service/eks/optimized-ami/1.32/amazon-linux-2023/x86_64/nvidia/recommended/image_id");
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : "";
  }
};

TEST_F(EmulatorTest, BadInputGetsAwsShapedErrors) {
  Status s = Call("RunInstances", {{"ImageId", Ami()}, {"InstanceType", "g6e.2xlarge"}, {"MaxCount", "1"}});
  EXPECT_THAT(s.message(), HasSubstr("MissingParameter"));
  EXPECT_THAT(s.message(), HasSubstr("MinCount"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = Call("DescribeInstances", {{"Bogus", "1"}});
  EXPECT_THAT(s.message(), HasSubstr("UnknownParameter"));
  EXPECT_THAT(s.message(), HasSubstr("Bogus"));
  s = Call("DescribeInstances", {{"MaxResults", "lots"}});
  EXPECT_THAT(s.message(), HasSubstr("InvalidParameterValue"));
  s = Call("DescribeInstanceTypes", {{"Filter.1.Name", "no-such-filter"}, {"Filter.1.Value.1", "x"}});
  EXPECT_THAT(s.message(), HasSubstr("InvalidParameterValue"));
  EXPECT_THAT(s.message(), HasSubstr("no-such-filter"));
  s = Call("RunInstances", {{"ImageId", Ami()}, {"InstanceType", "g99.huge"}, {"MinCount", "1"}, {"MaxCount", "1"}});
  EXPECT_THAT(s.message(), HasSubstr("InvalidParameterValue"));
  s = Call("RunInstances", {{"ImageId", "ami-0000000000000000f"}, {"InstanceType", "g6e.2xlarge"}, {"MinCount", "1"}, {"MaxCount", "1"}});
  EXPECT_THAT(s.message(), HasSubstr("InvalidAMIID.NotFound"));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  s = Call("DescribeInstances", {{"InstanceId.1", "i-nothex"}});
  EXPECT_THAT(s.message(), HasSubstr("InvalidInstanceID.Malformed"));
  s = Call("NoSuchAction", {});
  EXPECT_THAT(s.message(), HasSubstr("InvalidAction"));
  s = Call("DescribeInstances", {{"NextToken", "forged"}});
  EXPECT_THAT(s.message(), HasSubstr("InvalidNextToken"));
  s = Call("RunInstances", {{"ImageId", Ami()}, {"InstanceType", "m7g.large"}, {"MinCount", "1"}, {"MaxCount", "1"}});
  EXPECT_THAT(s.message(), HasSubstr("architecture"));  // arm64 type, x86_64 AMI
  s = Call("RunInstances", {{"DryRun", "true"}, {"ImageId", Ami()}, {"InstanceType", "g6e.2xlarge"}, {"MinCount", "1"}, {"MaxCount", "1"}});
  EXPECT_THAT(s.message(), HasSubstr("DryRunOperation"));
  auto none = aws::DescribeInstances(*ec2_, {}, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());  // nothing was half-created by the refused calls
}

TEST_F(EmulatorTest, InstancesBootAndTheHookSeesThem) {
  ASSERT_TRUE(Call("RunInstances", {{"ImageId", Ami()}, {"InstanceType", "g6e.2xlarge"}, {"MinCount", "2"},
                                    {"MaxCount", "2"}, {"UserData", "IyEvYmluL3NoCg=="}})
                  .ok());
  auto pending = aws::DescribeInstances(*ec2_, {}, {{"instance-state-name", {"pending"}}});
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 2u);
  clock_.Advance(std::chrono::seconds(5));
  emulator_->Tick();
  EXPECT_TRUE(Booted().empty());  // still inside the boot delay
  BootAll();
  ASSERT_EQ(Booted().size(), 2u);
  EXPECT_EQ(Booted()[0].value("_userData", ""), "IyEvYmluL3NoCg==");
  auto running = aws::DescribeInstances(*ec2_, {}, {{"instance-state-name", {"running"}}});
  ASSERT_TRUE(running.ok());
  ASSERT_EQ(running->size(), 2u);
  EXPECT_NE((*running)[0].private_dns_name, (*running)[1].private_dns_name);
  ASSERT_TRUE(aws::TerminateInstances(*ec2_, {(*running)[0].id}).ok());
  clock_.Advance(std::chrono::seconds(3));
  emulator_->Tick();
  auto terminated = aws::DescribeInstances(*ec2_, {(*running)[0].id}, {});
  ASSERT_TRUE(terminated.ok());
  EXPECT_EQ((*terminated)[0].state, "terminated");
  clock_.Advance(std::chrono::hours(2));
  emulator_->Tick();
  EXPECT_EQ(aws::DescribeInstances(*ec2_, {(*running)[0].id}, {}).status().code(), StatusCode::kNotFound);
}

TEST_F(EmulatorTest, StateSurvivesARestart) {
  ASSERT_TRUE(Call("RunInstances", {{"ImageId", Ami()}, {"InstanceType", "g6e.2xlarge"}, {"MinCount", "1"},
                                    {"MaxCount", "1"}, {"ClientToken", "restart-1"}})
                  .ok());
  auto before = aws::DescribeInstances(*ec2_, {}, {});
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  auto reservations = aws::DescribeCapacityReservations(*ec2_, {}, {});
  ASSERT_TRUE(reservations.ok());
  const std::string key = emulator_->access_key_id();
  emulator_->Stop();
  emulator_.reset();
  StartEmulator();
  EXPECT_EQ(emulator_->access_key_id(), key);  // the credentials file is kept
  ec2_ = MakeClient("ec2", credentials_.get());
  ssm_ = MakeClient("ssm", credentials_.get());
  auto after = aws::DescribeInstances(*ec2_, {}, {});
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].id, (*before)[0].id);
  auto reservations_after = aws::DescribeCapacityReservations(*ec2_, {}, {});
  ASSERT_TRUE(reservations_after.ok());
  ASSERT_EQ(reservations_after->size(), 1u);  // not seeded twice
  EXPECT_EQ((*reservations_after)[0].id, (*reservations)[0].id);
  // The idempotency record survived too.
  ASSERT_TRUE(Call("RunInstances", {{"ImageId", Ami()}, {"InstanceType", "g6e.2xlarge"}, {"MinCount", "1"},
                                    {"MaxCount", "1"}, {"ClientToken", "restart-1"}})
                  .ok());
  EXPECT_EQ(aws::DescribeInstances(*ec2_, {}, {})->size(), 1u);
  Status mismatch = Call("RunInstances", {{"ImageId", Ami()}, {"InstanceType", "g6e.xlarge"}, {"MinCount", "1"},
                                          {"MaxCount", "1"}, {"ClientToken", "restart-1"}});
  EXPECT_THAT(mismatch.message(), HasSubstr("IdempotentParameterMismatch"));
}

TEST_F(EmulatorTest, PaginationFollowsNextToken) {
  int pages = 0;
  size_t types = 0;
  aws::QueryParams q;
  q.Add("MaxResults", "50");
  ASSERT_TRUE(ec2_->QueryPages("DescribeInstanceTypes", q, [&](const pugi::xml_node& response) {
                    ++pages;
                    types += aws::Items(response, "instanceTypeSet").size();
                    return OkStatus();
                  }).ok());
  EXPECT_GT(types, 1300u);
  EXPECT_EQ(pages, int((types + 49) / 50));
}

TEST_F(EmulatorTest, SsmAnswersTheAmiAliasesAndRefusesOthers) {
  auto recommended = aws::GetParameter(*ssm_, "/aws/service/eks/optimized-ami/1.32/amazon-linux-2023/arm64/standard/recommended/image_id");
  ASSERT_TRUE(recommended.ok()) << recommended.status();
  EXPECT_EQ(recommended->rfind("ami-", 0), 0u);
  auto pinned = aws::GetParameter(*ssm_,
      "/aws/service/eks/optimized-ami/1.32/amazon-linux-2023/arm64/standard/amazon-eks-node-al2023-arm64-standard-1.32-v20251120/image_id");
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_EQ(*pinned, *recommended);
  auto missing = aws::GetParameter(*ssm_, "/aws/service/eks/optimized-ami/1.32/bottlerocket/x86_64/latest/image_id");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("ParameterNotFound"));
}

TEST_F(EmulatorTest, SignatureFromAnotherRegionIsRefused) {
  auto client = std::make_unique<aws::ApiClient>(aws::ApiClientOptions{
      .service = "ec2", .region = "eu-west-1", .endpoint = emulator_->endpoint(), .credentials = credentials_.get(),
      .http = http_.get(), .clock = &clock_, .jitter = [] { return 0.0; }});
  Status s = client->Query("DescribeInstances", {}).status();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("AuthFailure"));
  EXPECT_THAT(s.message(), HasSubstr("us-west-2"));
}

TEST(EmulatorStartTest, ServesOnlyOnLoopbackAndNamesBadData) {
  char tmpl[] = "/tmp/gpufleet-ec2emu-start-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  EmulatorOptions o{.data_dir = tmpl, .listen = "0.0.0.0:0", .instance_data = testing::InstanceData()};
  auto exposed = Emulator::Start(o);
  ASSERT_FALSE(exposed.ok());
  EXPECT_THAT(exposed.status().message(), HasSubstr("loopback"));
  o.listen = "127.0.0.1:0";
  o.instance_data = std::string(tmpl) + "/missing.json";
  EXPECT_THAT(Emulator::Start(o).status().message(), HasSubstr("missing.json"));
  o.instance_data = testing::InstanceData();
  o.region = "mars-north-1";
  // Unknown regions still get the us-east-1 prices; the zones follow the region's name.
  auto mars = Emulator::Start(o);
  ASSERT_TRUE(mars.ok()) << mars.status();
  (*mars)->Stop();
  std::filesystem::remove_all(tmpl);
}

TEST(FaultConfigTest, ParsesTheFileFormatAndNamesMistakes) {
  auto ok = ParseFaultConfig(R"(insufficientCapacity:
  - {instanceType: g6e.2xlarge, zone: us-west-2a, capacityType: on-demand}
throttle: {next: 3}
serverErrors: {next: 1}
latency: 250ms
actions: [CreateFleet]
)", "faults.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->InsufficientCapacity("g6e.2xlarge", "us-west-2a", "on-demand"));
  EXPECT_FALSE(ok->InsufficientCapacity("g6e.2xlarge", "us-west-2b", "on-demand"));
  EXPECT_EQ(ok->throttle_next, 3);
  EXPECT_EQ(ok->latency, std::chrono::milliseconds(250));
  EXPECT_TRUE(ok->AppliesTo("CreateFleet"));
  EXPECT_FALSE(ok->AppliesTo("DescribeInstances"));
  auto bad = ParseFaultConfig("insufficientCapacity: [{capacityType: cheap}]", "faults.yaml");
  EXPECT_THAT(bad.status().message(), HasSubstr("faults.yaml.insufficientCapacity[0].capacityType"));
  EXPECT_THAT(ParseFaultConfig("throttles: {}", "f").status().message(), HasSubstr("unknown field \"throttles\""));
  EXPECT_THAT(ParseFaultConfig("latency: soon", "f").status().message(), HasSubstr("latency"));
}

TEST(ParamsToTreeTest, BuildsListsAndStructures) {
  auto tree = ParamsToTree({{"Filter.2.Name", "b"}, {"Filter.1.Name", "a"}, {"Filter.1.Value.1", "x"},
                            {"Filter.1.Value.2", "y"}, {"Action", "X"}});
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(tree->dump(), R"({"Filter":[{"Name":"a","Value":["x","y"]},{"Name":"b"}]})");
  EXPECT_FALSE(ParamsToTree({{"A.1", "x"}, {"A.B", "y"}}).ok());
  EXPECT_FALSE(ParamsToTree({{"A", "x"}, {"A.B", "y"}}).ok());
  EXPECT_FALSE(ParamsToTree({{"A.0", "x"}}).ok());
  EXPECT_FALSE(ParamsToTree({{"A..B", "x"}}).ok());
  EXPECT_FALSE(ParamsToTree({{"5", "x"}}).ok());  // found by the ec2_query fuzzer
}


TEST(WireTest, ErrorDocumentAndResponseShape) {
  const std::string error = ErrorXml({400, "MissingParameter", "a < b"}, "req-1");
  EXPECT_THAT(error, HasSubstr("<Response><Errors><Error><Code>MissingParameter</Code><Message>a &lt; b</Message>"));
  EXPECT_THAT(error, HasSubstr("<RequestID>req-1</RequestID>"));
  const std::string ok = ResponseXml("DescribeThings", "r", {{"thingSet", {{{"id", "a"}, {"_hidden", 1}}}}, {"flag", true}});
  EXPECT_THAT(ok, HasSubstr("<DescribeThingsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId>"));
  EXPECT_THAT(ok, HasSubstr("<thingSet><item><id>a</id></item></thingSet>"));
  EXPECT_THAT(ok, HasSubstr("<flag>true</flag>"));
  EXPECT_THAT(ok, ::testing::Not(HasSubstr("_hidden")));
}

}  // namespace
}  // namespace gpufleet::cloud::ec2emu
