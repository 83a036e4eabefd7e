#include "core/taints.h"

#include <string>

#include "core/labels.h"

namespace gpufleet::core {
namespace {

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

Result<std::string> StringField(const nlohmann::json& v, const std::string& path) {
  if (v.is_null()) return std::string();
  if (!v.is_string()) {
    return InvalidArgumentError(path + ": expected a string, got " + std::string(v.type_name()));
  }
  return v.get<std::string>();
}

}  // namespace

std::string_view TaintEffectName(TaintEffect e) {
  switch (e) {
    case TaintEffect::kNoSchedule: return "NoSchedule";
    case TaintEffect::kPreferNoSchedule: return "PreferNoSchedule";
    case TaintEffect::kNoExecute: return "NoExecute";
  }
  return "NoSchedule";
}

Result<TaintEffect> ParseTaintEffect(std::string_view text) {
  if (text == "NoSchedule") return TaintEffect::kNoSchedule;
  if (text == "PreferNoSchedule") return TaintEffect::kPreferNoSchedule;
  if (text == "NoExecute") return TaintEffect::kNoExecute;
  return InvalidArgumentError("unsupported taint effect " + Quote(text) +
                              ": supported values: NoSchedule, PreferNoSchedule, NoExecute");
}

std::string Taint::ToString() const {
  std::string s = key;
  if (!value.empty()) s += "=" + value;
  return s + ":" + std::string(TaintEffectName(effect));
}

bool Toleration::Tolerates(const Taint& taint) const {
  if (effect && *effect != taint.effect) return false;
  if (!key.empty() && key != taint.key) return false;
  return op == TolerationOperator::kExists || value == taint.value;
}

Result<Taint> ParseTaint(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return InvalidArgumentError("taint " + Quote(text) + ": " + std::string(why) +
                                " (expected key[=value]:Effect, e.g. nvidia.com/gpu:NoSchedule)");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return fail("missing ':Effect'");
  Taint t;
  auto effect = ParseTaintEffect(text.substr(colon + 1));
  if (!effect.ok()) return fail(effect.status().message());
  t.effect = *effect;
  std::string_view kv = text.substr(0, colon);
  size_t eq = kv.find('=');
  t.key = std::string(kv.substr(0, eq));
  if (eq != std::string_view::npos) t.value = std::string(kv.substr(eq + 1));
  Status valid = ValidateTaint(t, "taint");
  if (!valid.ok()) return fail(valid.message());
  return t;
}

Result<Taint> TaintFromJson(const nlohmann::json& j, std::string_view path) {
  std::string p(path);
  if (!j.is_object()) return InvalidArgumentError(p + ": expected an object");
  Taint t;
  bool has_effect = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string fp = p + "." + it.key();
    if (it.key() == "key") {
      GF_ASSIGN_OR_RETURN(t.key, StringField(it.value(), fp));
    } else if (it.key() == "value") {
      GF_ASSIGN_OR_RETURN(t.value, StringField(it.value(), fp));
    } else if (it.key() == "effect") {
      GF_ASSIGN_OR_RETURN(std::string e, StringField(it.value(), fp));
      auto effect = ParseTaintEffect(e);
      if (!effect.ok()) return effect.status().WithContext(fp);
      t.effect = *effect;
      has_effect = true;
    } else if (it.key() == "timeAdded") {
      if (it.value().is_null()) continue;
      GF_ASSIGN_OR_RETURN(std::string ts, StringField(it.value(), fp));
      t.time_added = ts;
    } else {
      return InvalidArgumentError(p + ": unknown field " + Quote(it.key()));
    }
  }
  if (!has_effect) return InvalidArgumentError(p + ".effect: Required value");
  return t;
}

Result<Toleration> TolerationFromJson(const nlohmann::json& j, std::string_view path) {
  std::string p(path);
  if (!j.is_object()) return InvalidArgumentError(p + ": expected an object");
  Toleration t;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string fp = p + "." + it.key();
    if (it.key() == "key") {
      GF_ASSIGN_OR_RETURN(t.key, StringField(it.value(), fp));
    } else if (it.key() == "value") {
      GF_ASSIGN_OR_RETURN(t.value, StringField(it.value(), fp));
    } else if (it.key() == "operator") {
      GF_ASSIGN_OR_RETURN(std::string op, StringField(it.value(), fp));
      if (op.empty() || op == "Equal") {
        t.op = TolerationOperator::kEqual;
      } else if (op == "Exists") {
        t.op = TolerationOperator::kExists;
      } else {
        return InvalidArgumentError(fp + ": Unsupported value " + Quote(op) +
                                    ": supported values: \"Equal\", \"Exists\"");
      }
    } else if (it.key() == "effect") {
      GF_ASSIGN_OR_RETURN(std::string e, StringField(it.value(), fp));
      if (e.empty()) continue;
      auto effect = ParseTaintEffect(e);
      if (!effect.ok()) return effect.status().WithContext(fp);
      t.effect = *effect;
    } else if (it.key() == "tolerationSeconds") {
      if (it.value().is_null()) continue;
      if (!it.value().is_number_integer()) return InvalidArgumentError(fp + ": expected an integer");
      t.toleration_seconds = it.value().get<int64_t>();
    } else {
      return InvalidArgumentError(p + ": unknown field " + Quote(it.key()));
    }
  }
  return t;
}

