// AL2023 user data: the EC2NodeClass's own parts come first and survive, gpufleet's NodeConfig
// follows with the cluster, labels and taints, and malformed documents are refused by name.
#include "cloud/aws/user_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gpufleet::cloud::aws {
namespace {

using ::testing::HasSubstr;

NodeadmInput Input(std::string custom) {
  NodeadmInput in{.cluster_name = "llm", .api_server_endpoint = "https://10.0.0.1:6443", .certificate_authority = "Q0E=",
                  .cluster_dns = {"10.100.0.10"}, .max_pods = 58, .custom = std::move(custom)};
  in.labels[core::InternedString("karpenter.sh/nodepool")] = core::InternedString("gpu");
  in.labels[core::InternedString("nvidia.com/gpu.present")] = core::InternedString("true");
  in.taints = {{.key = "nvidia.com/gpu", .effect = core::TaintEffect::kNoSchedule}};
  return in;
}

TEST(UserDataTest, MimeFromTheNodeClassIsKeptAndOursFollows) {
  const std::string custom =
      "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"BOUNDARY\"\n\n"
      "--BOUNDARY\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n#!/bin/bash\necho hi\n"
      "--BOUNDARY\nContent-Type: application/node.eks.aws\n\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n"
      "spec:\n  featureGates:\n    FastImagePull: true\n--BOUNDARY--\n";
  auto out = Al2023UserData(Input(custom));
  ASSERT_TRUE(out.ok()) << out.status();
  auto parts = SplitUserData(*out);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].content_type(), "text/x-shellscript");
  EXPECT_THAT((*parts)[0].body, HasSubstr("echo hi"));
  EXPECT_EQ((*parts)[2].content_type(), "application/node.eks.aws");
  auto summary = ParseAl2023UserData(*out);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_TRUE(summary->feature_gates.at("FastImagePull"));
  EXPECT_EQ(summary->cluster_name, "llm");
  EXPECT_EQ(summary->api_server_endpoint, "https://10.0.0.1:6443");
  EXPECT_EQ(summary->max_pods, 58);
  EXPECT_EQ(summary->scripts, 1);
  EXPECT_EQ(summary->labels.size(), 2u);
  ASSERT_EQ(summary->taints.size(), 1u);
  EXPECT_EQ(summary->taints[0].ToString(), "nvidia.com/gpu:NoSchedule");
}

TEST(UserDataTest, BareNodeConfigAndScriptsAreWrapped) {
  auto node_config = Al2023UserData(Input("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  featureGates:\n    FastImagePull: true\n"));
  ASSERT_TRUE(node_config.ok()) << node_config.status();
  EXPECT_TRUE(ParseAl2023UserData(*node_config)->feature_gates.at("FastImagePull"));
  auto script = Al2023UserData(Input("#!/bin/sh\ntouch /tmp/x\n"));
  ASSERT_TRUE(script.ok());
  EXPECT_EQ(ParseAl2023UserData(*script)->scripts, 1);
  auto none = Al2023UserData(Input(""));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(SplitUserData(*none)->size(), 1u);
}

TEST(UserDataTest, MalformedDocumentsAreRefusedByName) {
  EXPECT_THAT(Al2023UserData(Input("MIME-Version: 1.0\nContent-Type: multipart/mixed\n\n--x\n")).status().message(),
              HasSubstr("boundary"));
  EXPECT_THAT(Al2023UserData(Input("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nx\n"))
                  .status().message(),
              HasSubstr("does not end with \"--b--\""));
  EXPECT_THAT(SplitUserData("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nno colon here\n\nx\n--b--\n")
                  .status().message(),
              HasSubstr("has no ':'"));
  const std::string bad_gate =
      "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  featureGates:\n    FastImagePull: sometimes\n";
  EXPECT_THAT(ParseAl2023UserData(bad_gate).status().message(), HasSubstr("featureGates.FastImagePull"));
}

TEST(UserDataTest, APartContainingTheBoundaryGetsAnotherOne) {
  // Found by the user_data fuzzer: a script that prints "--//" must not end our document early.
  auto out = Al2023UserData(Input("#!/bin/sh\necho '\n--//\n'\n"));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(*out, HasSubstr("boundary=\"//gpufleet-1\""));
  auto parts = SplitUserData(*out);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_THAT((*parts)[0].body, HasSubstr("--//"));
  EXPECT_EQ(ParseAl2023UserData(*out)->cluster_name, "llm");
}

}  // namespace
}  // namespace gpufleet::cloud::aws
