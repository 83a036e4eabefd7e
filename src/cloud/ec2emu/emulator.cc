#include "cloud/ec2emu/emulator.h"

#include <sys/stat.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <variant>

#include <openssl/rand.h>

#include "apiserver/http_server.h"
#include "cloud/aws/aws_config.h"
#include "cloud/aws/sigv4.h"
#include "core/log.h"

namespace gpufleet::cloud::ec2emu {

namespace {

const core::log::Logger kLog("ec2emu");

std::string RandomString(const char* alphabet, size_t n) {
  const std::string_view chars(alphabet);
  std::string out;
  unsigned char buf[64];
  while (out.size() < n) {
    if (RAND_bytes(buf, sizeof(buf)) != 1) break;
    for (unsigned char b : buf) {
      if (out.size() < n && b < 256 - 256 % chars.size()) out += chars[b % chars.size()];
    }
  }
  return out;
}

apiserver::HttpResponse ToHttp(const Reply& reply) {
  apiserver::HttpResponse r;
  r.status = reply.http_status;
  r.content_type = reply.content_type;
  r.body = reply.body;
  return r;
}

}  // namespace

Result<std::unique_ptr<Emulator>> Emulator::Start(EmulatorOptions options) {
  if (options.data_dir.empty()) return InvalidArgumentError("--data-dir is required");
  auto emulator = std::unique_ptr<Emulator>(new Emulator(std::move(options)));
  Emulator& e = *emulator;
  e.clock_ = e.options_.clock != nullptr ? e.options_.clock : &core::RealClock();
  std::error_code ec;
  std::filesystem::create_directories(e.options_.data_dir, ec);
  if (ec) return UnavailableError("--data-dir \"" + e.options_.data_dir + "\": " + ec.message());
  ::chmod(e.options_.data_dir.c_str(), 0700);
  GF_RETURN_IF_ERROR(e.LoadOrWriteCredentials().status());
  GF_ASSIGN_OR_RETURN(auto catalog, Catalog::Load(e.options_.instance_data, e.options_.region));
  GF_ASSIGN_OR_RETURN(auto store, StateStore::Open(e.options_.data_dir + "/ec2.db"));
  e.service_ = std::make_unique<Ec2Service>(std::move(catalog), std::move(store), *e.clock_, e.options_.service);
  GF_RETURN_IF_ERROR(e.service_->SeedIfEmpty());
  e.faults_ = e.options_.faults;

  apiserver::HttpServer::Options http;
  http.listen = e.options_.listen;
  http.plain_http = true;
  http.max_body_bytes = 1 << 20;
  auto handler = [&e](apiserver::HttpRequest& request) { return e.Serve(request); };
  auto accept_all = [](const apiserver::HttpRequest&, X509*) -> Result<std::string> { return std::string("aws"); };
  GF_ASSIGN_OR_RETURN(e.server_, apiserver::HttpServer::Start(http, handler, accept_all));
  e.loop_ = std::jthread([&e](std::stop_token stop) { e.Loop(stop); });
  kLog.Info("EC2 emulator serving", {{"endpoint", e.endpoint()}, {"region", e.options_.region},
                                     {"credentials", e.credentials_file_}});
  return emulator;
}

apiserver::HttpResponse Emulator::Serve(apiserver::HttpRequest& request) {
  const std::string_view amz_target = request.Header("x-amz-target");
  const bool ssm = amz_target.rfind("AmazonSSM.", 0) == 0;
  // EC2 parameters come from the query and, for POST, the form body; parsed once.
  FormParams params;
  if (!ssm) {
    params.insert(request.query.begin(), request.query.end());
    if (request.method == "POST") {
      for (auto& [k, v] : apiserver::ParseQuery(request.body)) params[k] = v;
    }
  }
  // Faults first: a throttled or failing endpoint answers before it reads the request.
  std::chrono::milliseconds latency{0};
  std::optional<Reply> injected;
  {
    std::lock_guard lock(mu_);
    std::string action(ssm ? amz_target.substr(10) : "");
    if (auto a = params.find("Action"); a != params.end()) action = a->second;
    if (faults_.AppliesTo(action)) {
      ++calls_;
      latency = faults_.latency;
      const std::string id = service_->NewRequestId();
      if (faults_.server_errors_next > 0) {
        --faults_.server_errors_next;
        injected = ssm ? Reply{500, "application/x-amz-json-1.1", R"({"__type":"InternalServerError","message":"injected"})"}
                       : Reply{500, "text/xml;charset=UTF-8",
                               ErrorXml({500, "InternalError", "An internal error has occurred"}, id)};
      } else if (faults_.throttle_next > 0 || (faults_.throttle_every > 0 && calls_ % faults_.throttle_every == 0)) {
        if (faults_.throttle_next > 0) --faults_.throttle_next;
        injected = ssm ? Reply{400, "application/x-amz-json-1.1", R"({"__type":"ThrottlingException","message":"Rate exceeded"})"}
                       : Reply{503, "text/xml;charset=UTF-8", ErrorXml({503, "RequestLimitExceeded", "Request limit exceeded."}, id)};
      }
    }
  }
  if (latency.count() > 0) std::this_thread::sleep_for(latency);
  if (injected) return ToHttp(*injected);

  aws::ReceivedRequest received{request.method, request.target, &request.headers, request.body};
  auto verified = aws::VerifyRequest(
      received,
      [this](std::string_view key) -> std::optional<std::string> {
        auto it = secrets_.find(key);
        return it != secrets_.end() ? it->second : secret_;
      },
      ssm ? "ssm" : "ec2", clock_->Now());
  std::lock_guard lock(mu_);
  const std::string request_id = service_->NewRequestId();
  if (auto* failure = std::get_if<aws::VerifyFailure>(&verified)) {
    kLog.Info("request refused", {{"reason", failure->message}});
    if (ssm) {
      const bool bad_signature = failure->error == aws::VerifyError::kSignatureMismatch;
      return ToHttp(Reply{400, "application/x-amz-json-1.1",
                          nlohmann::json{{"__type", bad_signature ? "InvalidSignatureException" : "UnrecognizedClientException"},
                                         {"message", failure->message}}.dump()});
    }
    if (failure->error == aws::VerifyError::kRequestExpired) {
      return ToHttp(Reply{400, "text/xml;charset=UTF-8", ErrorXml({400, "RequestExpired", failure->message}, request_id)});
    }
    return ToHttp(Reply{401, "text/xml;charset=UTF-8",
                        ErrorXml({401, "AuthFailure", "AWS was not able to validate the provided access credentials"},
                                 request_id)});
  }
  const auto& caller = std::get<aws::VerifiedCaller>(verified);
  if (caller.region != options_.region) {
    const std::string message = "Credential should be scoped to a valid region, not '" + caller.region +
                                "'. This endpoint serves " + options_.region + ".";
    if (ssm) {
      return ToHttp(Reply{400, "application/x-amz-json-1.1",
                          nlohmann::json{{"__type", "InvalidSignatureException"}, {"message", message}}.dump()});
    }
    return ToHttp(Reply{401, "text/xml;charset=UTF-8", ErrorXml({401, "AuthFailure", message}, request_id)});
  }
  if (ssm) return ToHttp(service_->HandleSsm(amz_target, request.body));
  return ToHttp(service_->HandleEc2(params, faults_));
}

Emulator::~Emulator() { Stop(); }

void Emulator::Stop() {
  if (loop_.joinable()) {
    loop_.request_stop();
    loop_.join();
  }
  if (server_) server_->Stop();
}

uint16_t Emulator::port() const { return server_ ? server_->port() : 0; }

std::string Emulator::endpoint() const {
  std::string host = options_.listen.substr(0, options_.listen.rfind(':'));
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  return "http://" + host + ":" + std::to_string(port());
}

void Emulator::SetFaults(FaultConfig faults) {
  std::lock_guard lock(mu_);
  faults_ = std::move(faults);
}

Result<bool> Emulator::LoadOrWriteCredentials() {
  credentials_file_ = options_.data_dir + "/credentials";
  GF_ASSIGN_OR_RETURN(auto text, aws::ReadOptionalFile(credentials_file_));
  bool written = false;
  if (!text) {
    const std::string key = "AKIA" + RandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
    const std::string secret =
        RandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
    const std::string tmp = credentials_file_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << "# Credentials for the gpufleet EC2 emulator (any access key id signed with this secret\n"
             "# is accepted). Use: AWS_SHARED_CREDENTIALS_FILE=" << credentials_file_ << "\n"
          << "[default]\naws_access_key_id = " << key << "\naws_secret_access_key = " << secret << "\n";
      if (!out) return UnavailableError("writing \"" + tmp + "\" failed");
    }
    ::chmod(tmp.c_str(), 0600);
    std::error_code ec;
    std::filesystem::rename(tmp, credentials_file_, ec);
    if (ec) return UnavailableError("writing \"" + credentials_file_ + "\": " + ec.message());
    GF_ASSIGN_OR_RETURN(text, aws::ReadOptionalFile(credentials_file_));
    written = true;
  }
  GF_ASSIGN_OR_RETURN(auto ini, aws::ParseIni(text.value_or(""), credentials_file_));
  for (const auto& section : ini.sections) {
    auto k = section.values.find("aws_access_key_id");
    auto s = section.values.find("aws_secret_access_key");
    if (k == section.values.end() || s == section.values.end()) continue;
    secrets_[k->second] = s->second;
    if (section.name == "default" || secret_.empty()) {
      access_key_id_ = k->second;
      secret_ = s->second;
    }
  }
  if (secret_.empty()) {
    return InvalidArgumentError("\"" + credentials_file_ + "\" holds no aws_access_key_id / aws_secret_access_key pair");
  }
  return written;
}

std::vector<nlohmann::json> Emulator::RunningInstances() {
  std::lock_guard lock(mu_);
  return service_->InstancesIn("running");
}

void Emulator::Tick() {
  std::vector<nlohmann::json> booted;
  {
    std::lock_guard lock(mu_);
    booted = service_->Tick();
  }
  for (const auto& instance : booted) {
    kLog.Info("instance running", {{"instance", instance.value("instanceId", "")},
                                   {"type", instance.value("instanceType", "")},
                                   {"zone", instance["placement"].value("availabilityZone", "")}});
    if (options_.on_running) options_.on_running(instance);
  }
}

void Emulator::Loop(std::stop_token stop) {
  // The lifecycle runs on real time slices; FakeClock tests call Tick() themselves.
  std::mutex wait_mu;
  std::condition_variable_any wake;
  while (!stop.stop_requested()) {
    Tick();
    std::unique_lock lock(wait_mu);
    wake.wait_for(lock, stop, options_.tick, [] { return false; });
  }
}

}  // namespace gpufleet::cloud::ec2emu
