#include "apiserver/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <condition_variable>

#include "core/log.h"

namespace gpufleet::apiserver {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

const core::log::Logger kLog("apiserver.http");

std::string StatusJson(int code, std::string_view reason, std::string_view message) {
  nlohmann::json j = {{"kind", "Status"},       {"apiVersion", "v1"},  {"metadata", nlohmann::json::object()},
                      {"status", "Failure"},    {"message", message}, {"reason", reason},
                      {"code", code}};
  return j.dump();
}

Result<std::pair<net::ip::address, uint16_t>> ParseListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError("--listen \"" + listen + "\": expected host:port");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host, ec);
  if (ec) return InvalidArgumentError("--listen \"" + listen + "\": bad address: " + ec.message());
  int port = -1;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
  }
  if (port < 0 || port > 65535) return InvalidArgumentError("--listen \"" + listen + "\": bad port");
  return std::make_pair(addr, uint16_t(port));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

struct HttpServer::Impl {
  Options options;
  Handler handler;
  Authenticate authenticate;
  net::io_context io;
  ssl::context tls{ssl::context::tls_server};
  std::unique_ptr<tcp::acceptor> acceptor;
};

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const Options& options, Handler handler,
                                                      Authenticate authenticate) {
  ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server
  auto server = std::unique_ptr<HttpServer>(new HttpServer());
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;
  impl.options = options;
  impl.handler = std::move(handler);
  impl.authenticate = std::move(authenticate);
  boost::system::error_code ec;
  GF_ASSIGN_OR_RETURN(auto addr, ParseListen(options.listen));
  if (options.plain_http && !addr.first.is_loopback()) {
    return InvalidArgumentError("--listen \"" + options.listen +
                                "\": plain HTTP is only served on a loopback address");
  }
  if (!options.plain_http) {
    impl.tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    impl.tls.use_certificate_chain(net::buffer(options.cert_pem), ec);
    if (ec) return InvalidArgumentError("serving certificate: " + ec.message());
    impl.tls.use_private_key(net::buffer(options.key_pem), ssl::context::pem, ec);
    if (ec) return InvalidArgumentError("serving key: " + ec.message());
    if (!options.client_ca_pem.empty()) {
      impl.tls.add_certificate_authority(net::buffer(options.client_ca_pem), ec);
      if (ec) return InvalidArgumentError("client CA: " + ec.message());
      // Ask for a client certificate but accept connections without one (bearer tokens).
      impl.tls.set_verify_mode(ssl::verify_peer);
      // With client certificates requested, OpenSSL refuses to resume a TLS session (sending an
      // "internal error" alert) unless the context has a session id context; clients that resume
      // sessions on a new connection (libcurl does) then failed intermittently.
      static constexpr unsigned char kSessionContext[] = "gpufleet-apiserver";
      SSL_CTX_set_session_id_context(impl.tls.native_handle(), kSessionContext, sizeof(kSessionContext) - 1);
    }
  }
  tcp::endpoint endpoint(addr.first, addr.second);
  impl.acceptor = std::make_unique<tcp::acceptor>(impl.io);
  impl.acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor->bind(endpoint, ec);
  if (!ec) impl.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError("listen on " + options.listen + ": " + ec.message());
  server->port_ = impl.acceptor->local_endpoint().port();
  server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (stopping_.exchange(true)) {
    if (acceptor_.joinable()) acceptor_.join();
    return;
  }
  if (acceptor_.joinable()) acceptor_.join();
  std::unique_lock lock(mu_);
  for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);  // ends reads, writes and watches
  drained_.wait_for(lock, std::chrono::seconds(10), [&] { return connections_.empty(); });
}

void HttpServer::AcceptLoop() {
  int listen_fd = impl_->acceptor->native_handle();
  while (!stopping_) {
    pollfd p{listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard lock(mu_);
      if (connections_.size() >= impl_->options.max_connections) {
        ::close(fd);
        kLog.Warn("connection refused: too many connections",
                  {{"limit", impl_->options.max_connections}});
        continue;
      }
      connections_.insert(fd);
    }
    std::thread([this, fd] {
      Serve(fd);
      std::lock_guard lock(mu_);
      connections_.erase(fd);
      ::close(fd);
      drained_.notify_all();
    }).detach();
  }
  boost::system::error_code ec;
  impl_->acceptor->close(ec);
}

