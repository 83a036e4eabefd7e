// Manifests, indexes and configs from untrusted registry bytes, platform selection, and the
// serialised form pushed for SOCI indexes.
#include "image/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gpufleet::image {
namespace {

using ::testing::HasSubstr;

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');

std::string ManifestJson(const std::string& layer_type = std::string(media_type::kDockerLayerGzip)) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" + kA + R"(","size":1469},
    "layers":[{"mediaType":")" + layer_type + R"(","digest":")" + kB + R"(","size":29533422}]})";
}

TEST(Manifest, DockerSchema2AndOci) {
  auto m = ParseManifest(ManifestJson(), "");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->media_type, media_type::kDockerManifest);
  EXPECT_EQ(m->config.digest, kA);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].size, 29533422);
  EXPECT_EQ(*LayerCompressionOf(m->layers[0].media_type), LayerCompression::kGzip);
  // An OCI manifest without mediaType takes the Content-Type.
  auto oci = ParseManifest(R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + kA +
                               R"(","size":2},"layers":[],"annotations":{"a":"b"}})",
                           "application/vnd.oci.image.manifest.v1+json; charset=utf-8");
  ASSERT_TRUE(oci.ok()) << oci.status();
  EXPECT_EQ(oci->media_type, media_type::kOciManifest);
  EXPECT_EQ(oci->annotations.at("a"), "b");
  // Round trip of what gpufleet writes.
  auto again = ParseManifest(SerializeManifest(*m), "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->layers[0].digest, kB);
}

TEST(Manifest, BadInputNamesTheField) {
  EXPECT_THAT(ParseManifest("[]", "").status().message(), HasSubstr("not a JSON object"));
  EXPECT_THAT(ParseManifest(R"({"schemaVersion":1,"fsLayers":[]})", "").status().message(), HasSubstr("schema 1"));
  std::string bad = ManifestJson();
  bad.replace(bad.find(kB), kB.size(), "sha256:xyz");
  EXPECT_THAT(ParseManifest(bad, "").status().message(), HasSubstr("layers[0].digest"));
  EXPECT_THAT(ParseManifest(R"({"schemaVersion":2,"layers":[]})", media_type::kOciManifest).status().message(), HasSubstr("config"));
  EXPECT_THAT(ParseManifest(ManifestJson(), "").ok(), true);
  EXPECT_THAT(LayerCompressionOf("application/vnd.cncf.helm.chart.content.v1.tar+gzip").status().message(),
              HasSubstr("not an image layer"));
  EXPECT_THAT(ParseManifest(std::string(5 << 20, ' '), "").status().message(), HasSubstr("4 MiB"));
}

TEST(ImageIndex, SelectsThePlatform) {
  const std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kA + R"(","size":10,"platform":{"os":"linux","architecture":"amd64"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kB + R"(","size":10,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kB + R"(","size":10,"platform":{"os":"unknown","architecture":"unknown"}}]})";
  auto parsed = ParseImageIndex(index, "");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(SelectPlatform(*parsed, Platform{"linux", "amd64", ""})->digest, kA);
  EXPECT_EQ(SelectPlatform(*parsed, Platform{"linux", "arm64", ""})->digest, kB);
  EXPECT_EQ(SelectPlatform(*parsed, *ParsePlatform("linux/arm64/v8"))->digest, kB);
  auto none = SelectPlatform(*parsed, Platform{"linux", "s390x", ""});
  EXPECT_THAT(none.status().message(), HasSubstr("it has: linux/amd64, linux/arm64/v8"));
  EXPECT_FALSE(ParsePlatform("linux").ok());
}

TEST(ImageConfig, DiffIds) {
  auto c = ParseImageConfig(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" + kA + R"("]}})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->diff_ids, std::vector<std::string>{kA});
  EXPECT_THAT(ParseImageConfig(R"({"rootfs":{"diff_ids":["md5:x"]}})").status().message(), HasSubstr("rootfs.diff_ids[0]"));
}

}  // namespace
}  // namespace gpufleet::image
