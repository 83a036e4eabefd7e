// Fuzzes the patch functions. The input is two JSON documents, an original and a patch, split at
// the first NUL byte (or, when there is none, the first newline). Traps on:
//  - a merge patch that fails, or is not idempotent: apply(apply(o, p), p) != apply(o, p);
//  - an error code outside each function's documented set;
//  - a strategic merge patch with no directives, lists or '$' keys (empty schema) that differs
//    from the merge patch;
//  - a server-side apply that cannot re-apply its own configuration as a no-op.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/patch.h"

namespace {

namespace core = gpufleet::core;
using json = nlohmann::json;
using gpufleet::StatusCode;

bool HasArrayOrDollarKey(const json& v) {
  if (v.is_array()) return true;
  if (!v.is_object()) return false;
  for (const auto& [key, child] : v.items()) {
    if (key.starts_with("$") || HasArrayOrDollarKey(child)) return true;
  }
  return false;
}

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void FuzzMergeAndJsonPatch(const json& original, const json& patch) {
  auto once = core::ApplyMergePatch(original, patch);
  Check(once.ok());
  auto twice = core::ApplyMergePatch(*once, patch);
  Check(twice.ok() && *twice == *once);

  auto jp = core::ApplyJsonPatch(original, patch);
  if (!jp.ok()) {
    StatusCode c = jp.status().code();
    Check(c == StatusCode::kInvalidArgument || c == StatusCode::kFailedPrecondition ||
          c == StatusCode::kOutOfRange);
  }
  auto empty = core::ApplyJsonPatch(original, json::array());
  Check(empty.ok() && *empty == original);
}

void FuzzStrategic(const json& original, const json& patch) {
  static const core::PatchSchema deployment = core::ForKind("apps", "Deployment");
  auto smp = core::ApplyStrategicMergePatch(original, patch, deployment);
  if (smp.ok()) {
    Check(smp->is_object());
  } else {
    StatusCode c = smp.status().code();
    Check(c == StatusCode::kInvalidArgument || c == StatusCode::kFailedPrecondition);
  }
  if (original.is_object() && patch.is_object() && !HasArrayOrDollarKey(patch)) {
    auto plain = core::ApplyStrategicMergePatch(original, patch, core::PatchSchema());
    auto merge = core::ApplyMergePatch(original, patch);
    Check(plain.ok() && merge.ok() && *plain == *merge);
  }
}

void FuzzApply(const json& original, const json& patch) {
  static const core::PatchSchema deployment = core::ForKind("apps", "Deployment");
  if (!original.is_object()) return;
  json config = original;
  config["apiVersion"] = "apps/v1";
  config["kind"] = "Deployment";
  auto created = core::ServerSideApply(nullptr, config, "fuzz", false, deployment, "t");
  if (!created.ok()) {
    StatusCode c = created.status().code();
    Check(c == StatusCode::kInvalidArgument);
    return;
  }
  auto again = core::ServerSideApply(&created->object, config, "fuzz", false, deployment, "t");
  Check(again.ok() && again->object == created->object);

  auto other = core::ServerSideApply(&created->object, patch, "other", false, deployment, "t");
  if (!other.ok()) {
    StatusCode c = other.status().code();
    Check(c == StatusCode::kInvalidArgument || c == StatusCode::kAborted ||
          c == StatusCode::kFailedPrecondition);
  }
  auto updated = core::UpdateManagedFields(&created->object, patch, "writer", deployment);
  Check(updated.ok() == patch.is_object());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t split = text.find('\0');
  if (split == std::string_view::npos) split = text.find('\n');
  if (split == std::string_view::npos) return 0;
  auto original = core::ParseJson(text.substr(0, split), /*max_depth=*/64);
  auto patch = core::ParseJson(text.substr(split + 1), /*max_depth=*/64);
  if (!original.ok() || !patch.ok()) return 0;
  FuzzMergeAndJsonPatch(*original, *patch);
  FuzzStrategic(*original, *patch);
  FuzzApply(*original, *patch);
  return 0;
}
