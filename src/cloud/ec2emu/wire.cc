#include "cloud/ec2emu/wire.h"

#include <charconv>
#include <memory>

#include <pugixml.hpp>

#include "core/time_format.h"

namespace gpufleet::cloud::ec2emu {

namespace {

bool IsIndex(std::string_view s) {
  if (s.empty() || s.size() > 6) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The tree while it is built: a value, named members, or list items by index.
struct Node {
  std::optional<std::string> value;
  std::map<std::string, std::unique_ptr<Node>, std::less<>> named;
  std::map<long, std::unique_ptr<Node>> indexed;
};

nlohmann::json ToJson(const Node& node) {
  if (node.value) return *node.value;
  if (!node.indexed.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [index, child] : node.indexed) list.push_back(ToJson(*child));
    return list;
  }
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [name, child] : node.named) object[name] = ToJson(*child);
  return object;
}

void WriteValue(pugi::xml_node parent, const char* name, const nlohmann::json& value);

void WriteMembers(pugi::xml_node element, const nlohmann::json& value) {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!it.key().empty() && it.key()[0] == '_') continue;  // the emulator's own bookkeeping
      WriteValue(element, it.key().c_str(), *it);
    }
  } else if (value.is_array()) {
    for (const auto& item : value) WriteValue(element, "item", item);
  } else if (value.is_string()) {
    element.text().set(value.get_ref<const std::string&>().c_str());
  } else if (value.is_boolean()) {
    element.text().set(value.get<bool>() ? "true" : "false");
  } else if (value.is_number_integer()) {
    element.text().set(std::to_string(value.get<long long>()).c_str());
  } else if (value.is_number()) {
    element.text().set(value.dump().c_str());
  }
}

void WriteValue(pugi::xml_node parent, const char* name, const nlohmann::json& value) {
  if (value.is_null()) return;
  WriteMembers(parent.append_child(name), value);
}

std::string Serialise(const pugi::xml_document& doc) {
  struct Writer : pugi::xml_writer {
    std::string out;
    void write(const void* data, size_t size) override { out.append(static_cast<const char*>(data), size); }
  } writer;
  doc.save(writer, "", pugi::format_raw, pugi::encoding_utf8);
  return std::move(writer.out);
}

[[noreturn]] void BadValue(std::string_view key, std::string_view value, std::string_view expected) {
  throw InvalidParameterValue("Value (" + std::string(value) + ") for parameter " + std::string(key) +
                              " is invalid. Expected " + std::string(expected) + ".");
}

}  // namespace

Result<nlohmann::json> ParamsToTree(const FormParams& params) {
  Node root;
  for (const auto& [name, value] : params) {
    if (name == "Action" || name == "Version") continue;
    Node* node = &root;
    size_t start = 0;
    while (true) {
      size_t dot = name.find('.', start);
      std::string_view part = std::string_view(name).substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (part.empty()) return InvalidArgumentError("parameter \"" + name + "\" has an empty component");
      if (node->value) return InvalidArgumentError("parameter \"" + name + "\" nests under a value");
      std::unique_ptr<Node>* slot;
      if (node == &root && IsIndex(part)) {
        return InvalidArgumentError("parameter \"" + name + "\" does not start with a name");
      }
      if (IsIndex(part)) {
        if (!node->named.empty()) return InvalidArgumentError("parameter \"" + name + "\" mixes list items and members");
        long index = std::stol(std::string(part));
        if (index < 1) return InvalidArgumentError("parameter \"" + name + "\": list indexes start at 1");
        slot = &node->indexed[index];
      } else {
        if (!node->indexed.empty()) return InvalidArgumentError("parameter \"" + name + "\" mixes list items and members");
        auto it = node->named.find(part);
        if (it == node->named.end()) it = node->named.emplace(std::string(part), nullptr).first;
        slot = &it->second;
      }
      if (!*slot) *slot = std::make_unique<Node>();
      node = slot->get();
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (!node->named.empty() || !node->indexed.empty() || node->value) {
      return InvalidArgumentError("parameter \"" + name + "\" is both a value and a structure");
    }
    node->value = value;
  }
  // A value set after its children would have been caught above; children after a value too.
  return ToJson(root);
}

std::string ParamsHash(const nlohmann::json& params) {
  return std::to_string(std::hash<std::string>{}(params.dump()));
}

ApiError InvalidParameterValue(std::string message) { return {400, "InvalidParameterValue", std::move(message)}; }
ApiError MissingParameter(std::string_view parameter) {
  return {400, "MissingParameter",
          "The request must contain the parameter " + std::string(parameter)};
}
ApiError UnknownParameter(std::string_view parameter) {
  return {400, "UnknownParameter", "The parameter " + std::string(parameter) + " is not recognized"};
}

std::string ResponseXml(std::string_view action, std::string_view request_id, const nlohmann::json& result) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto root = doc.append_child((std::string(action) + "Response").c_str());
  root.append_attribute("xmlns") = std::string(kEc2Xmlns).c_str();
  root.append_child("requestId").text().set(std::string(request_id).c_str());
  if (result.is_object()) WriteMembers(root, result);
  return Serialise(doc);
}

