// AWS credentials: the default chain the aws CLI and SDKs use, so gpufleet finds credentials
// wherever it runs (a laptop with ~/.aws, an EKS pod with IRSA or Pod Identity, an EC2 instance
// profile) without flags of its own.
//
// Chain order (the AWS SDKs'): the first source that is configured provides the credentials, and
// the chain keeps using it for every refresh:
//   1. environment    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. Skipped when a
//                     profile is named explicitly (ChainOptions::profile, i.e. --profile), as the
//                     aws CLI does; AWS_PROFILE does not skip it.
//   2. web-identity   AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME), each
//                     falling back to the profile's web_identity_token_file / role_arn /
//                     role_session_name (botocore mixes them the same way): an unsigned
//                     STS AssumeRoleWithWebIdentity at https://sts.REGION.amazonaws.com
//                     (https://sts.amazonaws.com without a region; AWS_ENDPOINT_URL_STS and
//                     AWS_ENDPOINT_URL override). The token file is re-read on every refresh.
//   3. shared-files   the profile's aws_access_key_id / aws_secret_access_key / aws_session_token,
//                     credentials file over config file (aws_config.h). Profiles that assume a
//                     role from source_profile or credential_source, use IAM Identity Center (sso_*)
//                     or credential_process are refused with kUnimplemented rather than skipped.
//   4. container      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (against http://169.254.170.2) or
//                     AWS_CONTAINER_CREDENTIALS_FULL_URI (EKS Pod Identity, ECS); the Authorization
//                     header from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read on every fetch)
//                     or AWS_CONTAINER_AUTHORIZATION_TOKEN. Over http the FULL_URI host must be
//                     loopback, 169.254.170.2, 169.254.170.23 or fd00:ec2::23.
//   5. imds           IMDSv2 at http://169.254.169.254 (AWS_EC2_METADATA_SERVICE_ENDPOINT, or the
//                     profile's ec2_metadata_service_endpoint; ..._ENDPOINT_MODE=IPv6 for
//                     [fd00:ec2::254]); off with AWS_EC2_METADATA_DISABLED=true. 1 s timeouts, one
//                     retry. Falls back to IMDSv1 only when the token request gets 403/404/405 and
//                     AWS_EC2_METADATA_V1_DISABLED is not true. Unreachable, or no instance
//                     profile: skipped.
// A source that is not configured is skipped; one that is configured but broken (token file
// missing, partial keys, STS refusing the token) is the chain's error, naming the source. When
// every source is skipped the error (kUnauthenticated) lists each with the reason. Messages and
// logs never carry a secret, session token or web identity token.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "cloud/aws/aws_config.h"
#include "cloud/aws/http_client.h"
#include "cloud/aws/sigv4.h"
#include "core/clock.h"
#include "core/status.h"

namespace gpufleet::cloud::aws {

// Temporary credentials are refreshed this long before they expire.
inline constexpr std::chrono::minutes kCredentialsRefreshWindow{5};
// After a refresh (failed, or one that brought credentials already inside the window) the next
// attempt waits this long while the credentials in hand are still valid.
inline constexpr std::chrono::seconds kCredentialsRetryInterval{30};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Credentials valid now. Cached; temporary ones are refreshed kCredentialsRefreshWindow before
  // they expire, and a failed refresh while the cached ones are still valid returns those (with a
  // warning logged). Thread-safe: concurrent callers wait for one fetch.
  virtual Result<Credentials> Get() = 0;
};

struct ChainOptions {
  Environment env;                // injectable so tests never read the real environment or $HOME
  HttpClient* http = nullptr;     // nullptr: a curl client owned by the chain; else must outlive it
  core::Clock* clock = nullptr;   // nullptr: core::RealClock(); else must outlive the chain
  std::string profile;            // --profile: overrides AWS_PROFILE and turns source 1 off
  std::string region;             // --region: picks the STS endpoint (else ResolveRegion's order)
};

// The default chain above. Never fails here: problems surface from Get().
std::unique_ptr<CredentialsProvider> NewDefaultCredentialsChain(ChainOptions options);
// Always returns `c` (its source defaults to "static").
std::unique_ptr<CredentialsProvider> NewStaticCredentials(Credentials c);

}  // namespace gpufleet::cloud::aws
