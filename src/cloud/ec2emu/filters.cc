#include "cloud/ec2emu/filters.h"

#include "cloud/ec2emu/wire.h"

namespace gpufleet::cloud::ec2emu {

namespace {

std::vector<std::string> TagValues(const nlohmann::json& resource, std::string_view key, bool want_key) {
  std::vector<std::string> out;
  auto tags = resource.find("tagSet");
  if (tags == resource.end() || !tags->is_array()) return out;
  for (const auto& tag : *tags) {
    if (want_key) {
      out.push_back(tag.value("key", ""));
    } else if (key.empty() || tag.value("key", "") == key) {
      out.push_back(tag.value("value", ""));
    }
  }
  return out;
}

}  // namespace

bool WildcardMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::function<std::vector<std::string>(const nlohmann::json&)> Field(std::string path) {
  return [path = std::move(path)](const nlohmann::json& resource) -> std::vector<std::string> {
    const nlohmann::json* node = &resource;
    size_t start = 0;
    while (start <= path.size()) {
      size_t dot = path.find('.', start);
      auto it = node->find(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (it == node->end()) return {};
      node = &*it;
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (node->is_string()) return {node->get<std::string>()};
    if (node->is_boolean()) return {node->get<bool>() ? "true" : "false"};
    if (node->is_number_integer()) return {std::to_string(node->get<long long>())};
    if (node->is_number()) return {node->dump()};
    if (node->is_array()) {
      std::vector<std::string> out;
      for (const auto& v : *node) {
        if (v.is_string()) out.push_back(v.get<std::string>());
      }
      return out;
    }
    return {};
  };
}

std::vector<Filter> ParseFilters(const nlohmann::json& tree, const FilterFields& known) {
  std::vector<Filter> filters;
  auto list = tree.find("Filter");
  if (list == tree.end()) return filters;
  if (!list->is_array()) throw InvalidParameterValue("Filter must be a list (Filter.N.Name, Filter.N.Value.M)");
  for (const auto& f : *list) {
    if (!f.is_object()) throw InvalidParameterValue("Filter.N must be a structure with Name and Value.M");
    Filter filter{.name = StringParam(f, "Name"), .values = StringListParam(f, "Value")};
    if (filter.name.empty()) throw MissingParameter("Filter.N.Name");
    const bool tag = filter.name.rfind("tag:", 0) == 0 || filter.name == "tag-key" || filter.name == "tag-value";
    if (!tag && !known.contains(filter.name)) {
      std::string names;
      for (const auto& [name, fn] : known) names += (names.empty() ? "" : ", ") + name;
      throw InvalidParameterValue("The filter '" + filter.name + "' is invalid (supported: " + names +
                                  ", tag:KEY, tag-key, tag-value)");
    }
    if (filter.values.empty()) throw InvalidParameterValue("The filter '" + filter.name + "' has no values (Filter.N.Value.M)");
    filters.push_back(std::move(filter));
  }
  return filters;
}

bool MatchesFilters(const nlohmann::json& resource, const std::vector<Filter>& filters, const FilterFields& fields) {
  for (const Filter& filter : filters) {
    std::vector<std::string> have;
    if (filter.name.rfind("tag:", 0) == 0) {
      have = TagValues(resource, std::string_view(filter.name).substr(4), false);
      if (filter.name.size() == 4) have.clear();
    } else if (filter.name == "tag-key") {
      have = TagValues(resource, "", true);
    } else if (filter.name == "tag-value") {
      have = TagValues(resource, "", false);
    } else {
      have = fields.at(filter.name)(resource);
    }
    bool any = false;
    for (const auto& want : filter.values) {
      for (const auto& h : have) {
        if (WildcardMatch(want, h)) {
          any = true;
          break;
        }
      }
      if (any) break;
    }
    if (!any) return false;
  }
  return true;
}

}  // namespace gpufleet::cloud::ec2emu

namespace gpufleet::cloud::ec2emu {

nlohmann::json Select(const std::map<std::string, nlohmann::json>& all, const std::vector<std::string>& ids,
                      const std::vector<Filter>& filters, const FilterFields& fields,
                      const std::function<ApiError(const std::string& id)>& not_found) {
  nlohmann::json out = nlohmann::json::array();
  if (ids.empty()) {
    for (const auto& [id, resource] : all) {
      if (MatchesFilters(resource, filters, fields)) out.push_back(resource);
    }
    return out;
  }
  for (const auto& id : ids) {
    if (!all.contains(id)) throw not_found(id);
  }
  for (const auto& [id, resource] : all) {
    if (std::find(ids.begin(), ids.end(), id) != ids.end() && MatchesFilters(resource, filters, fields)) {
      out.push_back(resource);
    }
  }
  return out;
}

}  // namespace gpufleet::cloud::ec2emu
