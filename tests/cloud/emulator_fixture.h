// A running EC2 emulator on loopback plus signed EC2/SSM clients for it, on one FakeClock (the
// emulator verifies signatures against the same clock the clients sign with, and instances move
// pending -> running only when a test advances it and calls Tick()).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "cloud/aws/api_client.h"
#include "cloud/aws/credentials.h"
#include "cloud/aws/http_client.h"
#include "cloud/ec2emu/emulator.h"
#include "core/clock.h"

namespace gpufleet::cloud::testing {

inline std::string InstanceData() { return std::string(GPUFLEET_DATA_DIR) + "/aws-instance-types.json"; }

class EmulatorFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gpufleet-ec2emu-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    StartEmulator();
    http_ = aws::NewCurlHttpClient();
    credentials_ = aws::NewStaticCredentials(
        {.access_key_id = emulator_->access_key_id(), .secret_access_key = emulator_->secret_access_key(), .source = "static"});
    ec2_ = MakeClient("ec2", credentials_.get());
    ssm_ = MakeClient("ssm", credentials_.get());
  }

  void TearDown() override {
    ec2_.reset();
    ssm_.reset();
    emulator_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  virtual ec2emu::EmulatorOptions Options() {
    ec2emu::EmulatorOptions o;
    o.data_dir = dir_;
    o.instance_data = InstanceData();
    o.clock = &clock_;
    o.tick = std::chrono::hours(1);  // the test calls Tick() itself
    o.service.boot_delay = std::chrono::seconds(20);
    o.on_running = [this](const nlohmann::json& instance) {
      std::lock_guard lock(booted_mu_);
      booted_.push_back(instance);
    };
    return o;
  }

  void StartEmulator() {
    auto e = ec2emu::Emulator::Start(Options());
    ASSERT_TRUE(e.ok()) << e.status();
    emulator_ = std::move(*e);
  }

  std::unique_ptr<aws::ApiClient> MakeClient(const std::string& service, aws::CredentialsProvider* credentials,
                                             int max_attempts = 5) {
    return std::make_unique<aws::ApiClient>(aws::ApiClientOptions{
        .service = service, .region = "us-west-2", .endpoint = emulator_->endpoint(), .credentials = credentials,
        .http = http_.get(), .clock = &clock_, .max_attempts = max_attempts, .jitter = [] { return 0.0; }});
  }

  // Moves the emulator's clock past boot and runs its lifecycle step.
  void BootAll() {
    clock_.Advance(std::chrono::seconds(30));
    emulator_->Tick();
  }

  std::vector<nlohmann::json> Booted() {
    std::lock_guard lock(booted_mu_);
    return booted_;
  }

  core::FakeClock clock_{std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now())};
  std::string dir_;
  std::unique_ptr<ec2emu::Emulator> emulator_;
  std::unique_ptr<aws::HttpClient> http_;
  std::unique_ptr<aws::CredentialsProvider> credentials_;
  std::unique_ptr<aws::ApiClient> ec2_, ssm_;
  std::mutex booted_mu_;
  std::vector<nlohmann::json> booted_;
};

}  // namespace gpufleet::cloud::testing
