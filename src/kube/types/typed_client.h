// TypedClient<T>: the dynamic Client (client.h) for one typed view T (pod.h, node.h, ...):
// objects go in and come out as T, errors are the Client's. Lists are decoded page by page.
// Update and UpdateStatus exist only for complete views (T::kComplete): writing back a view
// that leaves fields out would erase them on the server, so for Pod, Node and DaemonSet use
// Patch (or Create for new objects).
#pragma once

#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "kube/client.h"
#include "kube/types/meta.h"

namespace gpufleet::kube {

template <typename T>
struct ObjectList {
  std::vector<T> items;
  std::string resource_version;
  std::string continue_token;  // non-empty when more pages follow
};

template <typename T>
struct TypedWatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK (only metadata.resourceVersion set)
  T object;
};

template <typename T>
class TypedClient {
 public:
  explicit TypedClient(Client& client) : client_(client) {}

  Result<T> Get(std::string_view ns, std::string_view name) {
    return Decoded(client_.Get(T::Resource(), ns, name));
  }

  // One page (everything when options.limit is 0).
  Result<ObjectList<T>> List(std::string_view ns, const ListOptions& options = {}) {
    ObjectList<T> out;
    GF_RETURN_IF_ERROR(AppendPage(ns, options, out));
    return out;
  }

  // Every page, decoded as it arrives; an expired continue token is kOutOfRange.
  Result<ObjectList<T>> ListAll(std::string_view ns, ListOptions options = {}) {
    ObjectList<T> out;
    while (true) {
      GF_RETURN_IF_ERROR(AppendPage(ns, options, out));
      if (out.continue_token.empty()) return out;
      options.continue_token = std::move(out.continue_token);
      out.continue_token.clear();
      options.resource_version.clear();
    }
  }

  // In obj.metadata.ns (ignored for cluster-scoped kinds).
  Result<T> Create(const T& obj) { return Decoded(client_.Create(T::Resource(), obj.metadata.ns, ToJson(obj))); }

  // PUT; obj.metadata.resourceVersion, when set, makes it conditional (kAborted on a conflict).
  Result<T> Update(const T& obj)
    requires(T::kComplete)
  {
    return Decoded(client_.Update(T::Resource(), obj.metadata.ns, ToJson(obj)));
  }
  Result<T> UpdateStatus(const T& obj)
    requires(T::kComplete)
  {
    return Decoded(client_.UpdateStatus(T::Resource(), obj.metadata.ns, ToJson(obj)));
  }

  Result<T> Patch(std::string_view ns, std::string_view name, PatchType type, const nlohmann::json& patch,
                  const PatchOptions& options = {}, std::string_view subresource = "") {
    return Decoded(client_.Patch(T::Resource(), ns, name, type, patch, options, subresource));
  }

  // The object as it is after the call (terminating, with finalizers or a grace period), or
  // nullopt when the server answered with a Status (the object is gone).
  Result<std::optional<T>> Delete(std::string_view ns, std::string_view name, const DeleteOptions& options = {}) {
    GF_ASSIGN_OR_RETURN(nlohmann::json answer, client_.Delete(T::Resource(), ns, name, options));
    auto kind = answer.is_object() ? answer.find("kind") : answer.end();
    if (kind != answer.end() && *kind == "Status") return std::optional<T>();
    GF_ASSIGN_OR_RETURN(T obj, FromJson<T>(answer));
    return std::optional<T>(std::move(obj));
  }

  // Client::Watch with decoded objects; an object that does not decode ends the watch with
  // kInvalidArgument naming it.
  Status Watch(std::string_view ns, const WatchOptions& options,
               const std::function<bool(TypedWatchEvent<T>&)>& on_event, std::stop_token stop = {}) {
    Status decode_error;
    Status s = client_.Watch(T::Resource(), ns, options, [&](WatchEvent& e) {
      Result<T> obj = FromJson<T>(e.object);
      if (!obj.ok()) {
        decode_error = obj.status();
        return false;
      }
      TypedWatchEvent<T> typed{std::move(e.type), std::move(obj).value()};
      return on_event(typed);
    }, stop);
    return decode_error.ok() ? s : decode_error;
  }

 private:
  static Result<T> Decoded(Result<nlohmann::json> answer) {
    if (!answer.ok()) return answer.status();
    return FromJson<T>(*answer);
  }

  Status AppendPage(std::string_view ns, const ListOptions& options, ObjectList<T>& out) {
    GF_ASSIGN_OR_RETURN(nlohmann::json page, client_.List(T::Resource(), ns, options));
    auto items = page.find("items");
    if (items != page.end() && items->is_array()) {
      out.items.reserve(out.items.size() + items->size());
      for (const auto& item : *items) {
        GF_ASSIGN_OR_RETURN(T obj, FromJson<T>(item));
        out.items.push_back(std::move(obj));
      }
    } else if (items != page.end() && !items->is_null()) {
      return InvalidArgumentError("list of " + T::Resource().resource + ": items is not an array");
    }
    out.resource_version = MetadataString(page, "resourceVersion");
    out.continue_token = MetadataString(page, "continue");
    return OkStatus();
  }

  Client& client_;
};

}  // namespace gpufleet::kube
