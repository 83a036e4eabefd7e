#include "core/labels.h"

#include <array>
#include <string>
#include <utility>

namespace gpufleet::core {
namespace {

constexpr size_t kMaxNameLength = 63;
constexpr size_t kMaxPrefixLength = 253;

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?
bool IsQualifiedNamePart(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])? with no length limit: Kubernetes' subdomain regex bounds only
// the whole name (253), not each dot-separated part.
bool IsDns1123LabelChars(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > kMaxPrefixLength) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (!IsDns1123LabelChars(part)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

std::string LabelKeyError(std::string_view key) {
  std::string_view name = key;
  size_t slash = key.find('/');
  if (slash != std::string_view::npos) {
    if (key.find('/', slash + 1) != std::string_view::npos) {
      return "a qualified name has at most one '/' (prefix/name, e.g. "
             "'nvidia.com/gpu.present')";
    }
    std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.empty()) return "the prefix before '/' must be non-empty";
    if (prefix.size() > kMaxPrefixLength) return "the prefix must be no more than 253 characters";
    if (!IsDns1123Subdomain(prefix)) {
      return "the prefix must be a DNS-1123 subdomain: lowercase alphanumerics, '-' and '.', "
             "starting and ending alphanumeric (e.g. 'example.com')";
    }
  }
  if (name.empty()) return "the name part must be non-empty";
  if (name.size() > kMaxNameLength) return "the name part must be no more than 63 characters";
  if (!IsQualifiedNamePart(name)) {
    return "the name part must consist of alphanumerics, '-', '_' or '.', starting and ending "
           "alphanumeric (e.g. 'MyName', 'my.name', '123-abc')";
  }
  return "";
}

std::string LabelValueError(std::string_view value) {
  if (value.empty()) return "";
  if (value.size() > kMaxNameLength) return "must be no more than 63 characters";
  if (!IsQualifiedNamePart(value)) {
    return "must be empty or consist of alphanumerics, '-', '_' or '.', starting and ending "
           "alphanumeric (e.g. 'MyValue', 'my_value', '12345')";
  }
  return "";
}

std::string Dns1123SubdomainError(std::string_view name) {
  if (name.size() > kMaxPrefixLength) return "must be no more than 253 characters";
  if (!IsDns1123Subdomain(name)) {
    return "must be a lowercase RFC 1123 subdomain: lowercase alphanumerics, '-' or '.', "
           "starting and ending alphanumeric (e.g. 'example.com')";
  }
  return "";
}

std::string Dns1123LabelError(std::string_view name) {
  if (name.size() > 63) return "must be no more than 63 characters";
  if (!IsDns1123LabelChars(name)) {
    return "must be a lowercase RFC 1123 label: lowercase alphanumerics or '-', starting and "
           "ending alphanumeric (e.g. 'my-name')";
  }
  return "";
}

Status ValidateLabelKey(std::string_view key, std::string_view field_path) {
  std::string why = LabelKeyError(key);
  if (why.empty()) return OkStatus();
  return InvalidArgumentError(std::string(field_path) + ": invalid label key " + Quote(key) +
                              ": " + why);
}

Status ValidateLabelValue(std::string_view value, std::string_view field_path) {
  std::string why = LabelValueError(value);
  if (why.empty()) return OkStatus();
  return InvalidArgumentError(std::string(field_path) + ": invalid label value " + Quote(value) +
                              ": " + why);
}

Status ValidateLabels(const Labels& labels, std::string_view field_path) {
  for (const auto& [key, value] : labels) {
    GF_RETURN_IF_ERROR(ValidateLabelKey(key, field_path));
    GF_RETURN_IF_ERROR(ValidateLabelValue(value, std::string(field_path) + "[" + key + "]"));
  }
  return OkStatus();
}

std::string_view NormalizeLabelKey(std::string_view key) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kNormalized{{
      {"failure-domain.beta.kubernetes.io/zone", labels::kZone},
      {"failure-domain.beta.kubernetes.io/region", labels::kRegion},
      {"beta.kubernetes.io/arch", labels::kArch},
      {"beta.kubernetes.io/os", labels::kOs},
      {"beta.kubernetes.io/instance-type", labels::kInstanceType},
  }};
  for (const auto& [from, to] : kNormalized) {
    if (key == from) return to;
  }
  return key;
}

}  // namespace gpufleet::core
