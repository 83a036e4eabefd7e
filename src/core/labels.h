// Labels: the label map type, Kubernetes' label key/value validation, and well-known label keys.
#pragma once

#include <map>

#include <boost/container/flat_map.hpp>
#include <string>
#include <string_view>

#include "core/interned_string.h"
#include "core/status.h"

namespace gpufleet::core {

// Node and pod labels (and annotations). Ordered so that printing and hashing are
// deterministic; a flat sorted vector, not a tree: label sets are small and informer caches hold
// millions of them (a tree node costs ~50 bytes of pointers and malloc overhead per label).
// Keys and values are interned: a handful of distinct strings recur across every pod and node,
// so an entry is 16 bytes and values compare by pointer.
using Labels = boost::container::flat_map<InternedString, InternedString, std::less<>>;

// Returns "" when `key` is a valid label key (a qualified name: optional DNS-1123 subdomain prefix
// of at most 253 characters and '/', then a name of 1-63 characters [A-Za-z0-9][-A-Za-z0-9_.]*
// ending alphanumeric), else a reason naming the rule that failed.
std::string LabelKeyError(std::string_view key);
// Returns "" when `value` is a valid label value (empty, or 1-63 characters of [A-Za-z0-9-_.]
// beginning and ending alphanumeric), else the reason.
std::string LabelValueError(std::string_view value);
// Returns "" when `name` is a DNS-1123 subdomain (e.g. a namespace-less object name), else why.
std::string Dns1123SubdomainError(std::string_view name);
// Returns "" when `name` is a DNS-1123 label (e.g. a namespace name), else why.
std::string Dns1123LabelError(std::string_view name);

// InvalidArgument naming `field_path` and the bad key/value, or OK.
Status ValidateLabelKey(std::string_view key, std::string_view field_path);
Status ValidateLabelValue(std::string_view value, std::string_view field_path);
Status ValidateLabels(const Labels& labels, std::string_view field_path);

// Well-known label keys (kubernetes.io) used across gpufleet.
namespace labels {
inline constexpr std::string_view kHostname = "kubernetes.io/hostname";
inline constexpr std::string_view kArch = "kubernetes.io/arch";
inline constexpr std::string_view kOs = "kubernetes.io/os";
inline constexpr std::string_view kInstanceType = "node.kubernetes.io/instance-type";
inline constexpr std::string_view kZone = "topology.kubernetes.io/zone";
inline constexpr std::string_view kRegion = "topology.kubernetes.io/region";
inline constexpr std::string_view kWindowsBuild = "node.kubernetes.io/windows-build";
}  // namespace labels

// Maps deprecated beta label keys to their GA names, as Karpenter normalizes requirements
// (failure-domain.beta.kubernetes.io/zone -> topology.kubernetes.io/zone, ...). Other keys are
// returned unchanged.
std::string_view NormalizeLabelKey(std::string_view key);

}  // namespace gpufleet::core
