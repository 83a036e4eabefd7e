// Emulator: an EC2 + SSM endpoint on loopback that real clients (the aws CLI, boto3, our own
// provider) talk to over the real wire protocol. It verifies SigV4 signatures against the secret
// in DIR/credentials (an AWS shared-credentials file written on first start; any access key id
// is accepted when its signature was made with that secret), keeps its state in DIR/ec2.db, and
// moves instances pending -> running on a background loop, calling on_running for each instance
// that finished booting (the embedded cluster starts a simulated node there).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "apiserver/http_server.h"
#include "cloud/ec2emu/faults.h"
#include "cloud/ec2emu/service.h"
#include "core/clock.h"
#include "core/status.h"


namespace gpufleet::cloud::ec2emu {

struct EmulatorOptions {
  std::string data_dir;                 // state and credentials; created when missing
  std::string listen = "127.0.0.1:0";  // loopback only; port 0 picks one
  std::string region = "us-west-2";
  std::string instance_data;            // data/aws-instance-types.json
  ServiceOptions service;
  FaultConfig faults;
  std::chrono::milliseconds tick{100};  // how often the lifecycle loop runs
  core::Clock* clock = nullptr;         // default: the real clock
  // Called (on the lifecycle thread, without the emulator's lock) with each instance, in its
  // wire shape plus _userData, when it becomes running.
  std::function<void(const nlohmann::json& instance)> on_running;
};

class Emulator {
 public:
  static Result<std::unique_ptr<Emulator>> Start(EmulatorOptions options);
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  uint16_t port() const;
  std::string endpoint() const;  // http://127.0.0.1:PORT
  const std::string& region() const { return options_.region; }
  const std::string& credentials_file() const { return credentials_file_; }
  const std::string& access_key_id() const { return access_key_id_; }
  const std::string& secret_access_key() const { return secret_; }

  void SetFaults(FaultConfig faults);
  // The running instances, in the boot hook's shape: what the embedded cluster's simulated
  // nodes reconcile against (after a restart the hook does not fire again).
  std::vector<nlohmann::json> RunningInstances();
  // Runs one lifecycle step now (tests driving a FakeClock).
  void Tick();
  void Stop();

 private:
  explicit Emulator(EmulatorOptions options) : options_(std::move(options)) {}
  Result<bool> LoadOrWriteCredentials();
  // One request: faults, SigV4, then the EC2 or SSM service.
  apiserver::HttpResponse Serve(apiserver::HttpRequest& request);
  void Loop(std::stop_token stop);

  EmulatorOptions options_;
  core::Clock* clock_ = nullptr;
  std::string credentials_file_, access_key_id_, secret_;
  std::map<std::string, std::string, std::less<>> secrets_;  // access key id -> secret (file's)
  std::mutex mu_;                       // serialises the service and the fault counters
  std::unique_ptr<Ec2Service> service_;
  FaultConfig faults_;
  long calls_ = 0;
  std::unique_ptr<apiserver::HttpServer> server_;
  std::jthread loop_;
};

}  // namespace gpufleet::cloud::ec2emu
