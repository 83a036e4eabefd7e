// get, list, watch and pods/log.
#include <chrono>

#include "apiserver/api_handler.h"
#include "apiserver/table.h"
#include "core/node_selector_requirement.h"

namespace gpufleet::apiserver {
namespace {

using namespace std::chrono_literals;

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpResponse Json(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = Dump(body);
  return r;
}

struct Filters {
  core::LabelSelector labels = core::LabelSelector::Everything();
  FieldSelector fields;
  bool Everything() const { return labels.IsEverything() && fields.terms.empty(); }
  bool Matches(const nlohmann::json& obj) const {
    return labels.Matches(object::Labels(obj)) && fields.Matches(obj);
  }
};

Result<Filters> ParseFilters(const HttpRequest& request) {
  Filters f;
  if (auto ls = request.Query("labelSelector"); ls && !ls->empty()) {
    GF_ASSIGN_OR_RETURN(f.labels, core::LabelSelector::Parse(*ls));
  }
  if (auto fs = request.Query("fieldSelector"); fs && !fs->empty()) {
    GF_ASSIGN_OR_RETURN(f.fields, FieldSelector::Parse(*fs));
  }
  return f;
}

std::string ListPrefix(const ResourceInfo& info, const RequestInfo& ri) {
  std::string prefix = info.KeyPrefix();
  if (info.namespaced && !ri.ns.empty()) prefix += ri.ns + "/";
  return prefix;
}

// Continue tokens are opaque to clients: "<rv>:<last key>" hex-encoded.
std::string EncodeContinue(int64_t rv, const std::string& key) {
  static const char* kHex = "0123456789abcdef";
  std::string raw = std::to_string(rv) + ":" + key, out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

Result<std::string> DecodeContinue(std::string_view token, const std::string& prefix) {
  std::string raw;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (token.size() % 2 != 0) return InvalidArgumentError("invalid continue token");
  for (size_t i = 0; i < token.size(); i += 2) {
    int hi = nibble(token[i]), lo = nibble(token[i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgumentError("invalid continue token");
    raw.push_back(char(hi * 16 + lo));
  }
  size_t colon = raw.find(':');
  if (colon == std::string::npos || raw.compare(colon + 1, prefix.size(), prefix) != 0) {
    return InvalidArgumentError("invalid continue token");
  }
  return raw.substr(colon + 1);
}

// kubectl asks for "application/json;as=Table;v=v1;g=meta.k8s.io,...": the Table version wanted,
// or nullopt for a plain object.
std::optional<std::string> WantsTable(const HttpRequest& r) {
  std::string_view accept = r.Header("accept");
  if (accept.find("as=Table") == std::string_view::npos) return std::nullopt;
  if (accept.find("as=Table;v=v1;") != std::string_view::npos ||
      accept.find("as=Table;v=v1,") != std::string_view::npos) {
    return std::string("v1");
  }
  return std::string("v1beta1");
}

Result<TableOptions> TableOptionsFor(const HttpRequest& r, const std::string& version,
                                     core::TimePoint now) {
  TableOptions o;
  o.now = now;
  o.version = version;
  if (auto inc = r.Query("includeObject"); inc && !inc->empty()) {
    GF_ASSIGN_OR_RETURN(o.include_object, ParseIncludeObject(*inc));
  }
  return o;
}

}  // namespace

HttpResponse ApiHandler::Get(const ResourceInfo& info, const RequestInfo& ri,
                             const HttpRequest& request) {
  ErrorSubject subject{info.group, info.resource, ri.name};
  auto obj = store_.Get(info.Key(info.namespaced ? ri.ns : "", ri.name));
  if (!obj.ok()) return ErrorResponse(NotFoundFor(subject), subject);
  auto table = WantsTable(request);
  if (!table) return StoredResponse(200, info, *obj);  // the stored bytes, when served as stored
  nlohmann::json j = Present(info, *obj->json);
  auto opts = TableOptionsFor(request, *table, clock_.Now());
  if (!opts.ok()) return ErrorResponse(opts.status());
  opts->resource_version = std::to_string(obj->rv);
  return Json(200, ToTable(info, {&j}, *opts));
}

HttpResponse ApiHandler::List(const ResourceInfo& info, const RequestInfo& ri,
                              const HttpRequest& request) {
  auto filters = ParseFilters(request);
  if (!filters.ok()) return ErrorResponse(filters.status());
  std::string prefix = ListPrefix(info, ri);
  size_t limit = 0;
  if (auto l = request.Query("limit"); l && !l->empty()) {
    auto n = core::ParseInt64(*l);
    if (!n || *n < 0) return ErrorResponse(InvalidArgumentError("invalid limit \"" + std::string(*l) + "\""));
    limit = size_t(*n);
  }
  std::string after;
  if (auto c = request.Query("continue"); c && !c->empty()) {
    auto decoded = DecodeContinue(*c, prefix);
    if (!decoded.ok()) return ErrorResponse(decoded.status());
    after = *decoded;
  }
  const std::optional<std::string> table = WantsTable(request);
  const std::string served = object::ServedPrefix(info);
  std::vector<nlohmann::json> rows;  // Table requests only
  // Otherwise the body is built as text: the items are copied in verbatim, no DOM.
  std::string body = "{\"apiVersion\":\"" + info.GroupVersion() + "\",\"items\":[";
  size_t matched = 0;
  int64_t rv = 0;
  std::optional<std::string> next;
  // Filtering happens after paging in the store, so keep reading pages until `limit` matches.
  while (true) {
    ListResult page = store_.List(prefix, after, limit == 0 ? 0 : limit - matched);
    rv = page.rv;
    if (!table) {
      size_t bytes = 0;
      for (const auto& o : page.items) bytes += o.json->size() + 1;
      body.reserve(body.size() + bytes + 256);
    }
    for (const auto& o : page.items) {
      const bool as_stored = !table && o.json->starts_with(served);
      std::optional<nlohmann::json> j;
      if (!as_stored || !filters->Everything()) j = Present(info, *o.json);
      if (j && !filters->Matches(*j)) continue;
      ++matched;
      if (table) {
        rows.push_back(std::move(*j));
        continue;
      }
      if (matched > 1) body += ',';
      body += as_stored ? *o.json : Dump(*j);
    }
    if (!page.continue_after) break;
    after = *page.continue_after;
    if (limit != 0 && matched >= limit) {
      next = after;
      break;
    }
  }
  nlohmann::json metadata = {{"resourceVersion", std::to_string(rv)}};
  if (next) metadata["continue"] = EncodeContinue(rv, *next);
  if (table) {
    auto opts = TableOptionsFor(request, *table, clock_.Now());
    if (!opts.ok()) return ErrorResponse(opts.status());
    opts->resource_version = std::to_string(rv);
    if (next) opts->continue_token = metadata["continue"];
    std::vector<const nlohmann::json*> row_ptrs;
    for (const auto& row : rows) row_ptrs.push_back(&row);
    return Json(200, ToTable(info, row_ptrs, *opts));
  }
  // A 10k-pod list costs one string append per pod instead of a parse and a dump.
  HttpResponse r;
  r.status = 200;
  r.body = std::move(body);
  r.body += "],\"kind\":\"" + info.ListKind() + "\",\"metadata\":" + Dump(metadata) + "}";
  return r;
}

HttpResponse ApiHandler::Watch(const ResourceInfo& info, const RequestInfo& ri,
                               const HttpRequest& request) {
  auto parsed = ParseFilters(request);
  if (!parsed.ok()) return ErrorResponse(parsed.status());
  Filters filters = *parsed;
  if (!ri.name.empty()) filters.fields.terms.push_back({"metadata.name", ri.name, true});
  std::string prefix = ListPrefix(info, ri);
  std::string rv_param(request.Query("resourceVersion").value_or(""));
  int64_t timeout = options_.max_watch_seconds;
  if (auto t = request.Query("timeoutSeconds"); t && !t->empty()) {
    auto n = core::ParseInt64(*t);
    if (!n || *n < 0) return ErrorResponse(InvalidArgumentError("invalid timeoutSeconds"));
    if (*n > 0) timeout = std::min(timeout, *n);
  }
  const bool bookmarks = request.QueryFlag("allowWatchBookmarks");

  // Resolve the start before answering so errors are plain HTTP errors, except "too old",
  // which Kubernetes reports as an ERROR event with a 410 Status inside a 200 stream.
  std::vector<StoredObject> initial;
  int64_t from_rv = 0;
  if (rv_param.empty() || rv_param == "0") {
    ListResult all = store_.List(prefix, "", 0);
    from_rv = all.rv;
    for (auto& o : all.items) {
      if (filters.Everything() || filters.Matches(Present(info, *o.json))) initial.push_back(std::move(o));
    }
  } else {
    auto n = core::ParseInt64(rv_param);
    if (!n || *n < 0) {
      return ErrorResponse(InvalidArgumentError("invalid resourceVersion \"" + rv_param + "\""));
    }
    from_rv = *n;
  }
  auto watch = store_.WatchPrefix(prefix, from_rv);
  std::shared_ptr<gpufleet::apiserver::Watch> w;
  Status too_old;
  if (watch.ok()) {
    w = std::shared_ptr<gpufleet::apiserver::Watch>(std::move(watch).value());
  } else {
    too_old = watch.status();
  }

  std::optional<TableOptions> table;
  if (auto version = WantsTable(request)) {
    auto opts = TableOptionsFor(request, *version, clock_.Now());
    if (!opts.ok()) return ErrorResponse(opts.status());
    table = *opts;
  }
  HttpResponse response;
  response.content_type = "application/json";
  response.stream = [this, info, filters, initial = std::move(initial), w, too_old, timeout,
                     bookmarks, table](StreamIo& io) mutable {
    const std::string served = object::ServedPrefix(info);
    // Writes one event line. Plain watches of objects stored as served copy the stored text
    // into the line; Tables and other versions are re-encoded.
    auto send = [&](std::string_view type, const std::string& stored,
                    const nlohmann::json* decoded) -> bool {
      if (!table && decoded == nullptr && stored.starts_with(served)) {
        std::string line;
        line.reserve(stored.size() + 32);
        line.append("{\"object\":").append(stored).append(",\"type\":\"").append(type).append("\"}\n");
        return io.write(line);
      }
      nlohmann::json obj = decoded ? *decoded : Present(info, stored);
      nlohmann::json e = {{"type", type}, {"object", obj}};
      if (table) {
        // As kube-apiserver: each event carries a one-row Table; headers only in the first.
        table->now = clock_.Now();
        e["object"] = ToTable(info, {&obj}, *table);
        table->no_headers = true;
      }
      return io.write(Dump(e) + "\n");
    };
    auto send_status = [&](std::string_view type, const nlohmann::json& obj) {
      return io.write(Dump({{"type", type}, {"object", obj}}) + "\n");
    };
    if (!w) {
      send_status("ERROR", StatusObject(OutOfRangeError(std::string(too_old.message()))));
      return;
    }
    for (const auto& obj : initial) {
      if (!send("ADDED", *obj.json, nullptr)) return;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
    auto next_bookmark = std::chrono::steady_clock::now() + 30s;
    int64_t last_rv = 0;
    while (std::chrono::steady_clock::now() < deadline && !io.done()) {
      auto e = w->Next(1s);
      if (!e.ok()) {
        if (e.status().code() == StatusCode::kDeadlineExceeded) {
          if (bookmarks && last_rv > 0 && std::chrono::steady_clock::now() >= next_bookmark) {
            next_bookmark = std::chrono::steady_clock::now() + 30s;
            if (!send_status("BOOKMARK",
                             {{"kind", info.kind},
                              {"apiVersion", info.GroupVersion()},
                              {"metadata", {{"resourceVersion", std::to_string(last_rv)}}}})) {
              return;
            }
          }
          continue;
        }
        if (e.status().code() == StatusCode::kResourceExhausted) {
          send_status("ERROR", StatusObject(OutOfRangeError(std::string(e.status().message()))));
        }
        return;
      }
      last_rv = e->object.rv;
      std::string_view type = e->type == EventType::kAdded      ? "ADDED"
                              : e->type == EventType::kModified ? "MODIFIED"
                                                                : "DELETED";
      if (filters.Everything()) {
        if (!send(type, *e->object.json, nullptr)) return;
        continue;
      }
      // As kube-apiserver's filtered watch: an update that moves an object into the selection
      // is ADDED, one that moves it out is DELETED (carrying the new state).
      nlohmann::json obj = Present(info, *e->object.json);
      const bool now_matches = filters.Matches(obj);
      const bool matched_before = e->type == EventType::kModified && e->prev &&
                                  filters.Matches(Present(info, *e->prev));
      if (e->type == EventType::kModified && now_matches != matched_before) {
        type = now_matches ? "ADDED" : "DELETED";
      } else if (!now_matches) {
        continue;
      }
      if (!send(type, *e->object.json, &obj)) return;
    }
    w->Stop();
  };
  return response;
}

HttpResponse ApiHandler::Log(const ResourceInfo& info, const RequestInfo& ri,
                             const HttpRequest& request) {
  ErrorSubject subject{info.group, info.resource, ri.name};
  auto pod = store_.Get(info.Key(ri.ns, ri.name));
  if (!pod.ok()) return ErrorResponse(NotFoundFor(subject), subject);
  nlohmann::json j = nlohmann::json::parse(*pod->json, nullptr, false);
  std::string container(request.Query("container").value_or(""));
  if (container.empty() && j.contains("spec") && j["spec"].contains("containers") &&
      j["spec"]["containers"].is_array() && !j["spec"]["containers"].empty()) {
    container = j["spec"]["containers"][0].value("name", "");
  }
  // Container output is kept by the node (the simulated kubelet writes it under this key).
  auto log = store_.Get("/_logs/" + ri.ns + "/" + ri.name + "/" + container);
  HttpResponse r;
  r.content_type = "text/plain";
  if (log.ok()) {
    r.body = *log->json;
    return r;
  }
  std::string phase = object::FieldValue(j, "status.phase");
  if (phase.empty() || phase == "Pending") {
    return ErrorResponse(InvalidArgumentError("container \"" + container + "\" in pod \"" + ri.name +
                                              "\" is waiting to start: ContainerCreating"));
  }
  return r;
}

}  // namespace gpufleet::apiserver
