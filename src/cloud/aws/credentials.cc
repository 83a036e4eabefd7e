// The chain and its cache, and the two sources that need no network (environment, shared files).
// The others are in credentials_sources.cc.
#include "cloud/aws/credentials.h"

#include <mutex>

#include "cloud/aws/credentials_sources.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time_format.h"

namespace gpufleet::cloud::aws {
namespace internal {

std::string Redact(std::string text, std::initializer_list<std::string_view> secrets) {
  for (std::string_view secret : secrets) {
    if (secret.empty()) continue;
    for (size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
      text.replace(pos, secret.size(), "<redacted>");
      pos += 10;
    }
  }
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text;
}

Result<std::string> ReadTokenFile(const std::string& path, std::string_view what) {
  auto content = ReadOptionalFile(path, 64 * 1024);
  if (!content.ok()) return Status(content.status().code(), std::string(what) + ": " + std::string(content.status().message()));
  if (!content->has_value()) {
    return FailedPreconditionError(std::string(what) + " " + path + " does not exist");
  }
  std::string token = std::move(**content);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) {
    token.pop_back();
  }
  size_t start = token.find_first_not_of(" \t\r\n");
  token.erase(0, start == std::string::npos ? token.size() : start);
  if (token.empty()) return FailedPreconditionError(std::string(what) + " " + path + " is empty");
  return token;
}

Result<Credentials> CredentialsFromJson(std::string_view body, std::string_view source) {
  auto parsed = core::ParseJson(body);
  if (!parsed.ok() || !parsed->is_object()) {
    return UnknownError(std::string(source) + " returned a response that is not a JSON object");
  }
  const nlohmann::json& j = *parsed;
  auto field = [&j](const char* name) -> std::string {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  Credentials c;
  c.access_key_id = field("AccessKeyId");
  c.secret_access_key = field("SecretAccessKey");
  c.session_token = field("Token");
  c.source = std::string(source);
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return UnknownError(std::string(source) + " returned no AccessKeyId or SecretAccessKey");
  }
  if (std::string expiration = field("Expiration"); !expiration.empty()) {
    auto t = core::ParseRfc3339(expiration);
    if (!t.ok()) return UnknownError(std::string(source) + " returned an unreadable Expiration \"" + expiration.substr(0, 40) + "\"");
    c.expiration = *t;
  }
  return c;
}

Detection DetectEnvironment(const SourceContext& ctx) {
  if (ctx.profile_explicit) return Skip{"skipped because profile \"" + ctx.profile + "\" was named explicitly"};
  auto key = ctx.env->Get("AWS_ACCESS_KEY_ID");
  auto secret = ctx.env->Get("AWS_SECRET_ACCESS_KEY");
  if (!key && !secret) return Skip{"AWS_ACCESS_KEY_ID is not set"};
  if (!key) return InvalidArgumentError("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  if (!secret) return InvalidArgumentError("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  Credentials c{*key, *secret, ctx.env->Get("AWS_SESSION_TOKEN").value_or(""), std::nullopt, "environment"};
  return Fetcher([c](bool*) -> Result<Credentials> { return c; });
}

Detection DetectSharedFiles(const SourceContext& ctx) {
  const SharedConfig& shared = *ctx.shared;
  const std::string files = shared.credentials_path + " or " + shared.config_path;
  if (!shared.HasProfile(ctx.profile)) {
    if (ctx.profile == "default") return Skip{"profile \"default\" is not in " + files};
    return NotFoundError("profile \"" + ctx.profile + "\" is not in " + files);
  }
  const auto values = shared.Profile(ctx.profile);
  auto has = [&values](const char* key) {
    auto it = values.find(key);
    return it != values.end() && !it->second.empty();
  };
  const std::string profile = "profile \"" + ctx.profile + "\"";
  if (has("role_arn") && (has("source_profile") || has("credential_source"))) {
    return UnimplementedError(profile + " assumes role_arn from " +
                              (has("source_profile") ? "source_profile" : "credential_source") +
                              ", which gpufleet does not support; use web identity, static keys or "
                              "`aws configure export-credentials`");
  }
  const bool key = has("aws_access_key_id"), secret = has("aws_secret_access_key");
  if (key != secret) {
    return InvalidArgumentError(profile + " has " + (key ? "aws_access_key_id" : "aws_secret_access_key") +
                                " but no " + (key ? "aws_secret_access_key" : "aws_access_key_id") + " (" +
                                files + ")");
  }
  if (!key) {
    if (has("sso_session") || has("sso_start_url")) {
      return UnimplementedError(profile + " uses IAM Identity Center (sso_*), which gpufleet does not "
                                          "support; use `aws configure export-credentials --format env`");
    }
    if (has("credential_process")) {
      return UnimplementedError(profile + " uses credential_process, which gpufleet does not support");
    }
    return Skip{profile + " has no aws_access_key_id (" + files + ")"};
  }
  const IniSection* in_credentials = shared.CredentialsProfile(ctx.profile);
  const bool from_credentials_file = in_credentials != nullptr && in_credentials->values.count("aws_access_key_id") > 0;
  Credentials c;
  c.access_key_id = values.at("aws_access_key_id");
  c.secret_access_key = values.at("aws_secret_access_key");
  if (has("aws_session_token")) {
    c.session_token = values.at("aws_session_token");
  } else if (has("aws_security_token")) {
    c.session_token = values.at("aws_security_token");
  }
  c.source = (from_credentials_file ? "shared-credentials-file:" : "shared-config-file:") + ctx.profile;
  return Fetcher([c](bool*) -> Result<Credentials> { return c; });
}

}  // namespace internal

namespace {

const core::log::Logger kLog("aws.credentials");

class StaticProvider final : public CredentialsProvider {
 public:
  explicit StaticProvider(Credentials c) : c_(std::move(c)) {
    if (c_.source.empty()) c_.source = "static";
  }
  Result<Credentials> Get() override { return c_; }

