#include "cloud/aws/session.h"

namespace gpufleet::cloud::aws {

namespace {

std::string DefaultEndpoint(std::string_view service, const std::string& region) {
  const std::string suffix = region.rfind("cn-", 0) == 0 ? ".amazonaws.com.cn" : ".amazonaws.com";
  return "https://" + std::string(service) + "." + region + suffix;
}

}  // namespace

Result<std::unique_ptr<Session>> NewSession(SessionOptions options) {
  auto session = std::make_unique<Session>();
  GF_ASSIGN_OR_RETURN(session->region, ResolveRegion(options.env, options.profile, options.region));
  session->ec2_endpoint =
      ResolveEndpoint(options.env, options.profile, "EC2", options.endpoint, DefaultEndpoint("ec2", session->region));
  session->ssm_endpoint =
      ResolveEndpoint(options.env, options.profile, "SSM", options.endpoint, DefaultEndpoint("ssm", session->region));
  session->http = NewCurlHttpClient();
  session->credentials = NewDefaultCredentialsChain(ChainOptions{.env = options.env, .http = session->http.get(),
                                                                 .clock = options.clock, .profile = options.profile,
                                                                 .region = session->region});
  auto client = [&](const char* service, const std::string& endpoint) {
    return std::make_unique<ApiClient>(ApiClientOptions{.service = service, .region = session->region,
                                                        .endpoint = endpoint, .credentials = session->credentials.get(),
                                                        .http = session->http.get(), .clock = options.clock});
  };
  session->ec2 = client("ec2", session->ec2_endpoint);
  session->ssm = client("ssm", session->ssm_endpoint);
  return session;
}

}  // namespace gpufleet::cloud::aws