void HttpServer::Serve(int fd) {
  timeval tv{impl_->options.idle_timeout_seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  // Responses leave as several TLS records (headers, body, chunk framing); with Nagle on, the
  // last small one waits for the client's delayed ACK (tens of ms per request or watch event).
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  net::io_context io;  // sync operations only; each connection owns its context
  tcp::socket socket(io);
  boost::system::error_code ec;
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  // The socket gets its own descriptor; `fd` stays registered for Stop() to shut down.
  socket.assign(local.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), ::dup(fd), ec);
  if (ec) return;
  if (impl_->options.plain_http) {
    ServeRequests(socket, fd, nullptr);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    return;
  }
  beast::ssl_stream<tcp::socket&> stream(socket, impl_->tls);
  stream.handshake(ssl::stream_base::server, ec);
  if (ec) {
    kLog.Debug("TLS handshake failed", {{"error", ec.message()}});
    return;
  }
  ServeRequests(stream, fd, SSL_get0_peer_certificate(stream.native_handle()));
  stream.shutdown(ec);
}

template <typename Stream>
void HttpServer::ServeRequests(Stream& stream, int fd, X509* peer) {
  boost::system::error_code ec;
  beast::flat_buffer buffer;
  while (!stopping_) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(impl_->options.max_body_bytes);
    parser.header_limit(64 * 1024);
    http::read(stream, buffer, parser, ec);
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == ssl::error::stream_truncated) break;
    if (ec == http::error::body_limit) {
      http::response<http::string_body> res{http::status::payload_too_large, 11};
      res.set(http::field::content_type, "application/json");
      res.body() = StatusJson(413, "RequestEntityTooLarge",
                              "the request body is larger than " +
                                  std::to_string(impl_->options.max_body_bytes) + " bytes");
      res.keep_alive(false);
      res.prepare_payload();
      http::write(stream, res, ec);
      break;
    }
    if (ec) break;
    auto& req = parser.get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    request.target = std::string(target);
    size_t q = target.find('?');
    auto path = UrlDecode(target.substr(0, q), false);
    request.path = path ? *path : std::string(target.substr(0, q));
    if (q != std::string_view::npos) request.query = ParseQuery(target.substr(q + 1));
    for (const auto& field : req) {
      request.headers[Lower(std::string_view(field.name_string().data(), field.name_string().size()))] =
          std::string(field.value());
    }
    request.body = std::move(req.body());
    const bool keep_alive = req.keep_alive();

    HttpResponse response;
    auto user = impl_->authenticate(request, peer);
    if (!user.ok()) {
      response.status = 401;
      response.body = StatusJson(401, "Unauthorized", "Unauthorized");
    } else {
      request.user = *user;
      response = impl_->handler(request);
    }

    if (response.stream) {
      http::response<http::empty_body> res{static_cast<http::status>(response.status), 11};
      res.set(http::field::content_type, response.content_type);
      for (const auto& [k, v] : response.headers) res.set(k, v);
      res.chunked(true);
      http::response_serializer<http::empty_body> sr{res};
      http::write_header(stream, sr, ec);
      if (ec) break;
      bool failed = false;
      StreamIo io_fns;
      io_fns.write = [&](std::string_view chunk) {
        if (failed || chunk.empty()) return !failed;
        net::write(stream, http::make_chunk(net::const_buffer(chunk.data(), chunk.size())), ec);
        failed = failed || bool(ec);
        return !failed;
      };
      io_fns.done = [&] {
        if (failed || stopping_) return true;
        pollfd p{fd, POLLIN | POLLRDHUP, 0};
        // Readable during a watch means the client closed (or sent something we ignore).
        return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
      };
      response.stream(io_fns);
      if (failed) break;
      net::write(stream, http::make_chunk_last(), ec);
      if (ec || !keep_alive) break;
      continue;
    }

    http::response<http::string_body> res{static_cast<http::status>(response.status), 11};
    res.set(http::field::content_type, response.content_type);
    for (const auto& [k, v] : response.headers) res.set(k, v);
    res.body() = std::move(response.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    http::write(stream, res, ec);
    if (ec || !keep_alive) break;
  }
}

}  // namespace gpufleet::apiserver
