// LabelSelector: Kubernetes label selectors in both forms, the string syntax of `kubectl -l` and
// ?labelSelector= ("app=web,tier in (a,b),!canary,gpu.count>1") and metav1.LabelSelector
// (matchLabels + matchExpressions), with Kubernetes' validation and matching rules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/labels.h"
#include "core/status.h"

namespace gpufleet::core {

enum class SelectorOp : uint8_t {
  kEquals,        // a=b
  kDoubleEquals,  // a==b
  kNotEquals,     // a!=b
  kIn,            // a in (b,c)
  kNotIn,         // a notin (b,c)
  kExists,        // a
  kDoesNotExist,  // !a
  kGreaterThan,   // a>1
  kLessThan,      // a<1
};

struct SelectorRequirement {
  std::string key;
  SelectorOp op = SelectorOp::kExists;
  std::vector<std::string> values;  // sorted, unique

  // In/=/== need the label with a listed value; NotIn/!= also match an absent label; Gt/Lt
  // compare the label parsed as int64.
  bool Matches(const Labels& labels) const;
  // Kubernetes' canonical text: "!a", "a", "a=b", "a!=b", "a in (b,c)", "a>1".
  std::string ToString() const;

  friend bool operator==(const SelectorRequirement&, const SelectorRequirement&) = default;
};

class LabelSelector {
 public:
  // Matches every label set (the empty selector).
  static LabelSelector Everything() { return LabelSelector(false); }
  // Matches nothing (a nil metav1.LabelSelector).
  static LabelSelector Nothing() { return LabelSelector(true); }

  // Parses the string syntax. InvalidArgument naming the text, the 0-based position and what was
  // expected, or the invalid key/value. The empty string selects everything.
  static Result<LabelSelector> Parse(std::string_view text);
  // Decodes a metav1.LabelSelector; JSON null is Nothing, {} is Everything. Operators In, NotIn,
  // Exists, DoesNotExist only. Errors name `path`.
  static Result<LabelSelector> FromJson(const nlohmann::json& j, std::string_view path);

  bool Matches(const Labels& labels) const;
  bool IsEverything() const { return !nothing_ && requirements_.empty(); }
  bool IsNothing() const { return nothing_; }
  // Sorted by key.
  const std::vector<SelectorRequirement>& requirements() const { return requirements_; }
  // Canonical string form; Parse(ToString()) is equal. Nothing prints as "<none>".
  std::string ToString() const;

  friend bool operator==(const LabelSelector&, const LabelSelector&) = default;

 private:
  explicit LabelSelector(bool nothing) : nothing_(nothing) {}
  void Sort();

  bool nothing_ = false;
  std::vector<SelectorRequirement> requirements_;
};

}  // namespace gpufleet::core
