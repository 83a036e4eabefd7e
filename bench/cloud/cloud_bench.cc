// bench/run cloud: the AWS provider against an in-process EC2 emulator on loopback, over HTTP
// with SigV4, and boto3 (bench/cloud/boto3_baseline.py) against the same emulator in the same run.
//   catalog_cold_ms    GetInstanceTypes with nothing cached: DescribeInstanceTypes (all pages),
//                      offerings per zone, spot prices, NodeClass resolution (SSM + describes)
//   catalog_warm_ms    the same with the 5-minute catalog cache warm (resolution only)
//   launch_ms_p50/p95  Create() for one NodeClaim: resolve, choose, launch template, CreateFleet,
//                      DescribeInstances
//   describe_per_sec   DescribeInstances round trips per second, 4 client threads
//   sign_us / verify_us  SigV4 signing and verification of an EC2 request
// Prints one JSON object on the last line.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/bench_util.h"
#include "cloud/aws/ec2.h"
#include "cloud/aws/provider.h"
#include "cloud/aws/sigv4.h"
#include "cloud/ec2emu/emulator.h"
#include "core/log.h"

using namespace gpufleet;
using Clock = std::chrono::steady_clock;

using bench::Ms;
using bench::Percentile;

int main(int argc, char** argv) {
  CLI::App app{"cloud provider + EC2 emulator benchmark"};
  int launches = 40;
  std::string data = std::string(GPUFLEET_DATA_DIR) + "/aws-instance-types.json";
  std::string baseline = std::string(GPUFLEET_SOURCE_DIR) + "/bench/cloud/boto3_baseline.py";
  app.add_option("--launches", launches, "Create() calls to time");
  CLI11_PARSE(app, argc, argv);
  core::log::Configure(core::log::Level::kWarn, core::log::Format::kConsole);

  char tmpl[] = "/tmp/gpufleet-cloud-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  auto emulator = cloud::ec2emu::Emulator::Start({.data_dir = dir, .region = "us-west-2", .instance_data = data});
  if (!emulator.ok()) {
    std::cerr << emulator.status() << "\n";
    return 1;
  }
  auto http = cloud::aws::NewCurlHttpClient();
  auto credentials = cloud::aws::NewStaticCredentials(
      {.access_key_id = (*emulator)->access_key_id(), .secret_access_key = (*emulator)->secret_access_key()});
  auto client = [&](const char* service) {
    return std::make_unique<cloud::aws::ApiClient>(cloud::aws::ApiClientOptions{
        .service = service, .region = "us-west-2", .endpoint = (*emulator)->endpoint(), .credentials = credentials.get(),
        .http = http.get()});
  };
  auto ec2 = client("ec2");
  auto ssm = client("ssm");
  kube::EC2NodeClass nc;
  nc.metadata.name = "gpu";
  core::Labels discovery;
  discovery[core::InternedString("karpenter.sh/discovery")] = core::InternedString("gpufleet");
  nc.spec.subnet_selector_terms = {{.tags = discovery}};
  nc.spec.security_group_selector_terms = {{.tags = discovery}};
  nc.spec.ami_selector_terms = {{.alias = "al2023@latest"}};
  nc.spec.capacity_reservation_selector_terms = {{.tags = discovery}};
  auto prices = cloud::aws::LoadOnDemandPrices(data, "us-west-2");
  auto provider = [&] {
    return std::make_unique<cloud::aws::AwsCloudProvider>(
        *ec2, *ssm,
        cloud::aws::AwsProviderOptions{.cluster = {.endpoint = "https://127.0.0.1:6443"}, .region = "us-west-2",
                                       .node_classes = [&](std::string_view) -> Result<kube::EC2NodeClass> { return nc; },
                                       .on_demand_prices = *prices});
  };

  nlohmann::json out = {{"bench", "cloud"}};
  std::vector<double> cold, warm;
  size_t types = 0;
  for (int i = 0; i < 3; ++i) {
    auto p = provider();
    auto t0 = Clock::now();
    auto list = p->GetInstanceTypes({.name = "gpu"});
    cold.push_back(Ms(Clock::now() - t0));
    if (!list.ok()) {
      std::cerr << list.status() << "\n";
      return 1;
    }
    types = list->size();
    for (int j = 0; j < 3; ++j) {
      t0 = Clock::now();
      (void)p->GetInstanceTypes({.name = "gpu"});
      warm.push_back(Ms(Clock::now() - t0));
    }
  }
  out["instance_types"] = types;
  out["catalog_cold_ms"] = Percentile(cold, 0.5);
  out["catalog_warm_ms"] = Percentile(warm, 0.5);

  auto p = provider();
  std::vector<double> launch;
  for (int i = 0; i < launches; ++i) {
    cloud::NodeClaim claim{.name = "bench-" + std::to_string(i), .uid = "uid-bench-" + std::to_string(i),
                           .nodepool = "gpu", .node_class = {.name = "gpu"}};
    claim.requirements.Add(core::Requirement::In(core::labels::kInstanceType, {"g6e.2xlarge", "g6e.4xlarge", "g5.2xlarge"}));
    claim.requirements.Add(core::Requirement::In("karpenter.sh/capacity-type", {"on-demand"}));
    auto t0 = Clock::now();
    auto m = p->Create(claim);
    launch.push_back(Ms(Clock::now() - t0));
    if (!m.ok()) {
      std::cerr << m.status() << "\n";
      return 1;
    }
  }
  out["launches"] = launches;
  out["launch_ms_p50"] = Percentile(launch, 0.5);
  out["launch_ms_p95"] = Percentile(launch, 0.95);

  std::atomic<long> calls{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  auto t0 = Clock::now();
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      while (!stop) {
        if (cloud::aws::DescribeInstances(*ec2, {}, {{"tag:karpenter.sh/nodeclaim", {"bench-1"}}}).ok()) ++calls;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  stop = true;
  for (auto& t : threads) t.join();
  out["describe_per_sec"] = double(calls) / std::chrono::duration<double>(Clock::now() - t0).count();

  // SigV4 alone.
  cloud::aws::HttpRequest req{.method = "POST", .url = (*emulator)->endpoint() + "/",
                              .headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
                              .body = "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=instance-state-name&Filter.1.Value.1=running"};
  const auto now = std::chrono::system_clock::now();
  const int n = 20000;
  cloud::aws::Credentials creds{.access_key_id = (*emulator)->access_key_id(), .secret_access_key = (*emulator)->secret_access_key()};
  t0 = Clock::now();
  cloud::aws::HttpRequest signed_req;
  for (int i = 0; i < n; ++i) {
    signed_req = req;
    cloud::aws::SignRequest(signed_req, creds, "us-west-2", "ec2", now);
  }
  out["sign_us"] = Ms(Clock::now() - t0) * 1000 / n;
  std::map<std::string, std::string, std::less<>> headers;
  for (auto& [k, v] : signed_req.headers) {
    std::string lower = k;
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    headers[lower] = v;
  }
  cloud::aws::ReceivedRequest received{"POST", "/", &headers, signed_req.body};
  int ok = 0;
  t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto r = cloud::aws::VerifyRequest(received, [&](std::string_view) -> std::optional<std::string> { return creds.secret_access_key; },
                                       "ec2", now);
    ok += std::holds_alternative<cloud::aws::VerifiedCaller>(r);
  }
  out["verify_us"] = Ms(Clock::now() - t0) * 1000 / n;
  if (ok != n) std::cerr << "verification failed " << n - ok << " times\n";

  // boto3 against the same emulator, same run.
  const std::string cmd = "/usr/bin/python3 " + baseline + " " + (*emulator)->endpoint() + " " +
                          (*emulator)->credentials_file() + " " + std::to_string(launches);
  if (FILE* pipe = ::popen(cmd.c_str(), "r")) {
    std::string text;
    char buf[4096];
    while (size_t got = fread(buf, 1, sizeof(buf), pipe)) text.append(buf, got);
    ::pclose(pipe);
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_object()) out["boto3"] = j;
  }
  (*emulator)->Stop();
  std::filesystem::remove_all(dir);
  std::cout << out.dump() << std::endl;
  return 0;
}
