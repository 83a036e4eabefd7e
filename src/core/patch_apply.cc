// Server-side apply and managedFields tracking: merge.Updater Apply/Update from
// sigs.k8s.io/structured-merge-diff and the API server's field manager wrappers from
// k8s.io/apimachinery/pkg/util/managedfields (strip-meta, before-first-apply, entry encoding and
// sorting, conflict messages), on JSON walked by ValueWalker (patch_walk.h).
#include <algorithm>
#include <cstddef>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/patch.h"
#include "core/patch_fieldset.h"
#include "core/patch_walk.h"

namespace gpufleet::core {
namespace {

using json = nlohmann::json;
using patch_internal::ApplyError;
using patch_internal::FieldPath;
using patch_internal::FieldSet;
using patch_internal::PathString;
using Walker = patch_internal::ValueWalker;

// ---- managedFields entries -----------------------------------------------------------------

struct Entry {
  std::string manager;
  std::string operation;
  std::string api_version;
  std::string time;
  std::string subresource;
  FieldSet set;

  // BuildManagerIdentifier: appliers are one manager whatever apiVersion they apply.
  std::tuple<std::string, std::string, std::string, std::string> Identity() const {
    return {manager, operation, operation == "Update" ? api_version : "", subresource};
  }
  // printManager in upstream's conflict messages.
  std::string Printed() const {
    std::string out = DumpJson(manager);
    if (!subresource.empty()) out += " with subresource " + DumpJson(subresource);
    if (operation == "Update") out += " using " + api_version;
    return out;
  }
};

std::string StringField(const json& obj, const char* name) {
  auto it = obj.find(name);
  return (it != obj.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

Result<std::vector<Entry>> DecodeEntries(const json& managed) {
  std::vector<Entry> entries;
  if (managed.is_null()) return entries;
  if (!managed.is_array()) return InvalidArgumentError("managedFields: expected an array");
  for (std::size_t i = 0; i < managed.size(); ++i) {
    const json& e = managed[i];
    std::string where = "managedFields[" + std::to_string(i) + "]: ";
    if (!e.is_object()) return InvalidArgumentError(where + "expected an object");
    Entry entry;
    entry.manager = StringField(e, "manager");
    entry.operation = StringField(e, "operation");
    entry.api_version = StringField(e, "apiVersion");
    entry.time = StringField(e, "time");
    entry.subresource = StringField(e, "subresource");
    if (entry.operation != "Apply" && entry.operation != "Update") {
      return InvalidArgumentError(where + "operation must be `Apply` or `Update`");
    }
    if (entry.api_version.empty())
      return InvalidArgumentError(where + "apiVersion must not be empty");
    if (StringField(e, "fieldsType") != "FieldsV1") {
      return InvalidArgumentError(where + "invalid fieldsType, want \"FieldsV1\"");
    }
    auto fields = e.find("fieldsV1");
    if (fields != e.end() && !fields->is_null()) {
      GF_ASSIGN_OR_RETURN(entry.set, FieldSet::FromFieldsV1(*fields));
    }
    auto same = std::find_if(entries.begin(), entries.end(),
                             [&](const Entry& x) { return x.Identity() == entry.Identity(); });
    if (same != entries.end()) {
      *same = std::move(entry);
    } else {
      entries.push_back(std::move(entry));
    }
  }
  return entries;
}

json EncodeEntries(std::vector<Entry> entries) {
  std::sort(entries.begin(), entries.end(), [](const Entry& p, const Entry& q) {
    return std::tie(p.operation, p.time, p.manager, p.api_version, p.subresource) <
           std::tie(q.operation, q.time, q.manager, q.api_version, q.subresource);
  });
  json out = json::array();
  for (const Entry& e : entries) {
    json entry = {{"manager", e.manager},
                  {"operation", e.operation},
                  {"apiVersion", e.api_version},
                  {"fieldsType", "FieldsV1"},
                  {"fieldsV1", e.set.ToFieldsV1()}};
    if (!e.time.empty()) entry["time"] = e.time;
    if (!e.subresource.empty()) entry["subresource"] = e.subresource;
    out.push_back(std::move(entry));
  }
  return out;
}

// Paths no manager ever owns (upstream's stripMetaManager).
const FieldSet& StripSet() {
  static const FieldSet* set = [] {
    auto* s = new FieldSet();
    s->Insert({"f:apiVersion"});
    s->Insert({"f:kind"});
    s->Insert({"f:metadata"});
    for (const char* f : {"name", "namespace", "creationTimestamp", "selfLink", "uid",
                          "clusterName", "generation", "managedFields", "resourceVersion"}) {
      s->Insert({"f:metadata", std::string("f:") + f});
    }
    return s;
  }();
  return *set;
}

void StripAndPrune(std::vector<Entry>& entries) {
  for (Entry& e : entries) e.set = e.set.Difference(StripSet());
  std::erase_if(entries, [](const Entry& e) { return e.set.empty(); });
}

const json* ManagedFieldsOf(const json& obj) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return nullptr;
  auto it = meta->find("managedFields");
  return it == meta->end() ? nullptr : &*it;
}

json WithoutManagedFields(json obj) {
  auto meta = obj.find("metadata");
  if (meta != obj.end() && meta->is_object()) meta->erase("managedFields");
  return obj;
}

json WithManagedFields(json obj, const json& managed) {
  if (managed.empty()) return WithoutManagedFields(std::move(obj));
  if (!obj["metadata"].is_object()) obj["metadata"] = json::object();
  obj["metadata"]["managedFields"] = managed;
  return obj;
}

Walker::Comparison CompareObjects(const Walker& walker, const json& l, const json& r) {
  Walker::Comparison c;
  FieldPath path;
  walker.Compare(&l, &r, "", path, nullptr, c);
  return c;
}

std::string ConflictMessage(const std::vector<std::pair<const Entry*, FieldSet>>& conflicts,
                            std::vector<ApplyConflict>* out) {
  std::vector<std::pair<std::string, std::vector<std::string>>> grouped;
  std::size_t count = 0;
  for (const auto& [entry, set] : conflicts) {
    std::vector<std::string> paths;
    set.ForEach([&](const FieldPath& p) { paths.push_back(PathString(p)); });
    for (const std::string& p : paths) {
      if (out != nullptr) out->push_back(ApplyConflict{entry->Printed(), p});
    }
    count += paths.size();
    grouped.emplace_back(entry->Printed(), std::move(paths));
  }
  if (count == 1) {
    return "Apply failed with 1 conflict: conflict with " + grouped[0].first + ": " +
           grouped[0].second[0];
  }
  std::string message = "Apply failed with " + std::to_string(count) + " conflicts: ";
  bool first = true;
  for (const auto& [manager, paths] : grouped) {
    message += (first ? "" : "\n") + std::string("conflicts with ") + manager + ":";
    for (const std::string& p : paths) message += "\n- " + p;
    first = false;
  }
  return message;
}

Result<ApplyResult> Apply(const json* live, const json& applied, std::string_view manager,
                          bool force, const PatchSchema& schema, std::string_view now,
                          std::vector<ApplyConflict>* conflicts_out) {
  if (!applied.is_object()) return InvalidArgumentError("apply configuration must be an object");
  if (live != nullptr && !live->is_object()) {
    return InvalidArgumentError("live object must be an object");
  }
  if (manager.empty()) {
    return InvalidArgumentError("fieldManager: Required value: is required for apply patch");
  }
  const json* sent = ManagedFieldsOf(applied);
  if (sent != nullptr && !sent->is_null() && !(sent->is_array() && sent->empty())) {
    return InvalidArgumentError("metadata.managedFields must be nil");
  }
  std::string api_version = StringField(applied, "apiVersion");
  if (api_version.empty() || StringField(applied, "kind").empty()) {
    return InvalidArgumentError("apply configuration must set apiVersion and kind");
  }
  std::vector<Entry> entries;
  if (live != nullptr) {
    if (const json* mf = ManagedFieldsOf(*live); mf != nullptr) {
      Result<std::vector<Entry>> decoded = DecodeEntries(*mf);
      if (!decoded.ok()) {
        return InternalError("failed to decode managed fields: " +
                             std::string(decoded.status().message()));
      }
      entries = std::move(decoded).value();
    }
  }
  Walker walker(schema);
  const json base = live != nullptr ? WithoutManagedFields(*live) : json::object();
  if (live != nullptr && entries.empty()) {
    // The object predates managedFields: its fields become "before-first-apply"'s.
    Walker::Comparison c = CompareObjects(walker, json::object(), base);
    Entry before{"before-first-apply", "Update", StringField(base, "apiVersion"),
                 std::string(now),     "",       c.added};
    if (before.api_version.empty()) before.api_version = api_version;
    entries.push_back(std::move(before));
    StripAndPrune(entries);
  }

  const Entry self_key{std::string(manager), "Apply", "", "", "", {}};
  FieldSet config_set, last_set, others;
  FieldPath path;
  walker.ToSet(WithoutManagedFields(applied), "", path, nullptr, config_set);
  for (const Entry& e : entries) {
    (e.Identity() == self_key.Identity() ? last_set : others).Union(e.set);
  }
  json merged = walker.Merge(&base, WithoutManagedFields(applied), "", path, nullptr);
  // Prune what this manager applied before, omits now, and nobody else owns.
  walker.Remove(merged, last_set.Difference(config_set).Difference(others), "", path, nullptr);

  Walker::Comparison c = CompareObjects(walker, base, merged);
  FieldSet changed = c.added;
  changed.Union(c.modified);
  std::vector<std::pair<const Entry*, FieldSet>> conflicts;
  for (const Entry& e : entries) {
    if (e.Identity() == self_key.Identity()) continue;
    FieldSet conflict = e.set.Intersection(changed);
    if (!conflict.empty()) conflicts.emplace_back(&e, std::move(conflict));
  }
  if (!conflicts.empty() && !force) {
    std::sort(conflicts.begin(), conflicts.end(), [](const auto& a, const auto& b) {
      return a.first->Identity() < b.first->Identity();
    });
    return AbortedError(ConflictMessage(conflicts, conflicts_out));
  }
  std::erase_if(entries, [&](const Entry& e) { return e.Identity() == self_key.Identity(); });
  for (Entry& e : entries) e.set = e.set.Difference(changed).Difference(c.removed);
  entries.push_back(Entry{std::string(manager), "Apply", api_version, std::string(now), "",
                          std::move(config_set)});
  StripAndPrune(entries);

  ApplyResult result;
  result.managed_fields = EncodeEntries(std::move(entries));
  result.object = WithManagedFields(std::move(merged), result.managed_fields);
  return result;
}

Result<json> Update(const json* old_object, const json& new_object, std::string_view manager,
                    const PatchSchema& schema, std::string_view now) {
  const json* sent = ManagedFieldsOf(new_object);
  if (sent != nullptr && sent->is_array() && !sent->empty() &&
      std::all_of(sent->begin(), sent->end(),
                  [](const json& e) { return e.is_object() && e.empty(); })) {
    return WithoutManagedFields(new_object);  // managedFields: [{}] clears them.
  }
  std::vector<Entry> entries;
  if (sent != nullptr) {
    Result<std::vector<Entry>> decoded = DecodeEntries(*sent);
    if (decoded.ok()) entries = std::move(decoded).value();
  }
  if (entries.empty() && old_object != nullptr) {
    if (const json* mf = ManagedFieldsOf(*old_object); mf != nullptr) {
      Result<std::vector<Entry>> decoded = DecodeEntries(*mf);
      if (decoded.ok()) entries = std::move(decoded).value();
    }
  }
  std::string api_version = StringField(new_object, "apiVersion");
  if ((old_object != nullptr && entries.empty()) || api_version.empty()) {
    return WithoutManagedFields(new_object);  // Untracked, as upstream leaves it.
  }
  Walker walker(schema);
  const json base = old_object != nullptr && old_object->is_object()
                        ? WithoutManagedFields(*old_object)
                        : json::object();
  json updated = WithoutManagedFields(new_object);
  Walker::Comparison c = CompareObjects(walker, base, updated);
  FieldSet changed = c.added;
  changed.Union(c.modified);
  for (Entry& e : entries) e.set = e.set.Difference(changed).Difference(c.removed);
  Entry self{std::string(manager), "Update", api_version,
             std::string(now),     "",       changed.Difference(c.removed).Difference(StripSet())};
  if (!self.set.empty()) {
    auto same = std::find_if(entries.begin(), entries.end(),
                             [&](const Entry& e) { return e.Identity() == self.Identity(); });
    if (same != entries.end()) {
      same->set.Union(self.set);
      same->time = self.time;
    } else {
      entries.push_back(std::move(self));
    }
  }
  StripAndPrune(entries);
  return WithManagedFields(std::move(updated), EncodeEntries(std::move(entries)));
}

}  // namespace

Result<ApplyResult> ServerSideApply(const nlohmann::json* live, const nlohmann::json& applied,
                                    std::string_view manager, bool force, const PatchSchema& schema,
                                    std::string_view now, std::vector<ApplyConflict>* conflicts) {
  try {
    return Apply(live, applied, manager, force, schema, now, conflicts);
  } catch (const ApplyError& e) {
    return Status(e.code, e.message);
  } catch (const std::exception& e) {
    return InternalError(std::string("server-side apply: ") + e.what());
  }
}

Result<nlohmann::json> UpdateManagedFields(const nlohmann::json* old_object,
                                           const nlohmann::json& new_object,
                                           std::string_view manager, const PatchSchema& schema,
                                           std::string_view operation, std::string_view now) {
  if (!new_object.is_object()) return InvalidArgumentError("object must be a JSON object");
  if (manager.empty()) return InvalidArgumentError("field manager must not be empty");
  if (operation != "Update") {
    return InvalidArgumentError(
        "operation must be \"Update\" (apply goes through ServerSideApply)");
  }
  try {
    return Update(old_object, new_object, manager, schema, now);
  } catch (const std::exception&) {
    return WithoutManagedFields(new_object);  // UpdateNoErrors: untrackable, not an error.
  } catch (const ApplyError&) {
    return WithoutManagedFields(new_object);
  }
}

}  // namespace gpufleet::core