 private:
  Credentials c_;
};

class ChainProvider final : public CredentialsProvider {
 public:
  explicit ChainProvider(ChainOptions options) : options_(std::move(options)) {
    if (options_.http == nullptr) {
      owned_http_ = NewCurlHttpClient();
      options_.http = owned_http_.get();
    }
    if (options_.clock == nullptr) options_.clock = &core::RealClock();
  }

  Result<Credentials> Get() override {
    std::lock_guard lock(mu_);
    const core::TimePoint now = options_.clock->Now();
    if (cached_) {
      if (!cached_->expiration || now < *cached_->expiration - kCredentialsRefreshWindow) return *cached_;
      if (now < *cached_->expiration && now - last_attempt_ < kCredentialsRetryInterval) return *cached_;
    }
    last_attempt_ = now;
    if (!fetcher_) return Resolve();
    bool absent = false;
    Result<Credentials> fresh = fetcher_(&absent);
    if (fresh.ok()) {
      cached_ = *fresh;
      kLog.Debug("refreshed AWS credentials", {{"source", source_}, {"expires", Expiry(*fresh)}});
      return fresh;
    }
    Status error = fresh.status().WithContext("AWS credentials from " + source_);
    if (cached_ && cached_->expiration && now < *cached_->expiration) {
      kLog.Warn("refreshing AWS credentials failed; using the current ones until they expire",
                {{"source", source_}, {"expires", Expiry(*cached_)}, {"error", error}});
      return *cached_;
    }
    return error;
  }

 private:
  static std::string Expiry(const Credentials& c) {
    return c.expiration ? core::FormatRfc3339(*c.expiration) : "never";
  }

  // First use: walk the chain. Holds mu_.
  Result<Credentials> Resolve() {
    internal::SourceContext ctx;
    ctx.env = &options_.env;
    ctx.http = options_.http;
    ctx.clock = options_.clock;
    ctx.profile = ResolveProfileName(options_.env, options_.profile);
    ctx.profile_explicit = !options_.profile.empty();
    ctx.region_flag = options_.region;
    Result<SharedConfig> shared = LoadSharedConfig(options_.env);
    SharedConfig empty;
    ctx.shared = shared.ok() ? &*shared : &empty;

    using Detect = internal::Detection (*)(const internal::SourceContext&);
    static constexpr std::pair<const char*, Detect> kSources[] = {
        {"environment", internal::DetectEnvironment}, {"web-identity", internal::DetectWebIdentity},
        {"shared-files", internal::DetectSharedFiles}, {"container", internal::DetectContainer},
        {"imds", internal::DetectImds}};
    std::string tried;
    for (const auto& [name, detect] : kSources) {
      // The shared files are the third source's configuration: a broken file fails it (and only
      // it, so environment credentials still work next to a file the CLI would also refuse).
      if (std::string_view(name) == "shared-files" && !shared.ok()) {
        return shared.status().WithContext("AWS credentials from shared-files");
      }
      internal::Detection d = detect(ctx);
      if (auto* skip = std::get_if<internal::Skip>(&d)) {
        tried += std::string(tried.empty() ? "" : "; ") + name + ": " + skip->reason;
        continue;
      }
      if (auto* error = std::get_if<Status>(&d)) return error->WithContext(std::string("AWS credentials from ") + name);
      internal::Fetcher fetcher = std::get<internal::Fetcher>(std::move(d));
      bool absent = false;
      Result<Credentials> first = fetcher(&absent);
      if (!first.ok() && absent) {
        tried += std::string(tried.empty() ? "" : "; ") + name + ": " + std::string(first.status().message());
        continue;
      }
      if (!first.ok()) return first.status().WithContext(std::string("AWS credentials from ") + name);
      fetcher_ = std::move(fetcher);
      source_ = name;
      cached_ = *first;
      kLog.Info("using AWS credentials", {{"source", first->source}, {"expires", Expiry(*first)}});
      return first;
    }
    return UnauthenticatedError("no AWS credentials found (" + tried + ")");
  }

  ChainOptions options_;
  std::unique_ptr<HttpClient> owned_http_;
  std::mutex mu_;
  internal::Fetcher fetcher_;          // guarded by mu_; the source in use once resolved
  std::string source_;                 // guarded by mu_
  std::optional<Credentials> cached_;  // guarded by mu_
  core::TimePoint last_attempt_{};     // guarded by mu_
};

}  // namespace

std::unique_ptr<CredentialsProvider> NewDefaultCredentialsChain(ChainOptions options) {
  return std::make_unique<ChainProvider>(std::move(options));
}

std::unique_ptr<CredentialsProvider> NewStaticCredentials(Credentials c) {
  return std::make_unique<StaticProvider>(std::move(c));
}

}  // namespace gpufleet::cloud::aws
