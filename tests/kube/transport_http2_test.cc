// HTTP/2: the embedded API server speaks HTTP/1.1, so the transport's ALPN negotiation is
// checked against nghttpd (Debian's nghttp2-server), a real HTTP/2 server, on loopback with a
// throwaway PKI. Real API servers (EKS) offer h2 the same way.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "apiserver/pki.h"
#include "core/clock.h"
#include "kube/transport.h"
#include "testing/status_matchers.h"

extern char** environ;

namespace gpufleet::kube {
namespace {

namespace fs = std::filesystem;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

class TransportHttp2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* nghttpd = "/usr/sbin/nghttpd";
    if (!fs::exists(nghttpd)) GTEST_SKIP() << "nghttpd (nghttp2-server) is not installed; scripts/install-deps.sh installs it";
    dir_ = fs::temp_directory_path() / ("gf-h2-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    auto pki = apiserver::LoadOrCreatePki(dir_, {});
    ASSERT_TRUE(pki.ok()) << pki.status();
    ca_pem_ = pki->ca_cert_pem;
    Write(dir_ / "server.crt", pki->server_cert_pem);
    Write(dir_ / "server.key", pki->server_key_pem);
    Write(dir_ / "htdocs/api/v1/namespaces/default", R"({"kind":"Namespace","metadata":{"name":"default"}})");

    port_ = FreePort();
    const std::string htdocs = "--htdocs=" + (dir_ / "htdocs").string();
    const std::string port = std::to_string(port_), key = (dir_ / "server.key").string(),
                      cert = (dir_ / "server.crt").string();
    const char* argv[] = {nghttpd, "--address=127.0.0.1", htdocs.c_str(), port.c_str(), key.c_str(), cert.c_str(), nullptr};
    ASSERT_EQ(posix_spawn(&pid_, nghttpd, nullptr, nullptr, const_cast<char**>(argv), environ), 0);
    for (int i = 0; i < 100 && !Accepts(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(Accepts(port_)) << "nghttpd did not start on port " << port_;
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  RestConfig Config() const {
    RestConfig config;
    config.server = "https://127.0.0.1:" + std::to_string(port_);
    config.ca_pem = ca_pem_;
    config.source = "test";
    return config;
  }

  fs::path dir_;
  std::string ca_pem_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(TransportHttp2Test, NegotiatesHttp2WhenTheServerOffersIt) {
  auto transport = Transport::Create(Config(), {}, core::RealClock(), nullptr);
  ASSERT_TRUE(transport.ok()) << transport.status();
  GF_ASSERT_OK_AND_ASSIGN(Response r, (*transport)->Send({.path = "/api/v1/namespaces/default"}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.http_version, 20);
  EXPECT_NE(r.body.find("\"default\""), std::string::npos) << r.body;
  // A second request reuses the pooled handle and its HTTP/2 connection.
  GF_ASSERT_OK_AND_ASSIGN(Response again, (*transport)->Send({.path = "/api/v1/namespaces/default"}));
  EXPECT_EQ(again.http_version, 20);
  GF_ASSERT_OK_AND_ASSIGN(Response missing, (*transport)->Send({.path = "/api/v1/namespaces/gone"}));
  EXPECT_EQ(missing.status, 404);
}

}  // namespace
}  // namespace gpufleet::kube