std::string ErrorXml(const ApiError& error, std::string_view request_id) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto root = doc.append_child("Response");
  auto e = root.append_child("Errors").append_child("Error");
  e.append_child("Code").text().set(error.code.c_str());
  e.append_child("Message").text().set(error.message.c_str());
  root.append_child("RequestID").text().set(std::string(request_id).c_str());
  return Serialise(doc);
}

std::string Ec2Time(core::TimePoint t) {
  // RFC 3339 with milliseconds, as EC2 writes launchTime and friends.
  auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(t);
  std::string s = core::FormatRfc3339(std::chrono::time_point_cast<std::chrono::seconds>(ms));
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03d", int(ms.time_since_epoch().count() % 1000));
  if (!s.empty() && s.back() == 'Z') s.insert(s.size() - 1, frac);
  return s;
}

long long IntParam(const nlohmann::json& tree, std::string_view key, long long fallback) {
  auto it = tree.find(key);
  if (it == tree.end()) return fallback;
  if (!it->is_string()) BadValue(key, it->dump(), "an integer");
  const std::string& text = it->get_ref<const std::string&>();
  long long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) BadValue(key, text, "an integer");
  return v;
}

bool BoolParam(const nlohmann::json& tree, std::string_view key, bool fallback) {
  auto it = tree.find(key);
  if (it == tree.end()) return fallback;
  if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    if (text == "true" || text == "True") return true;
    if (text == "false" || text == "False") return false;
  }
  BadValue(key, it->is_string() ? it->get<std::string>() : it->dump(), "a boolean");
}

std::string StringParam(const nlohmann::json& tree, std::string_view key) {
  auto it = tree.find(key);
  if (it == tree.end()) return "";
  if (!it->is_string()) {
    throw InvalidParameterValue("Parameter " + std::string(key) + " must be a single value");
  }
  return it->get<std::string>();
}

std::vector<std::string> StringListParam(const nlohmann::json& tree, std::string_view key) {
  std::vector<std::string> out;
  auto it = tree.find(key);
  if (it == tree.end()) return out;
  if (!it->is_array()) throw InvalidParameterValue("Parameter " + std::string(key) + " must be a list (" + std::string(key) + ".N)");
  for (const auto& v : *it) {
    if (!v.is_string()) throw InvalidParameterValue("Parameter " + std::string(key) + ".N must hold values");
    out.push_back(v.get<std::string>());
  }
  return out;
}

nlohmann::json TagsFor(const nlohmann::json& tree, std::string_view resource_type) {
  nlohmann::json tags = nlohmann::json::array();
  auto specs = tree.find("TagSpecification");
  if (specs == tree.end()) return tags;
  if (!specs->is_array()) throw InvalidParameterValue("TagSpecification must be a list (TagSpecification.N)");
  for (const auto& spec : *specs) {
    if (!spec.is_object()) throw InvalidParameterValue("TagSpecification.N must be a structure");
    const std::string type = StringParam(spec, "ResourceType");
    if (type.empty()) throw MissingParameter("TagSpecification.N.ResourceType");
    if (type != resource_type) continue;
    auto list = spec.find("Tag");
    if (list == spec.end()) continue;
    if (!list->is_array()) throw InvalidParameterValue("TagSpecification.N.Tag must be a list");
    for (const auto& tag : *list) {
      const std::string key = tag.is_object() ? StringParam(tag, "Key") : "";
      if (key.empty()) throw MissingParameter("TagSpecification.N.Tag.N.Key");
      if (key.rfind("aws:", 0) == 0) {
        throw InvalidParameterValue("Tag keys starting with 'aws:' are reserved for internal use");
      }
      tags.push_back({{"key", key}, {"value", StringParam(tag, "Value")}});
    }
  }
  return tags;
}

}  // namespace gpufleet::cloud::ec2emu
