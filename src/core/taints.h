// Taints and tolerations with Kubernetes' exact matching rules, kubectl's "key=value:Effect"
// text form, validation, and the two checks schedulers need (Kubernetes' NoSchedule/NoExecute
// filter and Karpenter's stricter "tolerate everything, PreferNoSchedule too" pass).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace gpufleet::core {

enum class TaintEffect : uint8_t { kNoSchedule, kPreferNoSchedule, kNoExecute };
std::string_view TaintEffectName(TaintEffect e);
Result<TaintEffect> ParseTaintEffect(std::string_view text);

struct Taint {
  std::string key;
  std::string value;
  TaintEffect effect = TaintEffect::kNoSchedule;
  std::optional<std::string> time_added;  // RFC 3339, NoExecute taints only

  // kubectl's form: "key=value:Effect", "key:Effect" when the value is empty.
  std::string ToString() const;
  // Same key and effect: the identity Kubernetes uses to replace or remove a taint.
  bool MatchesIdentity(const Taint& other) const {
    return key == other.key && effect == other.effect;
  }
  friend bool operator==(const Taint&, const Taint&) = default;
};

enum class TolerationOperator : uint8_t { kEqual, kExists };

struct Toleration {
  std::string key;  // empty with kExists: every key
  TolerationOperator op = TolerationOperator::kEqual;
  std::string value;
  std::optional<TaintEffect> effect;        // empty: every effect
  std::optional<int64_t> toleration_seconds;  // NoExecute only

  // Kubernetes' ToleratesTaint: effect (if set) equal; key (if set) equal; Exists matches any
  // value, Equal compares values.
  bool Tolerates(const Taint& taint) const;
  friend bool operator==(const Toleration&, const Toleration&) = default;
};

// Parses kubectl's taint text "key[=value]:Effect". InvalidArgument names the text.
Result<Taint> ParseTaint(std::string_view text);

// JSON (corev1 field names). Errors name `path`.
Result<Taint> TaintFromJson(const nlohmann::json& j, std::string_view path);
Result<Toleration> TolerationFromJson(const nlohmann::json& j, std::string_view path);
Result<std::vector<Taint>> TaintsFromJson(const nlohmann::json& j, std::string_view path);
Result<std::vector<Toleration>> TolerationsFromJson(const nlohmann::json& j, std::string_view path);
nlohmann::json ToJson(const Taint& t);
nlohmann::json ToJson(const Toleration& t);

// Kubernetes validation rules (InvalidArgument naming the field):
//  taint: key a qualified name, value a label value, effect required;
//  toleration: key (if set) a qualified name; empty key needs operator Exists; Exists needs an
//  empty value; Equal's value a label value; tolerationSeconds only with effect NoExecute.
Status ValidateTaint(const Taint& t, std::string_view path);
Status ValidateToleration(const Toleration& t, std::string_view path);

// True if any toleration tolerates the taint.
bool Tolerated(std::span<const Toleration> tolerations, const Taint& taint);

// Kubernetes' TaintToleration filter: the first NoSchedule/NoExecute taint not tolerated, if any
// (PreferNoSchedule never blocks).
std::optional<Taint> FindUntoleratedTaint(std::span<const Taint> taints,
                                          std::span<const Toleration> tolerations);

// Karpenter's first, strict pass: every taint (PreferNoSchedule included unless
// `allow_prefer_no_schedule`) must be tolerated. OK, or FailedPrecondition naming the taint,
// e.g. `did not tolerate taint nvidia.com/gpu:NoSchedule`.
Status ToleratesAll(std::span<const Taint> taints, std::span<const Toleration> tolerations,
                    bool allow_prefer_no_schedule = false);

// Taints that nodes carry briefly while starting; Karpenter ignores them on nodes that are still
// initializing.
bool IsKnownEphemeralTaint(const Taint& t);

namespace taints {
inline constexpr std::string_view kNotReady = "node.kubernetes.io/not-ready";
inline constexpr std::string_view kUnreachable = "node.kubernetes.io/unreachable";
inline constexpr std::string_view kUninitialized = "node.cloudprovider.kubernetes.io/uninitialized";
inline constexpr std::string_view kUnschedulable = "node.kubernetes.io/unschedulable";
inline constexpr std::string_view kKarpenterUnregistered = "karpenter.sh/unregistered";
inline constexpr std::string_view kKarpenterDisrupted = "karpenter.sh/disrupted";
}  // namespace taints

}  // namespace gpufleet::core
