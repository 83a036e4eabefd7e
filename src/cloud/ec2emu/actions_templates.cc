// CreateLaunchTemplate, DeleteLaunchTemplate, DescribeLaunchTemplates, and how a launch reads a
// template's data.
#include "cloud/ec2emu/filters.h"
#include "cloud/ec2emu/service.h"

namespace gpufleet::cloud::ec2emu {

using nlohmann::json;

namespace {

const json* FindTemplateByName(const StateStore& store, std::string_view name) {
  for (const auto& [id, lt] : store.All("launch-template")) {
    if (lt.value("launchTemplateName", "") == name) return &lt;
  }
  return nullptr;
}

// The template a request names by LaunchTemplateId or LaunchTemplateName, with EC2's errors.
const json& TemplateNamed(const StateStore& store, const json& p) {
  const std::string id = StringParam(p, "LaunchTemplateId");
  const std::string name = StringParam(p, "LaunchTemplateName");
  if (!id.empty()) {
    if (const json* lt = store.Get("launch-template", id)) return *lt;
    throw ApiError{400, "InvalidLaunchTemplateId.NotFound",
                   "The specified launch template, with template ID " + id + ", does not exist."};
  }
  if (!name.empty()) {
    if (const json* lt = FindTemplateByName(store, name)) return *lt;
    throw ApiError{400, "InvalidLaunchTemplateName.NotFoundException",
                   "The specified launch template, with template name " + name + ", does not exist."};
  }
  throw MissingParameter("LaunchTemplateId or LaunchTemplateName");
}

bool ValidTemplateName(std::string_view name) {
  if (name.size() < 3 || name.size() > 128) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '(' || c == ')' || c == '.' || c == '-' || c == '/' ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

json Ec2Service::CreateLaunchTemplate(const json& p) {
  const std::string name = StringParam(p, "LaunchTemplateName");
  if (name.empty()) throw MissingParameter("LaunchTemplateName");
  if (!ValidTemplateName(name)) {
    throw ApiError{400, "InvalidLaunchTemplateName.MalformedException",
                   "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, "
                   "and the following characters: - ( ) . / _.' (got '" + name + "')"};
  }
  auto data = p.find("LaunchTemplateData");
  if (data == p.end()) throw MissingParameter("LaunchTemplateData");
  if (!data->is_object()) throw InvalidParameterValue("LaunchTemplateData must be a structure");
  if (FindTemplateByName(*store_, name) != nullptr) {
    throw ApiError{400, "InvalidLaunchTemplateName.AlreadyExistsException",
                   "Launch template name already in use."};
  }
  // Validate what a launch would read now, so a bad template fails here as on EC2.
  LaunchSpec probe;
  ApplyLaunchData(*data, probe);
  if (!probe.image_id.empty() && store_->Get("image", probe.image_id) == nullptr) {
    throw ApiError{400, "InvalidAMIID.NotFound", "The image id '[" + probe.image_id + "]' does not exist"};
  }
  const std::string id = NewId("lt");
  json lt = {{"launchTemplateId", id},
             {"launchTemplateName", name},
             {"createTime", Ec2Time(clock_.Now())},
             {"createdBy", "arn:aws:iam::" + options_.account_id + ":root"},
             {"defaultVersionNumber", 1},
             {"latestVersionNumber", 1},
             {"tagSet", TagsFor(p, "launch-template")},
             {"_data", *data}};
  CommitOrThrow({{"launch-template", id, lt}});
  return {{"launchTemplate", lt}};
}

json Ec2Service::DeleteLaunchTemplate(const json& p) {
  const json deleted = TemplateNamed(*store_, p);
  CommitOrThrow({{"launch-template", deleted["launchTemplateId"].get<std::string>(), std::nullopt}});
  return {{"launchTemplate", deleted}};
}

json Ec2Service::DescribeLaunchTemplates(const json& p) {
  static const FilterFields kFields = {{"launch-template-name", Field("launchTemplateName")},
                                       {"create-time", Field("createTime")}};
  auto filters = ParseFilters(p, kFields);
  const auto names = StringListParam(p, "LaunchTemplateName");
  for (const auto& name : names) {
    if (FindTemplateByName(*store_, name) == nullptr) {
      throw ApiError{400, "InvalidLaunchTemplateName.NotFoundException",
                     "At least one of the launch templates specified in the request does not exist."};
    }
  }
  if (!names.empty()) filters.push_back({"launch-template-name", names});
  auto items = Select(store_->All("launch-template"), StringListParam(p, "LaunchTemplateId"), filters, kFields,
                      [](const std::string&) {
                        return ApiError{400, "InvalidLaunchTemplateId.NotFound",
                                        "At least one of the launch templates specified in the request does not exist."};
                      });
  return Page(std::move(items), p, "launchTemplates", 0, 1, 200);
}

void Ec2Service::ApplyLaunchData(const json& data, LaunchSpec& spec) {
  if (auto v = StringParam(data, "ImageId"); !v.empty()) spec.image_id = v;
  if (auto v = StringParam(data, "InstanceType"); !v.empty()) spec.instance_type = v;
  if (auto v = StringParam(data, "UserData"); !v.empty()) spec.user_data = v;
  if (auto v = StringParam(data, "KeyName"); !v.empty()) spec.key_name = v;
  if (auto v = StringParam(data, "SubnetId"); !v.empty()) spec.subnet_id = v;
  if (auto sgs = StringListParam(data, "SecurityGroupId"); !sgs.empty()) spec.security_group_ids = sgs;
  if (auto profile = data.find("IamInstanceProfile"); profile != data.end() && profile->is_object()) {
    spec.iam_instance_profile = StringParam(*profile, "Arn");
    if (spec.iam_instance_profile.empty()) spec.iam_instance_profile = StringParam(*profile, "Name");
  }
  if (auto placement = data.find("Placement"); placement != data.end() && placement->is_object()) {
    if (auto z = StringParam(*placement, "AvailabilityZone"); !z.empty()) spec.zone = z;
  }
  if (auto nics = data.find("NetworkInterface"); nics != data.end() && nics->is_array()) {
    for (const auto& nic : *nics) {
      if (!nic.is_object()) continue;
      if (auto v = StringParam(nic, "SubnetId"); !v.empty()) spec.subnet_id = v;
      if (auto sgs = StringListParam(nic, "SecurityGroupId"); !sgs.empty()) spec.security_group_ids = sgs;
    }
  }
  if (auto market = data.find("InstanceMarketOptions"); market != data.end() && market->is_object()) {
    const std::string type = StringParam(*market, "MarketType");
    if (type == "spot") {
      spec.capacity_type = "spot";
    } else if (type == "capacity-block") {
      spec.capacity_type = "capacity-block";
    } else if (!type.empty()) {
      throw InvalidParameterValue("Value (" + type + ") for parameter MarketType is invalid. Expected spot or capacity-block.");
    }
  }
  if (auto crs = data.find("CapacityReservationSpecification"); crs != data.end() && crs->is_object()) {
    if (auto pref = StringParam(*crs, "CapacityReservationPreference"); !pref.empty()) {
      if (pref != "open" && pref != "none" && pref != "capacity-reservations-only") {
        throw InvalidParameterValue("Value (" + pref +
                                    ") for parameter CapacityReservationPreference is invalid. Expected open, none or "
                                    "capacity-reservations-only.");
      }
      spec.reservation_preference = pref;
    }
    if (auto target = crs->find("CapacityReservationTarget"); target != crs->end() && target->is_object()) {
      if (auto id = StringParam(*target, "CapacityReservationId"); !id.empty()) spec.reservation_id = id;
    }
  }
  for (const auto& tag : TagsFor(data, "instance")) spec.tags.push_back(tag);
}

void Ec2Service::ApplyLaunchTemplate(const json& lt_spec, LaunchSpec& spec, std::string* resolved_id) {
  const json* lt = &TemplateNamed(*store_, lt_spec);
  const std::string version = StringParam(lt_spec, "Version");
  if (!version.empty() && version != "$Latest" && version != "$Default" && version != "1") {
    throw ApiError{400, "InvalidLaunchTemplateId.VersionNotFound",
                   "Could not find launch template version " + version + " for template " +
                       lt->value("launchTemplateId", "") + "."};
  }
  ApplyLaunchData(lt->value("_data", json::object()), spec);
  spec.launch_template_id = lt->value("launchTemplateId", "");
  if (resolved_id != nullptr) *resolved_id = spec.launch_template_id;
}

}  // namespace gpufleet::cloud::ec2emu
