#include "core/labels.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::IsOk;
using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;

TEST(LabelKey, ValidKeys) {
  for (std::string key : std::vector<std::string>{"app", "nvidia.com/gpu.present", "kubernetes.io/hostname",
                          "karpenter.sh/capacity-type", "A_b.c-D", "a", "1", std::string(63, 'x'),
                          std::string(253, 'a') + "/" + std::string(63, 'b')}) {
    EXPECT_EQ(LabelKeyError(key), "") << key;
  }
}

TEST(LabelKey, InvalidKeys) {
  struct Case {
    std::string key;
    std::string why;
  } cases[] = {
      {"", "name part must be non-empty"},
      {"a/b/c", "at most one '/'"},
      {"/name", "prefix before '/' must be non-empty"},
      {"Example.com/name", "DNS-1123 subdomain"},
      {"example.com/", "name part must be non-empty"},
      {"-abc", "starting and ending alphanumeric"},
      {"abc-", "starting and ending alphanumeric"},
      {"a b", "alphanumerics"},
      {std::string(64, 'x'), "no more than 63"},
      {std::string(254, 'a') + "/b", "no more than 253"},
      {"a..b.com/x", "DNS-1123 subdomain"},
  };
  for (const auto& c : cases) EXPECT_THAT(LabelKeyError(c.key), HasSubstr(c.why)) << c.key;
}

TEST(LabelValue, EmptyIsValid) { EXPECT_EQ(LabelValueError(""), ""); }

TEST(LabelValue, Rules) {
  EXPECT_EQ(LabelValueError("true"), "");
  EXPECT_EQ(LabelValueError("g6e.2xlarge"), "");
  EXPECT_EQ(LabelValueError("NVIDIA-L40S"), "");
  EXPECT_THAT(LabelValueError("a/b"), HasSubstr("alphanumerics"));
  EXPECT_THAT(LabelValueError("_a"), HasSubstr("starting and ending"));
  EXPECT_THAT(LabelValueError(std::string(64, 'v')), HasSubstr("63"));
}

TEST(LabelValidation, ErrorsNameFieldAndValue) {
  EXPECT_THAT(ValidateLabelKey("a b", "metadata.labels"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("metadata.labels: invalid label key \"a b\"")));
  EXPECT_THAT(ValidateLabels({{"ok", "bad value"}}, "spec.nodeSelector"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("spec.nodeSelector[ok]")));
  EXPECT_THAT(ValidateLabels({{"nvidia.com/gpu.present", "true"}}, "x"), IsOk());
}

TEST(Dns1123, SubdomainAndLabel) {
  EXPECT_EQ(Dns1123SubdomainError("gpu.example-1.com"), "");
  EXPECT_NE(Dns1123SubdomainError("GPU"), "");
  EXPECT_EQ(Dns1123LabelError("nvidia-device-plugin"), "");
  EXPECT_NE(Dns1123LabelError("a.b"), "");
  EXPECT_NE(Dns1123LabelError(std::string(64, 'a')), "");
}

TEST(NormalizeLabelKey, BetaKeysBecomeGa) {
  EXPECT_EQ(NormalizeLabelKey("failure-domain.beta.kubernetes.io/zone"), labels::kZone);
  EXPECT_EQ(NormalizeLabelKey("beta.kubernetes.io/instance-type"), labels::kInstanceType);
  EXPECT_EQ(NormalizeLabelKey("beta.kubernetes.io/arch"), labels::kArch);
  EXPECT_EQ(NormalizeLabelKey("nvidia.com/gpu.present"), "nvidia.com/gpu.present");
}

}  // namespace
}  // namespace gpufleet::core
