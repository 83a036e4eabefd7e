#include <mutex>
#include <random>

#include "apiserver/api_handler.h"

namespace gpufleet::apiserver {
namespace object {
namespace {

std::mt19937_64& Rng() {
  static std::mt19937_64 rng{std::random_device{}()};
  return rng;
}
std::mutex rng_mu;

}  // namespace

std::string NewUid() {
  std::lock_guard lock(rng_mu);
  uint64_t a = Rng()(), b = Rng()();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", unsigned(a >> 32),
                unsigned((a >> 16) & 0xffff), unsigned(a & 0xffff), unsigned(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string RandomSuffix() {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::lock_guard lock(rng_mu);
  std::string out;
  for (int i = 0; i < 5; ++i) out.push_back(kAlphabet[Rng()() % kAlphabet.size()]);
  return out;
}

std::string ServedPrefix(const ResourceInfo& info) {
  return "{\"apiVersion\":\"" + info.GroupVersion() + "\",";
}

const std::string& RvPlaceholder() {
  static const std::string placeholder = "rv-" + NewUid();
  return placeholder;
}

Status StampRv(std::string& json, int64_t rv) {
  // Quotes inside JSON strings are escaped, so this only matches a real resourceVersion member.
  static const std::string needle = "\"resourceVersion\":\"" + RvPlaceholder() + "\"";
  size_t at = json.find(needle);
  if (at == std::string::npos) return InternalError("computed write carries no resourceVersion placeholder");
  json.replace(at + 19, RvPlaceholder().size(), std::to_string(rv));
  return OkStatus();
}

std::string Name(const nlohmann::json& obj) {
  const auto* md = obj.is_object() && obj.contains("metadata") ? &obj["metadata"] : nullptr;
  if (!md || !md->is_object() || !md->contains("name") || !(*md)["name"].is_string()) return "";
  return (*md)["name"].get<std::string>();
}

std::string Namespace(const nlohmann::json& obj) {
  const auto* md = obj.is_object() && obj.contains("metadata") ? &obj["metadata"] : nullptr;
  if (!md || !md->is_object() || !md->contains("namespace") || !(*md)["namespace"].is_string()) {
    return "";
  }
  return (*md)["namespace"].get<std::string>();
}

core::Labels Labels(const nlohmann::json& obj) {
  core::Labels out;
  if (!obj.is_object() || !obj.contains("metadata")) return out;
  const auto& md = obj["metadata"];
  if (!md.is_object() || !md.contains("labels") || !md["labels"].is_object()) return out;
  for (auto it = md["labels"].begin(); it != md["labels"].end(); ++it) {
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

std::string FieldValue(const nlohmann::json& obj, std::string_view path) {
  const nlohmann::json* cur = &obj;
  while (!path.empty()) {
    size_t dot = path.find('.');
    std::string part(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (!cur->is_object() || !cur->contains(part)) return "";
    cur = &(*cur)[part];
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return "";
  return cur->dump();
}

}  // namespace object

Result<FieldSelector> FieldSelector::Parse(std::string_view text) {
  FieldSelector s;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view term = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (term.empty()) continue;
    Term t;
    size_t op = term.find("!=");
    size_t len = 2;
    if (op != std::string_view::npos) {
      t.equal = false;
    } else if ((op = term.find("==")) == std::string_view::npos) {
      op = term.find('=');
      len = 1;
    }
    if (op == std::string_view::npos || op == 0) {
      return InvalidArgumentError("invalid field selector \"" + std::string(term) +
                                  "\": expected field=value, field==value or field!=value");
    }
    t.field = std::string(term.substr(0, op));
    t.value = std::string(term.substr(op + len));
    s.terms.push_back(std::move(t));
  }
  return s;
}

bool FieldSelector::Matches(const nlohmann::json& obj) const {
  for (const auto& t : terms) {
    if ((object::FieldValue(obj, t.field) == t.value) != t.equal) return false;
  }
  return true;
}

std::optional<std::string> FieldSelector::PinnedName() const {
  for (const auto& t : terms) {
    if (t.field == "metadata.name" && t.equal) return t.value;
  }
  return std::nullopt;
}

}  // namespace gpufleet::apiserver
