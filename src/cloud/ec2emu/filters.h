// EC2 describe filters (Filter.N.Name / Filter.N.Value.M): a resource matches when every filter
// matches, and a filter matches when any of its values matches one of the resource's values for
// that name. Values may use EC2's wildcards: * (any run) and ? (one character).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gpufleet::cloud::ec2emu {

struct Filter {
  std::string name;
  std::vector<std::string> values;
};

// Reads Filter.N from a parameter tree; throws ApiError (InvalidParameterValue) for a filter
// without a name or values, or a name not in `known` (tag:KEY, tag-key and tag-value are always
// known; they read the resource's tagSet).
using FilterFields = std::map<std::string, std::function<std::vector<std::string>(const nlohmann::json&)>, std::less<>>;
std::vector<Filter> ParseFilters(const nlohmann::json& tree, const FilterFields& known);

bool MatchesFilters(const nlohmann::json& resource, const std::vector<Filter>& filters, const FilterFields& fields);

// EC2 wildcard match.
bool WildcardMatch(std::string_view pattern, std::string_view text);

// A field reader for a JSON path such as "placement.availabilityZone" (a scalar; booleans and
// numbers as text).
std::function<std::vector<std::string>(const nlohmann::json&)> Field(std::string path);

}  // namespace gpufleet::cloud::ec2emu

namespace gpufleet::cloud::ec2emu {

struct ApiError;

// The resources of `all` named by `ids` (all of them when empty) that match `filters`, in id
// order. An id that does not exist throws not_found(id), as EC2 fails the whole call.
nlohmann::json Select(const std::map<std::string, nlohmann::json>& all, const std::vector<std::string>& ids,
                      const std::vector<Filter>& filters, const FilterFields& fields,
                      const std::function<ApiError(const std::string& id)>& not_found);

}  // namespace gpufleet::cloud::ec2emu
