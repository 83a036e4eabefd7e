#include "agent/config.h"

#include <functional>
#include <set>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "core/yaml.h"

namespace gpufleet::agent {
namespace {

using nlohmann::json;

Result<MigStrategy> ParseMigStrategy(const std::string& v, const std::string& where) {
  if (v == "none") return MigStrategy::kNone;
  if (v == "single") return MigStrategy::kSingle;
  if (v == "mixed") return MigStrategy::kMixed;
  return InvalidArgumentError(where + ": unknown MIG strategy \"" + v + "\" (expected none, single or mixed)");
}

Result<std::vector<std::string>> ParseListStrategy(const json& v, const std::string& where) {
  static const std::set<std::string> kKnown = {"envvar", "volume-mounts", "cdi-annotations", "cdi-cri"};
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (const auto& s : v) {
      if (!s.is_string()) return InvalidArgumentError(where + ": expected strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    return InvalidArgumentError(where + ": expected a string or a list of strings");
  }
  if (out.empty()) return InvalidArgumentError(where + ": at least one strategy");
  for (const auto& s : out) {
    if (!kKnown.contains(s)) {
      return InvalidArgumentError(where + ": unknown device list strategy \"" + s +
                                  "\" (expected envvar, volume-mounts, cdi-annotations or cdi-cri)");
    }
  }
  return out;
}

Status ParseIdStrategy(const std::string& v, const std::string& where) {
  if (v != "uuid" && v != "index") {
    return InvalidArgumentError(where + ": unknown device ID strategy \"" + v + "\" (expected uuid or index)");
  }
  return OkStatus();
}

Result<bool> ParseBool(std::string_view v, const std::string& where) {
  if (v == "true" || v == "1" || v == "True" || v == "TRUE") return true;
  if (v == "false" || v == "0" || v == "False" || v == "FALSE") return false;
  return InvalidArgumentError(where + ": expected true or false, got \"" + std::string(v) + "\"");
}

Status ParseSharing(const json& sharing, AgentConfig& out) {
  const bool time_slicing = sharing.contains("timeSlicing") && !sharing["timeSlicing"].is_null();
  const bool mps = sharing.contains("mps") && !sharing["mps"].is_null();
  if (time_slicing && mps) return InvalidArgumentError("sharing: timeSlicing and mps are mutually exclusive");
  if (!time_slicing && !mps) return OkStatus();
  const std::string key = time_slicing ? "timeSlicing" : "mps";
  const std::string at = "sharing." + key;
  const json& s = sharing[key];
  if (!s.is_object()) return InvalidArgumentError(at + ": expected an object");
  GF_ASSIGN_OR_RETURN(auto rename, core::GetOptionalBool(s, "renameByDefault"));
  GF_ASSIGN_OR_RETURN(auto fail, core::GetOptionalBool(s, "failRequestsGreaterThanOne"));
  out.rename_by_default = rename.value_or(false);
  // NVIDIA's plugin forces failRequestsGreaterThanOne for MPS (#443).
  out.fail_requests_greater_than_one = mps ? true : fail.value_or(false);
  GF_ASSIGN_OR_RETURN(const json* resources, core::GetOptionalArray(s, "resources"));
  if (resources == nullptr || resources->empty()) return InvalidArgumentError(at + ".resources: at least one resource");
  std::set<std::string> seen;
  for (size_t i = 0; i < resources->size(); ++i) {
    const std::string where = at + ".resources[" + std::to_string(i) + "]";
    const json& r = (*resources)[i];
    if (!r.is_object()) return InvalidArgumentError(where + ": expected an object");
    GF_ASSIGN_OR_RETURN(std::string name, core::GetString(r, "name"));
    GF_ASSIGN_OR_RETURN(int64_t replicas, core::GetInt64(r, "replicas"));
    if (!name.starts_with("nvidia.com/")) {
      return InvalidArgumentError(where + ".name: \"" + name + "\" is not an nvidia.com/ resource");
    }
    if (replicas < 1) return InvalidArgumentError(where + ".replicas: must be at least 1, got " + std::to_string(replicas));
    if (replicas > 1024) return InvalidArgumentError(where + ".replicas: at most 1024, got " + std::to_string(replicas));
    if (!seen.insert(name).second) return InvalidArgumentError(where + ".name: \"" + name + "\" listed twice");
    // rename and devices are parsed by NVIDIA's plugin but not supported; accept and ignore them.
    out.replicated.push_back({.name = name, .replicas = static_cast<int>(replicas)});
  }
  out.sharing = mps ? SharingStrategy::kMps : SharingStrategy::kTimeSlicing;
  return OkStatus();
}

Result<AgentConfig> ParseConfigJson(const json& doc, AgentConfig out) {
  if (!doc.is_object()) return InvalidArgumentError("config: expected a mapping");
  GF_ASSIGN_OR_RETURN(std::string version, core::GetString(doc, "version"));
  if (version != "v1") return InvalidArgumentError("version: unsupported config version \"" + version + "\" (expected v1)");
  GF_ASSIGN_OR_RETURN(const json* flags, core::GetOptionalObject(doc, "flags"));
  if (flags != nullptr) {
    GF_ASSIGN_OR_RETURN(auto mig, core::GetOptionalString(*flags, "migStrategy"));
    if (mig) {
      GF_ASSIGN_OR_RETURN(out.mig_strategy, ParseMigStrategy(*mig, "flags.migStrategy"));
    }
    GF_ASSIGN_OR_RETURN(auto fail, core::GetOptionalBool(*flags, "failOnInitError"));
    if (fail) out.fail_on_init_error = *fail;
    GF_ASSIGN_OR_RETURN(auto root, core::GetOptionalString(*flags, "nvidiaDriverRoot"));
    if (root) out.driver_root = *root;
    GF_ASSIGN_OR_RETURN(const json* plugin, core::GetOptionalObject(*flags, "plugin"));
    if (plugin != nullptr) {
      GF_ASSIGN_OR_RETURN(auto pass, core::GetOptionalBool(*plugin, "passDeviceSpecs"));
      if (pass) out.pass_device_specs = *pass;
      if (auto it = plugin->find("deviceListStrategy"); it != plugin->end() && !it->is_null()) {
        GF_ASSIGN_OR_RETURN(out.device_list_strategy, ParseListStrategy(*it, "flags.plugin.deviceListStrategy"));
      }
      GF_ASSIGN_OR_RETURN(auto id, core::GetOptionalString(*plugin, "deviceIDStrategy"));
      if (id) {
        GF_RETURN_IF_ERROR(ParseIdStrategy(*id, "flags.plugin.deviceIDStrategy"));
        out.device_id_strategy = *id;
      }
    }
  }
  GF_ASSIGN_OR_RETURN(const json* sharing, core::GetOptionalObject(doc, "sharing"));
  if (sharing != nullptr) GF_RETURN_IF_ERROR(ParseSharing(*sharing, out));
  GF_RETURN_IF_ERROR(Validate(out));
  return out;
}

}  // namespace

int AgentConfig::ReplicasFor(const std::string& resource) const {
  for (const auto& r : replicated) {
    if (r.name == resource) return r.replicas;
  }
  return 1;
}

Result<AgentConfig> ParseConfig(std::string_view text, AgentConfig base) {
  GF_ASSIGN_OR_RETURN(json doc, core::YamlToJsonSingle(text));
  try {
    return ParseConfigJson(doc, std::move(base));
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("config: ") + e.what());
  }
}

Result<AgentConfig> ApplyEnvironment(AgentConfig config, const std::function<const char*(const char*)>& getenv) {
  auto get = [&](const char* name) -> std::optional<std::string> {
    const char* v = getenv(name);
    return v != nullptr && *v != '\0' ? std::optional<std::string>(v) : std::nullopt;
  };
  if (auto v = get("MIG_STRATEGY")) {
    GF_ASSIGN_OR_RETURN(config.mig_strategy, ParseMigStrategy(*v, "MIG_STRATEGY"));
  }
  if (auto v = get("FAIL_ON_INIT_ERROR")) {
    GF_ASSIGN_OR_RETURN(config.fail_on_init_error, ParseBool(*v, "FAIL_ON_INIT_ERROR"));
  }
  if (auto v = get("NVIDIA_DRIVER_ROOT")) config.driver_root = *v;
  if (auto v = get("PASS_DEVICE_SPECS")) {
    GF_ASSIGN_OR_RETURN(config.pass_device_specs, ParseBool(*v, "PASS_DEVICE_SPECS"));
  }
  if (auto v = get("DEVICE_LIST_STRATEGY")) {
    json list = json::array();
    for (size_t start = 0; start <= v->size();) {
      size_t comma = v->find(',', start);
      if (comma == std::string::npos) comma = v->size();
      list.push_back(v->substr(start, comma - start));
      start = comma + 1;
    }
    GF_ASSIGN_OR_RETURN(config.device_list_strategy, ParseListStrategy(list, "DEVICE_LIST_STRATEGY"));
  }
  if (auto v = get("DEVICE_ID_STRATEGY")) {
    GF_RETURN_IF_ERROR(ParseIdStrategy(*v, "DEVICE_ID_STRATEGY"));
    config.device_id_strategy = *v;
  }
  if (auto v = get("MPS_ROOT")) config.mps_root = *v;
  GF_RETURN_IF_ERROR(Validate(config));
  return config;
}

Status Validate(const AgentConfig& c) {
  if (c.sharing == SharingStrategy::kMps && c.mig_strategy == MigStrategy::kMixed) {
    return InvalidArgumentError("sharing.mps: not supported together with migStrategy mixed");
  }
  return OkStatus();
}

std::string_view MigStrategyName(MigStrategy s) {
  switch (s) {
    case MigStrategy::kNone: return "none";
    case MigStrategy::kSingle: return "single";
    case MigStrategy::kMixed: return "mixed";
  }
  return "none";
}

std::string_view SharingStrategyName(SharingStrategy s) {
  switch (s) {
    case SharingStrategy::kNone: return "none";
    case SharingStrategy::kTimeSlicing: return "time-slicing";
    case SharingStrategy::kMps: return "mps";
  }
  return "none";
}

}  // namespace gpufleet::agent
