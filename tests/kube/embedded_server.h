// Test support for the kube client: the embedded API server on a free loopback port (data in
// the test's temp dir, not fsynced) and the RestConfig of the admin kubeconfig it wrote.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "apiserver/server.h"
#include "core/status.h"
#include "kube/kubeconfig.h"

namespace gpufleet::kube::testing {

using Intercept = std::function<std::optional<apiserver::HttpResponse>(const apiserver::HttpRequest&)>;

struct EmbeddedServer {
  std::unique_ptr<apiserver::ApiServer> server;
  RestConfig config;
};

// Starts a server in <TempDir>/<prefix>_<current test name> (emptied first). `intercept` sees
// every authenticated request and may answer it instead (fault injection).
inline Result<EmbeddedServer> StartEmbeddedServer(const std::string& prefix, Intercept intercept = {}) {
  auto dir = std::filesystem::path(::testing::TempDir()) /
             (prefix + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  apiserver::ApiServer::Options o;
  o.data_dir = dir;
  o.listen = "127.0.0.1:0";
  o.durable = false;
  o.intercept = std::move(intercept);
  EmbeddedServer out;
  GF_ASSIGN_OR_RETURN(out.server, apiserver::ApiServer::Start(o, core::RealClock()));
  GF_ASSIGN_OR_RETURN(out.config, LoadKubeconfig({.paths = {out.server->kubeconfig_path()}}));
  return out;
}

// A watch answer carrying one ERROR event with a 410 Expired Status, as kube-apiserver sends
// when the requested resourceVersion is older than its window.
inline apiserver::HttpResponse ExpiredWatch() {
  apiserver::HttpResponse expired;
  expired.stream = [](apiserver::StreamIo& io) {
    io.write(R"js({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)js"
             R"js("message":"too old resource version: 1 (20)","reason":"Expired","code":410}})js"
             "\n");
  };
  return expired;
}

}  // namespace gpufleet::kube::testing