template <typename T, typename Fn>
static Result<std::vector<T>> ListFromJson(const nlohmann::json& j, std::string_view path, Fn fn) {
  std::vector<T> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return InvalidArgumentError(std::string(path) + ": expected a list");
  for (size_t i = 0; i < j.size(); ++i) {
    GF_ASSIGN_OR_RETURN(T item, fn(j[i], std::string(path) + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(item));
  }
  return out;
}

Result<std::vector<Taint>> TaintsFromJson(const nlohmann::json& j, std::string_view path) {
  return ListFromJson<Taint>(j, path, TaintFromJson);
}

Result<std::vector<Toleration>> TolerationsFromJson(const nlohmann::json& j,
                                                    std::string_view path) {
  return ListFromJson<Toleration>(j, path, TolerationFromJson);
}

nlohmann::json ToJson(const Taint& t) {
  nlohmann::json j = {{"key", t.key}, {"effect", TaintEffectName(t.effect)}};
  if (!t.value.empty()) j["value"] = t.value;
  if (t.time_added) j["timeAdded"] = *t.time_added;
  return j;
}

nlohmann::json ToJson(const Toleration& t) {
  nlohmann::json j = nlohmann::json::object();
  if (!t.key.empty()) j["key"] = t.key;
  j["operator"] = t.op == TolerationOperator::kExists ? "Exists" : "Equal";
  if (!t.value.empty()) j["value"] = t.value;
  if (t.effect) j["effect"] = TaintEffectName(*t.effect);
  if (t.toleration_seconds) j["tolerationSeconds"] = *t.toleration_seconds;
  return j;
}

Status ValidateTaint(const Taint& t, std::string_view path) {
  std::string p(path);
  GF_RETURN_IF_ERROR(ValidateLabelKey(t.key, p + ".key"));
  GF_RETURN_IF_ERROR(ValidateLabelValue(t.value, p + ".value"));
  return OkStatus();
}

Status ValidateToleration(const Toleration& t, std::string_view path) {
  std::string p(path);
  if (!t.key.empty()) GF_RETURN_IF_ERROR(ValidateLabelKey(t.key, p + ".key"));
  if (t.key.empty() && t.op != TolerationOperator::kExists) {
    return InvalidArgumentError(p + ".operator: operator must be Exists when `key` is empty, "
                                    "which means \"match all values and all keys\"");
  }
  if (t.op == TolerationOperator::kExists && !t.value.empty()) {
    return InvalidArgumentError(p + ".operator: value must be empty when `operator` is 'Exists'");
  }
  if (t.op == TolerationOperator::kEqual) {
    GF_RETURN_IF_ERROR(ValidateLabelValue(t.value, p + ".value"));
  }
  if (t.toleration_seconds && t.effect != TaintEffect::kNoExecute) {
    return InvalidArgumentError(p + ".effect: effect must be 'NoExecute' when "
                                    "`tolerationSeconds` is set");
  }
  return OkStatus();
}

bool Tolerated(std::span<const Toleration> tolerations, const Taint& taint) {
  for (const auto& tol : tolerations) {
    if (tol.Tolerates(taint)) return true;
  }
  return false;
}

std::optional<Taint> FindUntoleratedTaint(std::span<const Taint> taints,
                                          std::span<const Toleration> tolerations) {
  for (const auto& taint : taints) {
    if (taint.effect == TaintEffect::kPreferNoSchedule) continue;
    if (!Tolerated(tolerations, taint)) return taint;
  }
  return std::nullopt;
}

Status ToleratesAll(std::span<const Taint> taints, std::span<const Toleration> tolerations,
                    bool allow_prefer_no_schedule) {
  for (const auto& taint : taints) {
    if (allow_prefer_no_schedule && taint.effect == TaintEffect::kPreferNoSchedule) continue;
    if (!Tolerated(tolerations, taint)) {
      return FailedPreconditionError("did not tolerate taint " + taint.ToString());
    }
  }
  return OkStatus();
}

bool IsKnownEphemeralTaint(const Taint& t) {
  if (t.key == taints::kNotReady || t.key == taints::kUnreachable) {
    return t.effect == TaintEffect::kNoSchedule || t.effect == TaintEffect::kNoExecute;
  }
  if (t.key == taints::kUninitialized) return t.effect == TaintEffect::kNoSchedule;
  if (t.key == taints::kKarpenterUnregistered) return t.effect == TaintEffect::kNoExecute;
  return false;
}

}  // namespace gpufleet::core
