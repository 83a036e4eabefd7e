// DescribeSubnets, DescribeSecurityGroups, DescribeVpcs, DescribeImages, CreateTags, DeleteTags.
#include "cloud/ec2emu/filters.h"
#include "cloud/ec2emu/service.h"

namespace gpufleet::cloud::ec2emu {

using nlohmann::json;

namespace {

// Which stored kind an id names, by EC2's prefixes.
std::string KindOf(std::string_view id) {
  static const std::pair<std::string_view, std::string_view> kPrefixes[] = {
      {"i-", "instance"},        {"lt-", "launch-template"}, {"cr-", "capacity-reservation"},
      {"subnet-", "subnet"},     {"sg-", "security-group"},  {"vpc-", "vpc"},
      {"ami-", "image"},         {"fleet-", "fleet"}};
  for (const auto& [prefix, kind] : kPrefixes) {
    if (id.rfind(prefix, 0) == 0) return std::string(kind);
  }
  return "";
}

}  // namespace

json Ec2Service::DescribeSubnets(const json& p) {
  static const FilterFields kFields = {
      {"subnet-id", Field("subnetId")},           {"vpc-id", Field("vpcId")},
      {"availability-zone", Field("availabilityZone")}, {"availability-zone-id", Field("availabilityZoneId")},
      {"state", Field("state")},                  {"cidr-block", Field("cidrBlock")},
      {"default-for-az", Field("defaultForAz")},  {"owner-id", Field("ownerId")}};
  auto items = Select(store_->All("subnet"), StringListParam(p, "SubnetId"), ParseFilters(p, kFields), kFields,
                      [](const std::string& id) {
                        return ApiError{400, "InvalidSubnetID.NotFound", "The subnet ID '" + id + "' does not exist"};
                      });
  return Page(std::move(items), p, "subnetSet", 0, 5, 1000);
}

json Ec2Service::DescribeSecurityGroups(const json& p) {
  static const FilterFields kFields = {{"group-id", Field("groupId")}, {"group-name", Field("groupName")},
                                       {"vpc-id", Field("vpcId")},     {"owner-id", Field("ownerId")},
                                       {"description", Field("groupDescription")}};
  auto filters = ParseFilters(p, kFields);
  const auto names = StringListParam(p, "GroupName");
  if (!names.empty()) filters.push_back({"group-name", names});
  for (const auto& name : names) {
    bool found = false;
    for (const auto& [id, g] : store_->All("security-group")) found = found || g.value("groupName", "") == name;
    if (!found) {
      throw ApiError{400, "InvalidGroup.NotFound", "The security group '" + name + "' does not exist in default VPC"};
    }
  }
  auto items = Select(store_->All("security-group"), StringListParam(p, "GroupId"), filters, kFields,
                      [](const std::string& id) {
                        return ApiError{400, "InvalidGroup.NotFound", "The security group '" + id + "' does not exist"};
                      });
  return Page(std::move(items), p, "securityGroupInfo", 0, 5, 1000);
}

json Ec2Service::DescribeVpcs(const json& p) {
  static const FilterFields kFields = {{"vpc-id", Field("vpcId")}, {"cidr", Field("cidrBlock")},
                                       {"state", Field("state")},  {"is-default", Field("isDefault")}};
  auto items = Select(store_->All("vpc"), StringListParam(p, "VpcId"), ParseFilters(p, kFields), kFields,
                      [](const std::string& id) {
                        return ApiError{400, "InvalidVpcID.NotFound", "The vpc ID '" + id + "' does not exist"};
                      });
  return Page(std::move(items), p, "vpcSet", 0, 5, 1000);
}

json Ec2Service::DescribeImages(const json& p) {
  static const FilterFields kFields = {
      {"image-id", Field("imageId")},         {"name", Field("name")},
      {"architecture", Field("architecture")}, {"state", Field("imageState")},
      {"owner-id", Field("imageOwnerId")},    {"owner-alias", Field("imageOwnerAlias")},
      {"image-type", Field("imageType")},     {"is-public", Field("isPublic")},
      {"platform-details", Field("platformDetails")}};
  auto filters = ParseFilters(p, kFields);
  if (auto owners = StringListParam(p, "Owner"); !owners.empty()) {
    // Owner accepts account ids and aliases ("amazon", "self").
    for (auto& o : owners) {
      if (o == "self") o = options_.account_id;
    }
    json matching = json::array();
    for (const auto& [id, image] : store_->All("image")) {
      const std::string owner = image.value("imageOwnerId", ""), alias = image.value("imageOwnerAlias", "");
      if (std::find(owners.begin(), owners.end(), owner) != owners.end() ||
          (!alias.empty() && std::find(owners.begin(), owners.end(), alias) != owners.end())) {
        matching.push_back(id);
      }
    }
    filters.push_back({"image-id", matching.empty() ? std::vector<std::string>{"-none-"} : matching.get<std::vector<std::string>>()});
  }
  auto items = Select(store_->All("image"), StringListParam(p, "ImageId"), filters, kFields,
                      [](const std::string& id) {
                        return ApiError{400, "InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist"};
                      });
  return Page(std::move(items), p, "imagesSet", 0, 5, 1000);
}

json Ec2Service::CreateTags(const json& p) {
  const auto ids = StringListParam(p, "ResourceId");
  if (ids.empty()) throw MissingParameter("ResourceId");
  auto tags_it = p.find("Tag");
  if (tags_it == p.end()) throw MissingParameter("Tag");
  if (!tags_it->is_array()) throw InvalidParameterValue("Tag must be a list (Tag.N.Key, Tag.N.Value)");
  std::vector<Change> changes;
  for (const auto& id : ids) {
    const std::string kind = KindOf(id);
    const json* resource = kind.empty() ? nullptr : store_->Get(kind, id);
    if (resource == nullptr) {
      throw ApiError{400, kind.empty() ? "InvalidID" : "InvalidID.NotFound",
                     "The ID '" + id + "' is not valid or does not exist"};
    }
    json next = *resource;
    json& set = next["tagSet"];
    if (!set.is_array()) set = json::array();
    for (const auto& tag : *tags_it) {
      const std::string key = tag.is_object() ? StringParam(tag, "Key") : "";
      if (key.empty()) throw MissingParameter("Tag.N.Key");
      if (key.rfind("aws:", 0) == 0) throw InvalidParameterValue("Tag keys starting with 'aws:' are reserved for internal use");
      bool replaced = false;
      for (auto& t : set) {
        if (t.value("key", "") == key) {
          t["value"] = StringParam(tag, "Value");
          replaced = true;
        }
      }
      if (!replaced) set.push_back({{"key", key}, {"value", StringParam(tag, "Value")}});
    }
    if (set.size() > 50) throw ApiError{400, "TagLimitExceeded", "The maximum number of tags (50) for " + id + " was exceeded"};
    changes.push_back({kind, id, std::move(next)});
  }
  CommitOrThrow(changes);
  return {{"return", true}};
}

json Ec2Service::DeleteTags(const json& p) {
  const auto ids = StringListParam(p, "ResourceId");
  if (ids.empty()) throw MissingParameter("ResourceId");
  const json tags = p.value("Tag", json::array());
  std::vector<Change> changes;
  for (const auto& id : ids) {
    const std::string kind = KindOf(id);
    const json* resource = kind.empty() ? nullptr : store_->Get(kind, id);
    if (resource == nullptr) throw ApiError{400, "InvalidID.NotFound", "The ID '" + id + "' is not valid or does not exist"};
    json next = *resource;
    json kept = json::array();
    for (const auto& t : next.value("tagSet", json::array())) {
      bool drop = tags.empty();
      for (const auto& want : tags) {
        if (want.is_object() && StringParam(want, "Key") == t.value("key", "") &&
            (!want.contains("Value") || StringParam(want, "Value") == t.value("value", ""))) {
          drop = true;
        }
      }
      if (!drop) kept.push_back(t);
    }
    next["tagSet"] = kept;
    changes.push_back({kind, id, std::move(next)});
  }
  CommitOrThrow(changes);
  return {{"return", true}};
}

}  // namespace gpufleet::cloud::ec2emu
