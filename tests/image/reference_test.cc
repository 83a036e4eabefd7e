// Image references read as docker and containerd read them, and refused with the part at fault.
#include "image/reference.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gpufleet::image {
namespace {

using ::testing::HasSubstr;

TEST(ImageReference, DockerHubShortNames) {
  auto r = ParseImageReference("ubuntu");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->registry, "docker.io");
  EXPECT_EQ(r->repository, "library/ubuntu");
  EXPECT_EQ(r->tag, "latest");
  EXPECT_EQ(r->ApiHost(), "registry-1.docker.io");
  EXPECT_EQ(r->String(), "docker.io/library/ubuntu:latest");
  r = ParseImageReference("nvidia/cuda:12.4.1-runtime-ubuntu22.04");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->repository, "nvidia/cuda");
  EXPECT_EQ(r->tag, "12.4.1-runtime-ubuntu22.04");
}

TEST(ImageReference, RegistriesPortsAndDigests) {
  const std::string digest = "sha256:" + std::string(64, 'a');
  auto r = ParseImageReference("127.0.0.1:5000/test/multi:v1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->registry, "127.0.0.1:5000");
  EXPECT_EQ(r->repository, "test/multi");
  EXPECT_EQ(r->ManifestReference(), "v1");
  r = ParseImageReference("localhost/app@" + digest);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->registry, "localhost");
  EXPECT_EQ(r->tag, "");
  EXPECT_EQ(r->ManifestReference(), digest);
  r = ParseImageReference("public.ecr.aws/soci/app:v2@" + digest);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tag, "v2");
  EXPECT_EQ(r->digest, digest);
  r = ParseImageReference("localhost:5000/app");  // a port, not a tag
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->registry, "localhost:5000");
  EXPECT_EQ(r->tag, "latest");
}

TEST(ImageReference, BadInputNamesThePart) {
  EXPECT_THAT(ParseImageReference("").status().message(), HasSubstr("empty"));
  EXPECT_THAT(ParseImageReference("Ubuntu").status().message(), HasSubstr("repository component \"Ubuntu\""));
  EXPECT_THAT(ParseImageReference("app:" + std::string(129, 'x')).status().message(), HasSubstr("tag"));
  EXPECT_THAT(ParseImageReference("app@sha256:abc").status().message(), HasSubstr("64 hex"));
  EXPECT_THAT(ParseImageReference("a//b").status().message(), HasSubstr("repository component"));
  EXPECT_THAT(ParseImageReference("reg.io/").status().message(), HasSubstr("no repository"));
}

}  // namespace
}  // namespace gpufleet::image
