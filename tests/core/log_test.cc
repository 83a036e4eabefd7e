#include "core/log.h"

#include <gtest/gtest.h>

#include <sstream>

#include "testing/status_matchers.h"

namespace gpufleet::core::log {
namespace {

using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override { Configure(Level::kInfo, Format::kConsole); }
  std::ostringstream out_;
};

TEST_F(LogTest, ConsoleLineHasLevelLoggerMessageAndFields) {
  Configure(Level::kInfo, Format::kConsole, &out_);
  Logger("provisioner").Info("launched instance", {{"nodeclaim", "gpu-abc"}, {"gpus", 1}});
  EXPECT_THAT(out_.str(), HasSubstr("INFO provisioner launched instance nodeclaim=gpu-abc gpus=1"));
}

TEST_F(LogTest, ConsoleQuotesValuesWithSpaces) {
  Configure(Level::kInfo, Format::kConsole, &out_);
  Logger("x").Info("m", {{"reason", "no capacity left"}});
  EXPECT_THAT(out_.str(), HasSubstr("reason=\"no capacity left\""));
}

TEST_F(LogTest, JsonLineIsOneParsableObject) {
  Configure(Level::kDebug, Format::kJson, &out_);
  Logger("agent").Debug("registered", {{"resource", "nvidia.com/gpu"}, {"count", 8}, {"ok", true}});
  auto j = nlohmann::json::parse(out_.str());
  EXPECT_EQ(j["level"], "debug");
  EXPECT_EQ(j["logger"], "agent");
  EXPECT_EQ(j["msg"], "registered");
  EXPECT_EQ(j["count"], 8);
  EXPECT_EQ(j["ok"], true);
  EXPECT_TRUE(j["ts"].get<std::string>().ends_with("Z"));
}

TEST_F(LogTest, SecretsAreNeverWritten) {
  Configure(Level::kInfo, Format::kJson, &out_);
  Logger("aws").Info("signed request", {Secret("secretAccessKey")});
  Configure(Level::kInfo, Format::kConsole, &out_);
  Logger("aws").Info("signed request", {Secret("token")});
  EXPECT_THAT(out_.str(), HasSubstr("<redacted>"));
  EXPECT_THAT(out_.str(), HasSubstr("token=<redacted>"));
}

TEST_F(LogTest, LevelFilters) {
  Configure(Level::kWarn, Format::kConsole, &out_);
  Logger("x").Info("hidden");
  Logger("x").Warn("shown");
  EXPECT_THAT(out_.str(), Not(HasSubstr("hidden")));
  EXPECT_THAT(out_.str(), HasSubstr("WARN x shown"));
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kError));
}

TEST_F(LogTest, StatusFieldRendersCodeAndMessage) {
  Configure(Level::kInfo, Format::kConsole, &out_);
  Logger("x").Error("failed", {{"error", NotFoundError("pod p")}});
  EXPECT_THAT(out_.str(), HasSubstr("error=\"NOT_FOUND: pod p\""));
}

TEST(LogParse, LevelsAndFormats) {
  EXPECT_EQ(*ParseLevel("warning"), Level::kWarn);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_THAT(ParseLevel("verbose"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("verbose")));
  EXPECT_THAT(ParseFormat("xml"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("xml")));
}

}  // namespace
}  // namespace gpufleet::core::log
