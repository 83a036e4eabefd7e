// Fuzz target for the EC2 emulator's request path: an arbitrary form body (what a client POSTs)
// is decoded, turned into a parameter tree and dispatched to the service, which must answer with
// a response or an AWS error document and never crash, whatever the action and parameters.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "apiserver/http.h"
#include "cloud/ec2emu/service.h"

namespace {

using namespace gpufleet;

cloud::ec2emu::Ec2Service& Service() {
  static core::FakeClock clock;
  static std::unique_ptr<cloud::ec2emu::Ec2Service> service = [] {
    auto catalog = cloud::ec2emu::Catalog::Load(std::string(GPUFLEET_DATA_DIR) + "/aws-instance-types.json", "us-west-2");
    auto store = cloud::ec2emu::StateStore::Open(":memory:");
    if (!catalog.ok() || !store.ok()) __builtin_trap();
    auto s = std::make_unique<cloud::ec2emu::Ec2Service>(std::move(*catalog), std::move(*store), clock,
                                                         cloud::ec2emu::ServiceOptions{});
    if (!s->SeedIfEmpty().ok()) __builtin_trap();
    return s;
  }();
  return *service;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  auto parsed = apiserver::ParseQuery(body);
  cloud::ec2emu::FormParams params(parsed.begin(), parsed.end());
  if (!params.contains("Version")) params["Version"] = "2016-11-15";
  cloud::ec2emu::FaultConfig faults;
  auto reply = Service().HandleEc2(params, faults);
  if (reply.body.empty() || reply.http_status < 200 || reply.http_status > 599) __builtin_trap();
  auto& svc = Service();
  svc.Tick();
  return 0;
}
