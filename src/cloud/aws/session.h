// Session: everything a gpufleet process needs to call AWS, resolved the way the aws CLI and the
// SDKs resolve it: region (--region, AWS_REGION, AWS_DEFAULT_REGION, the profile), endpoints
// (--aws-endpoint, AWS_ENDPOINT_URL_EC2 / _SSM, AWS_ENDPOINT_URL, the profile, else
// https://ec2.REGION.amazonaws.com), credentials (the default chain), one HTTP client shared by
// the EC2 and SSM clients. Pointing --aws-endpoint at `gpufleet ec2-emulator` runs the same code
// against the emulator.
#pragma once

#include <memory>
#include <string>

#include "cloud/aws/api_client.h"
#include "cloud/aws/aws_config.h"
#include "cloud/aws/credentials.h"
#include "cloud/aws/http_client.h"

namespace gpufleet::cloud::aws {

struct SessionOptions {
  std::string region;    // --region
  std::string endpoint;  // --aws-endpoint: EC2 and SSM both (the emulator serves both)
  std::string profile;   // --profile
  Environment env;
  core::Clock* clock = nullptr;
};

struct Session {
  std::string region, ec2_endpoint, ssm_endpoint;
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<CredentialsProvider> credentials;
  std::unique_ptr<ApiClient> ec2, ssm;
};

// Fails (kFailedPrecondition) only when no region can be found; credentials are fetched lazily,
// on the first call.
Result<std::unique_ptr<Session>> NewSession(SessionOptions options);

}  // namespace gpufleet::cloud::aws
