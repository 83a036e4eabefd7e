// NVIDIA's device plugin config file (v1) accepted as is, with errors that name the field, and
// the precedence flag > environment > file.
#include "agent/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace gpufleet::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(AgentConfig, ParsesNvidiasTimeSlicingExample) {
  auto c = ParseConfig(R"(
version: v1
flags:
  migStrategy: mixed
  failOnInitError: false
  nvidiaDriverRoot: /run/nvidia/driver
  plugin:
    passDeviceSpecs: true
    deviceListStrategy: [envvar, cdi-cri]
    deviceIDStrategy: index
sharing:
  timeSlicing:
    renameByDefault: true
    failRequestsGreaterThanOne: true
    resources:
    - name: nvidia.com/gpu
      replicas: 10
      rename: ignored-by-nvidia-too
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->mig_strategy, MigStrategy::kMixed);
  EXPECT_FALSE(c->fail_on_init_error);
  EXPECT_EQ(c->driver_root, "/run/nvidia/driver");
  EXPECT_TRUE(c->pass_device_specs);
  EXPECT_THAT(c->device_list_strategy, ElementsAre("envvar", "cdi-cri"));
  EXPECT_EQ(c->device_id_strategy, "index");
  EXPECT_EQ(c->sharing, SharingStrategy::kTimeSlicing);
  EXPECT_TRUE(c->rename_by_default);
  EXPECT_TRUE(c->fail_requests_greater_than_one);
  EXPECT_EQ(c->ReplicasFor("nvidia.com/gpu"), 10);
  EXPECT_EQ(c->ReplicasFor("nvidia.com/mig-1g.10gb"), 1);
}

TEST(AgentConfig, MpsForcesOneDevicePerRequest) {
  auto c = ParseConfig("version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 4\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sharing, SharingStrategy::kMps);
  EXPECT_TRUE(c->fail_requests_greater_than_one);
}

TEST(AgentConfig, ErrorsNameTheFieldAndValue) {
  auto expect_error = [](const char* yaml, const char* what) {
    auto c = ParseConfig(yaml);
    ASSERT_FALSE(c.ok()) << yaml;
    EXPECT_THAT(c.status().message(), HasSubstr(what)) << yaml;
  };
  expect_error("version: v2\n", "unsupported config version \"v2\"");
  expect_error("flags: {}\n", "version");
  expect_error("version: v1\nflags:\n  migStrategy: some\n", "flags.migStrategy: unknown MIG strategy \"some\"");
  expect_error("version: v1\nflags:\n  plugin:\n    deviceListStrategy: magic\n", "unknown device list strategy \"magic\"");
  expect_error("version: v1\nflags:\n  plugin:\n    deviceIDStrategy: serial\n", "unknown device ID strategy \"serial\"");
  expect_error("version: v1\nsharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 0\n",
               "sharing.timeSlicing.resources[0].replicas: must be at least 1, got 0");
  expect_error("version: v1\nsharing:\n  timeSlicing:\n    resources:\n    - name: amd.com/gpu\n      replicas: 2\n",
               "is not an nvidia.com/ resource");
  expect_error("version: v1\nsharing:\n  timeSlicing: {resources: [{name: nvidia.com/gpu, replicas: 2}]}\n"
               "  mps: {resources: [{name: nvidia.com/gpu, replicas: 2}]}\n",
               "mutually exclusive");
  expect_error("version: v1\nflags: {migStrategy: mixed}\nsharing:\n  mps: {resources: [{name: nvidia.com/gpu, replicas: 2}]}\n",
               "mps: not supported together with migStrategy mixed");
  expect_error("version: v1\nflags: [1, 2]\n", "flags");
  expect_error("version: v1\n  bad: indentation\n", "");
}

TEST(AgentConfig, EnvironmentOverridesTheFile) {
  auto file = ParseConfig("version: v1\nflags:\n  migStrategy: single\n");
  ASSERT_TRUE(file.ok());
  std::map<std::string, std::string> env = {{"MIG_STRATEGY", "mixed"}, {"DEVICE_LIST_STRATEGY", "volume-mounts,cdi-annotations"},
                                            {"PASS_DEVICE_SPECS", "true"}};
  auto c = ApplyEnvironment(*file, [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->mig_strategy, MigStrategy::kMixed);
  EXPECT_THAT(c->device_list_strategy, ElementsAre("volume-mounts", "cdi-annotations"));
  EXPECT_TRUE(c->pass_device_specs);
  env = {{"FAIL_ON_INIT_ERROR", "maybe"}};
  auto bad = ApplyEnvironment(*file, [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("FAIL_ON_INIT_ERROR: expected true or false, got \"maybe\""));
}

}  // namespace
}  // namespace gpufleet::agent
