#include "apiserver/server.h"

#include "apiserver/api_handler.h"
#include "apiserver/auth.h"
#include "apiserver/http_server.h"
#include "apiserver/kubeconfig_writer.h"
#include "apiserver/pki.h"
#include "apiserver/registry.h"
#include "apiserver/sqlite_store.h"
#include "core/log.h"

namespace gpufleet::apiserver {
namespace {

const core::log::Logger kLog("apiserver");

// Requests anyone may make without credentials (kube-apiserver's system:public-info-viewer).
bool IsPublicHealthCheck(std::string_view path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz";
}

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::Start(const Options& options, core::Clock& clock) {
  auto server = std::unique_ptr<ApiServer>(new ApiServer(options));
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return PermissionDeniedError("cannot create data dir " + options.data_dir.string() + ": " +
                                 ec.message());
  }
  std::filesystem::permissions(options.data_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  SqliteStore::Options store_options;
  store_options.path = (options.data_dir / "state.db").string();
  store_options.durable = options.durable;
  GF_ASSIGN_OR_RETURN(server->store_, SqliteStore::Open(store_options));
  server->registry_ = Registry::WithBuiltins();

  size_t colon = options.listen.rfind(':');
  server->host_ = colon == std::string::npos ? options.listen : options.listen.substr(0, colon);
  PkiOptions pki_options;
  for (const auto& name : options.extra_dns_names) pki_options.dns_names.push_back(name);
  if (server->host_ != "127.0.0.1" && server->host_ != "localhost" && server->host_ != "[::1]" &&
      !server->host_.empty()) {
    std::string host = server->host_;
    if (host.front() == '[') host = host.substr(1, host.size() - 2);
    bool ip = host.find_first_not_of("0123456789.:abcdefABCDEF") == std::string::npos;
    (ip ? pki_options.ip_addresses : pki_options.dns_names).push_back(host);
  }
  pki_options.clock = &clock;
  GF_ASSIGN_OR_RETURN(Pki pki, LoadOrCreatePki(options.data_dir, pki_options));
  GF_ASSIGN_OR_RETURN(server->auth_, Authenticator::Create(options.data_dir));
  GF_ASSIGN_OR_RETURN(auto tokens, LoadOrCreateTokenFile(options.data_dir));
  GF_ASSIGN_OR_RETURN(std::string admin_token, TokenForUser(tokens, kAdminUser));

  server->handler_ = std::make_unique<ApiHandler>(*server->store_, *server->registry_, clock,
                                                  ApiHandler::Options{options.listen, 1800});
  GF_RETURN_IF_ERROR(server->handler_->Bootstrap());

  HttpServer::Options http_options;
  http_options.listen = options.listen;
  http_options.cert_pem = pki.server_cert_pem;
  http_options.key_pem = pki.server_key_pem;
  http_options.client_ca_pem = pki.ca_cert_pem;
  ApiHandler* handler = server->handler_.get();
  Authenticator* auth = server->auth_.get();
  GF_ASSIGN_OR_RETURN(
      server->http_,
      HttpServer::Start(
          http_options,
          [handler, intercept = options.intercept](HttpRequest& r) {
            if (intercept) {
              if (auto injected = intercept(r)) return std::move(*injected);
            }
            return handler->Handle(r);
          },
          [auth](const HttpRequest& r, X509* peer) -> Result<std::string> {
            auto user = auth->Authenticate(r.Header("authorization"), peer);
            if (user.ok()) return user->name;
            if (IsPublicHealthCheck(r.path)) return std::string("system:anonymous");
            return user.status();
          }));

  KubeconfigSpec kubeconfig;
  kubeconfig.server = server->url();
  kubeconfig.cluster_name = options.cluster_name;
  kubeconfig.context_name = options.context_name;
  kubeconfig.user_name = std::string(kAdminUser);
  kubeconfig.ca_cert_pem = pki.ca_cert_pem;
  kubeconfig.token = admin_token;
  GF_RETURN_IF_ERROR(WriteKubeconfig(server->kubeconfig_path(), kubeconfig));
  kLog.Info("ready", {{"url", server->url()}, {"dataDir", options.data_dir.string()}});
  return server;
}

ApiServer::ApiServer(Options options) : options_(std::move(options)) {}

ApiServer::~ApiServer() { Stop(); }

uint16_t ApiServer::port() const { return http_ ? http_->port() : 0; }

std::string ApiServer::url() const {
  std::string host = host_.empty() || host_ == "0.0.0.0" ? "127.0.0.1" : host_;
  return "https://" + host + ":" + std::to_string(port());
}

void ApiServer::Stop() {
  if (http_) http_->Stop();
}

Status ApiServer::PutContainerLog(std::string_view ns, std::string_view pod, std::string_view container,
                                  std::string text) {
  // The key pods/log reads (rest_read.cc); kept outside every resource's prefix, so no watch
  // or list sees it.
  const std::string key = "/_logs/" + std::string(ns) + "/" + std::string(pod) + "/" + std::string(container);
  auto written = store_->Apply(key, [&text](const StoredObject*, int64_t) -> Result<Write> {
    return Write{Write::Kind::kPut, std::move(text)};
  });
  return written.ok() ? OkStatus() : written.status();
}

}  // namespace gpufleet::apiserver
