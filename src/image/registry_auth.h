// Registry authentication as docker, containerd and skopeo do it:
//  - credentials from auth files: --authfile, $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/
//    auth.json, $DOCKER_CONFIG/config.json, ~/.docker/config.json ("auths" entries keyed by host,
//    "https://host", or "https://index.docker.io/v1/" for Docker Hub; "auth" is base64
//    "user:password", or "username"/"password", or "identitytoken");
//  - the WWW-Authenticate challenge: Basic (send the credentials) or Bearer (fetch a token from
//    the realm for the service and scope, with the credentials if any, anonymously otherwise).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gpufleet::image {

struct Challenge {
  std::string scheme;                         // lower-case: "bearer", "basic"
  std::map<std::string, std::string> params;  // realm, service, scope, error ...
};

// Parses a WWW-Authenticate value (one or several challenges, quoted or token parameters).
// Unparseable input gives the challenges parsed before it.
std::vector<Challenge> ParseChallenges(std::string_view header);

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;  // an OAuth2 refresh token (docker login with a token)
};

// The auth files searched, in order, when no --authfile is given.
std::vector<std::string> DefaultAuthFiles();

// Credentials for `registry` ("host[:port]") from the first file in `files` that has an entry
// for it. nullopt when none has. Errors: a file that exists but does not parse, or an entry whose
// "auth" is not base64 "user:password" — naming the file and the entry, never the secret.
Result<std::optional<Credentials>> LookupCredentials(std::string_view registry, const std::vector<std::string>& files);

// The token of a Bearer realm's JSON answer ("token", else "access_token").
Result<std::string> ParseTokenResponse(std::string_view body);

}  // namespace gpufleet::image
