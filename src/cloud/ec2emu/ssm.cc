// SSM's JSON protocol (X-Amz-Target: AmazonSSM.<Op>), for the public parameters Karpenter reads
// to resolve AMI aliases: /aws/service/eks/optimized-ami/<k8s>/amazon-linux-2023/<arch>/<variant>/
// recommended/image_id (al2023@latest) and .../<arch>/<variant>/amazon-eks-node-al2023-<arch>-
// <variant>-<k8s>-<release>/image_id (al2023@<release>), answered from the seeded images.
#include <regex>

#include "cloud/ec2emu/service.h"

namespace gpufleet::cloud::ec2emu {

using nlohmann::json;

namespace {

Reply SsmError(int status, std::string_view type, std::string_view message) {
  return Reply{status, "application/x-amz-json-1.1", json{{"__type", type}, {"message", message}}.dump()};
}

}  // namespace

Reply Ec2Service::HandleSsm(std::string_view target, std::string_view body) {
  static const std::regex kAlias(
      R"(^/aws/service/eks/optimized-ami/1\.(\d+)/amazon-linux-2023/(x86_64|arm64)/(standard|nvidia|neuron)/)"
      R"((recommended|amazon-eks-node-al2023-(x86_64|arm64)-(standard|nvidia|neuron)-1\.(\d+)-(v\d{8})))"
      R"((/image_id)?$)");
  const std::string op(target.substr(target.find('.') == std::string_view::npos ? 0 : target.find('.') + 1));
  if (op != "GetParameter" && op != "GetParameters") {
    return SsmError(400, "UnknownOperationException", "Operation " + op + " is not supported by the emulator");
  }
  json request = json::parse(body, nullptr, false);
  if (request.is_discarded() || !request.is_object()) {
    return SsmError(400, "SerializationException", "The request body is not a JSON object");
  }
  std::vector<std::string> names;
  if (op == "GetParameter") {
    if (!request.contains("Name") || !request["Name"].is_string()) {
      return SsmError(400, "ValidationException", "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null");
    }
    names.push_back(request["Name"].get<std::string>());
  } else {
    if (!request.contains("Names") || !request["Names"].is_array() || request["Names"].empty()) {
      return SsmError(400, "ValidationException", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    for (const auto& n : request["Names"]) {
      if (!n.is_string()) return SsmError(400, "SerializationException", "Names must hold strings");
      names.push_back(n.get<std::string>());
    }
  }
  json found = json::array(), invalid = json::array();
  for (const auto& name : names) {
    std::smatch m;
    const json* image = nullptr;
    if (std::regex_match(name, m, kAlias)) {
      const bool pinned = m[4].str() != "recommended";
      const int minor = std::stoi(m[1].str());
      if (!pinned || (m[5] == m[2] && m[6] == m[3] && std::stoi(m[7].str()) == minor && m[8] == "v20251120")) {
        for (const auto& [id, img] : store_->All("image")) {
          if (img.value("_k8sMinor", 0) == minor && img.value("architecture", "") == m[2].str() &&
              img.value("_variant", "") == m[3].str()) {
            image = &img;
          }
        }
      }
    }
    if (image == nullptr) {
      invalid.push_back(name);
      continue;
    }
    const bool whole = !m[9].matched;  // ".../recommended" is a JSON document, not just the id
    const std::string value =
        whole ? json{{"image_id", image->value("imageId", "")}, {"image_name", image->value("name", "")},
                     {"release_version", "1." + std::to_string(image->value("_k8sMinor", 0)) + ".0-20251120"}}.dump()
              : image->value("imageId", "");
    found.push_back({{"Name", name}, {"Type", "String"}, {"Value", value}, {"Version", 1},
                     {"LastModifiedDate", 1763596800.0}, {"DataType", whole ? "text" : "aws:ec2:image"},
                     {"ARN", "arn:aws:ssm:" + catalog_.region() + "::parameter" + name}});
  }
  if (op == "GetParameter") {
    if (found.empty()) return SsmError(400, "ParameterNotFound", "Parameter " + names[0] + " not found.");
    return Reply{200, "application/x-amz-json-1.1", json{{"Parameter", found[0]}}.dump()};
  }
  return Reply{200, "application/x-amz-json-1.1", json{{"Parameters", found}, {"InvalidParameters", invalid}}.dump()};
}

}  // namespace gpufleet::cloud::ec2emu
