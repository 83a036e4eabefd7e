// ApiHandler: the Kubernetes REST semantics over Store + Registry, for every resource alike:
// discovery, get/list/watch, create, update, patch, delete, and the status, binding, eviction
// and log subresources. Transport-free (HttpRequest in, HttpResponse out); thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "apiserver/api_errors.h"
#include "apiserver/http.h"
#include "apiserver/registry.h"
#include "apiserver/request_info.h"
#include "apiserver/store.h"
#include "core/clock.h"
#include "core/label_selector.h"

namespace gpufleet::apiserver {

class ApiHandler {
 public:
  struct Options {
    std::string server_address;  // host:port advertised in discovery
    int64_t max_watch_seconds = 1800;
  };

  ApiHandler(Store& store, Registry& registry, core::Clock& clock, Options options);

  // Creates the default namespaces and registers every stored CRD. Idempotent.
  Status Bootstrap();
  HttpResponse Handle(HttpRequest& request);

 private:
  // api_handler.cc
  HttpResponse Discovery(const HttpRequest& request);
  HttpResponse OpenApiV3(const HttpRequest& request) const;
  // discovery.cc
  nlohmann::json ApiResourceList(const std::string& group, const std::string& version) const;
  // The versions served for `group`, preferred (Kubernetes version priority) first.
  std::vector<std::string> VersionsOf(const std::string& group) const;
  // "v2" or "v2beta1" when the Accept header asks for aggregated discovery.
  static std::optional<std::string> WantsAggregatedDiscovery(const HttpRequest& request);
  // /api (core_group) or /apis as an APIGroupDiscoveryList of `version`.
  HttpResponse AggregatedDiscovery(bool core_group, const std::string& version) const;

  // rest_read.cc
  HttpResponse Get(const ResourceInfo& info, const RequestInfo& ri, const HttpRequest& request);
  HttpResponse List(const ResourceInfo& info, const RequestInfo& ri, const HttpRequest& request);
  HttpResponse Watch(const ResourceInfo& info, const RequestInfo& ri, const HttpRequest& request);
  HttpResponse Log(const ResourceInfo& info, const RequestInfo& ri, const HttpRequest& request);

  // rest_write.cc
  HttpResponse Create(const ResourceInfo& info, const RequestInfo& ri, const HttpRequest& request);
  HttpResponse Update(const ResourceInfo& info, const RequestInfo& ri, const HttpRequest& request);
  HttpResponse Patch(const ResourceInfo& info, const RequestInfo& ri, const HttpRequest& request);
  HttpResponse Delete(const ResourceInfo& info, const RequestInfo& ri, const HttpRequest& request);
  HttpResponse DeleteCollection(const ResourceInfo& info, const RequestInfo& ri,
                                const HttpRequest& request);
  HttpResponse Bind(const ResourceInfo& info, const RequestInfo& ri, const HttpRequest& request);
  HttpResponse Evict(const ResourceInfo& info, const RequestInfo& ri, const HttpRequest& request);
  // Deletes `key` honouring finalizers; returns the deleted (or terminating) object.
  Result<StoredObject> DeleteKey(const ResourceInfo& info, const std::string& key,
                                 const ErrorSubject& subject, const nlohmann::json& options);
  // Computes a write from a snapshot of `key` on the request's own thread and commits it only if
  // the key is unchanged since (kube-apiserver's GuaranteedUpdate), recomputing otherwise: the
  // store's single writer thread then only swaps the new resourceVersion in for
  // object::RvPlaceholder(). `compute` may run more than once.
  using Compute = std::function<Result<Write>(const StoredObject* snapshot)>;
  Result<StoredObject> ApplyOptimistic(const std::string& key, const Compute& compute);
  // The response for a stored object: its bytes as stored when they are what the client sees.
  HttpResponse StoredResponse(int status, const ResourceInfo& info, const StoredObject& stored) const;
  // OK when evicting `pod` keeps its PodDisruptionBudget satisfied; 429-coded otherwise.
  Status CheckDisruptionBudgets(const std::string& ns, const nlohmann::json& pod);
  // Keeps the registry in step with a CRD write.
  void OnCrdWrite(const nlohmann::json* crd, const nlohmann::json* old_crd);

  // The object as served: apiVersion of the request's version.
  nlohmann::json Present(const ResourceInfo& info, const std::string& json) const;

  Store& store_;
  Registry& registry_;
  core::Clock& clock_;
  const Options options_;
};

// Helpers shared by the handler files.
namespace object {
std::string NewUid();
std::string RandomSuffix();  // generateName's 5 characters
// Written as metadata.resourceVersion by computed writes; random per process so no client data
// can contain it. StampRv replaces it in serialized JSON with the committed version.
const std::string& RvPlaceholder();
// Writers store objects with sorted keys and the served apiVersion and kind set, so a stored
// object that starts with this prefix is byte-for-byte what a client of `info` gets; others
// (stored under another CRD version) go through ApiHandler::Present.
std::string ServedPrefix(const ResourceInfo& info);
Status StampRv(std::string& json, int64_t rv);
std::string Name(const nlohmann::json& obj);
std::string Namespace(const nlohmann::json& obj);
core::Labels Labels(const nlohmann::json& obj);
// Value at a dotted field path ("spec.nodeName") as a string ("" when absent).
std::string FieldValue(const nlohmann::json& obj, std::string_view path);
}  // namespace object

// A parsed fieldSelector ("metadata.name=x,spec.nodeName!=y").
struct FieldSelector {
  struct Term {
    std::string field;
    std::string value;
    bool equal = true;
  };
  std::vector<Term> terms;
  static Result<FieldSelector> Parse(std::string_view text);
  bool Matches(const nlohmann::json& obj) const;
  // The name if the selector pins metadata.name (kubectl wait, get NAME -w).
  std::optional<std::string> PinnedName() const;
};

}  // namespace gpufleet::apiserver
