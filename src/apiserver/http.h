// The HTTP surface the API server's handlers see: a parsed request, a buffered response, or a
// streamed one (watch, logs). Transport-independent so handlers are tested without sockets.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace gpufleet::apiserver {

struct HttpRequest {
  std::string method;   // "GET", "POST", ...
  std::string path;     // decoded path without the query, e.g. "/api/v1/namespaces/default/pods"
  std::string target;   // the request target exactly as sent (path and query, still encoded)
  std::map<std::string, std::string, std::less<>> query;  // decoded; repeated keys: last wins
  std::map<std::string, std::string, std::less<>> headers;  // lower-case names
  std::string body;
  std::string user;     // authenticated user name, set by the server before dispatch

  std::string_view Header(std::string_view name) const;
  std::optional<std::string_view> Query(std::string_view name) const;
  // A boolean parameter as Go's strconv.ParseBool reads it ("true", "True", "1", "t", ...), so
  // clients that send watch=True (python) or watch=1 (curl users) are understood.
  bool QueryFlag(std::string_view name) const;
};

// The connection of a streamed response. Both functions run on the connection's thread.
struct StreamIo {
  // Sends one chunk; false once the client is gone.
  std::function<bool(std::string_view chunk)> write;
  // True once the client closed its side or the server is stopping (checked without blocking).
  std::function<bool()> done;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
  // When set, the body is streamed: the server sends the headers (chunked), then calls `stream`
  // on the connection's thread until it returns; `body` is ignored.
  std::function<void(StreamIo& io)> stream;
};

using Handler = std::function<HttpResponse(HttpRequest& request)>;

// Percent-decoding of a URL component ('+' is a space only in queries). nullopt when malformed.
std::optional<std::string> UrlDecode(std::string_view s, bool query);
// Splits "a=1&b=2" into decoded pairs; malformed pairs are dropped.
std::map<std::string, std::string, std::less<>> ParseQuery(std::string_view query);

}  // namespace gpufleet::apiserver
