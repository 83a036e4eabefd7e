#include "scheduling/pod_requests.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace gpufleet::scheduling {
namespace {

core::Quantity Q(const char* text) { return *core::Quantity::Parse(text); }
core::ResourceList R(std::initializer_list<std::pair<std::string_view, const char*>> entries) {
  core::ResourceList out;
  for (const auto& [name, text] : entries) out.Set(name, Q(text));
  return out;
}

TEST(EffectiveRequestsTest, SumsContainersAndAddsOverhead) {
  PodResources pod;
  pod.containers = {{.requests = R({{"cpu", "1"}, {"memory", "1Gi"}})},
                    {.requests = R({{"cpu", "500m"}, {"nvidia.com/gpu", "1"}})}};
  pod.overhead = R({{"cpu", "250m"}, {"memory", "120Mi"}});
  GF_ASSERT_OK_AND_ASSIGN(core::ResourceList got, EffectiveRequests(pod));
  EXPECT_EQ(got, R({{"cpu", "1750m"}, {"memory", "1144Mi"}, {"nvidia.com/gpu", "1"}}));
}

TEST(EffectiveRequestsTest, LimitWithoutRequestStandsInForIt) {
  PodResources pod;
  pod.containers = {{.requests = R({{"cpu", "1"}}), .limits = R({{"cpu", "4"}, {"memory", "2Gi"}, {"nvidia.com/gpu", "2"}})}};
  GF_ASSERT_OK_AND_ASSIGN(core::ResourceList got, EffectiveRequests(pod));
  EXPECT_EQ(got, R({{"cpu", "1"}, {"memory", "2Gi"}, {"nvidia.com/gpu", "2"}})) << "the request wins where both exist";
}

TEST(EffectiveRequestsTest, LargestInitContainerWinsWhenItExceedsTheSum) {
  PodResources pod;
  pod.containers = {{.requests = R({{"cpu", "1"}, {"memory", "1Gi"}})}};
  pod.init_containers = {{.requests = R({{"cpu", "3"}})}, {.requests = R({{"memory", "512Mi"}})}};
  GF_ASSERT_OK_AND_ASSIGN(core::ResourceList got, EffectiveRequests(pod));
  EXPECT_EQ(got, R({{"cpu", "3"}, {"memory", "1Gi"}})) << "max per resource, not per container";
}

TEST(EffectiveRequestsTest, SidecarsRunAlongsideAndAddToLaterInitSteps) {
  // Kubernetes' worked example (KEP-753): sidecar 1 cpu; then an init container of 2 cpu runs
  // beside it (3 at once); the app container of 1 cpu runs with the sidecar (2).
  PodResources pod;
  pod.containers = {{.requests = R({{"cpu", "1"}})}};
  pod.init_containers = {{.requests = R({{"cpu", "1"}}), .sidecar = true}, {.requests = R({{"cpu", "2"}})}};
  GF_ASSERT_OK_AND_ASSIGN(core::ResourceList got, EffectiveRequests(pod));
  EXPECT_EQ(got, R({{"cpu", "3"}}));

  // An init container before the sidecar does not see it.
  pod.init_containers = {{.requests = R({{"cpu", "2"}})}, {.requests = R({{"cpu", "1"}}), .sidecar = true}};
  GF_ASSERT_OK_AND_ASSIGN(got, EffectiveRequests(pod));
  EXPECT_EQ(got, R({{"cpu", "2"}}));
}

TEST(EffectiveRequestsTest, NegativeRequestNamesTheContainer) {
  PodResources pod;
  pod.init_containers = {{.requests = R({{"cpu", "-1"}})}};
  auto got = EffectiveRequests(pod);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("initContainers[0]: negative request cpu=-1"), std::string::npos)
      << got.status();
}

TEST(EffectiveRequestsTest, EmptyPodAsksForNothing) {
  GF_ASSERT_OK_AND_ASSIGN(core::ResourceList got, EffectiveRequests({}));
  EXPECT_TRUE(got.empty());
}

}  // namespace
}  // namespace gpufleet::scheduling
