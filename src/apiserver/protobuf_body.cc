#include "apiserver/protobuf_body.h"

#include <google/protobuf/message.h>

#include <climits>
#include <memory>
#include <string>

#include "apiserver/protobuf_json.h"
#include "k8s/apps_v1.pb.h"
#include "k8s/core_v1.pb.h"
#include "k8s/meta_v1.pb.h"
#include "k8s/policy_v1.pb.h"
#include "k8s/rbac_v1.pb.h"
#include "k8s/runtime.pb.h"

namespace gpufleet::apiserver {
namespace {

namespace pb = google::protobuf;
namespace corev1 = ::k8s::io::api::core::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
namespace policyv1 = ::k8s::io::api::policy::v1;
namespace rbacv1 = ::k8s::io::api::rbac::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

template <typename T>
const pb::Message& Prototype() {
  return T::default_instance();
}

struct Kind {
  std::string_view api_version;  // empty: any
  std::string_view kind;
  const pb::Message& (*prototype)();
};

// Naming each generated class here also keeps its descriptor linked into the binary.
constexpr Kind kKinds[] = {
    {"v1", "Namespace", &Prototype<corev1::Namespace>},
    {"v1", "ConfigMap", &Prototype<corev1::ConfigMap>},
    {"v1", "Secret", &Prototype<corev1::Secret>},
    {"v1", "ServiceAccount", &Prototype<corev1::ServiceAccount>},
    {"v1", "Service", &Prototype<corev1::Service>},
    {"v1", "Binding", &Prototype<corev1::Binding>},
    {"apps/v1", "Deployment", &Prototype<appsv1::Deployment>},
    {"policy/v1", "Eviction", &Prototype<policyv1::Eviction>},
    {"policy/v1", "PodDisruptionBudget", &Prototype<policyv1::PodDisruptionBudget>},
    {"rbac.authorization.k8s.io/v1", "Role", &Prototype<rbacv1::Role>},
    {"rbac.authorization.k8s.io/v1", "ClusterRole", &Prototype<rbacv1::ClusterRole>},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", &Prototype<rbacv1::RoleBinding>},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &Prototype<rbacv1::ClusterRoleBinding>},
    {"", "DeleteOptions", &Prototype<metav1::DeleteOptions>},
};

const Kind* FindKind(std::string_view api_version, std::string_view kind) {
  for (const Kind& k : kKinds) {
    if (k.kind == kind && (k.api_version.empty() || k.api_version == api_version)) return &k;
  }
  return nullptr;
}

}  // namespace

Result<nlohmann::json> DecodeProtobufBody(std::string_view body) {
  if (!body.starts_with(kProtobufMagic)) {
    return InvalidArgumentError(
        "protobuf body: the data does not start with the Kubernetes protobuf prefix \"k8s\\x00\"");
  }
  body.remove_prefix(kProtobufMagic.size());
  if (body.size() > INT_MAX) return InvalidArgumentError("protobuf body: too large");
  ::k8s::io::apimachinery::pkg::runtime::Unknown envelope;
  if (!envelope.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return InvalidArgumentError("protobuf body: malformed runtime.Unknown envelope");
  }
  GF_RETURN_IF_ERROR(CheckNoUnknownFields(envelope));
  GF_RETURN_IF_ERROR(CheckNoUnknownFields(envelope.typemeta()));
  const std::string& api_version = envelope.typemeta().apiversion();
  const std::string& kind = envelope.typemeta().kind();
  // Checked first: error messages quote these strings, and messages must be valid JSON text.
  if (!IsValidUtf8(api_version) || !IsValidUtf8(kind) || !IsValidUtf8(envelope.contentencoding())) {
    return InvalidArgumentError("protobuf body: the runtime.Unknown envelope is not valid UTF-8");
  }
  if (!envelope.contentencoding().empty()) {
    return UnimplementedError("protobuf body: contentEncoding \"" + envelope.contentencoding() +
                              "\" is not supported by this server; send application/json");
  }
  const Kind* k = FindKind(api_version, kind);
  if (k == nullptr) {
    return UnimplementedError(
        "protobuf body: apiVersion \"" + api_version + "\", kind \"" + kind +
        "\" is not supported in protobuf by this server; send application/json");
  }
  std::unique_ptr<pb::Message> object(k->prototype().New());
  if (!object->ParseFromString(envelope.raw())) {
    return InvalidArgumentError("protobuf body: malformed " + api_version + " " + kind + " object");
  }
  GF_ASSIGN_OR_RETURN(nlohmann::json out, ProtobufToJson(*object));
  out["apiVersion"] = api_version;
  out["kind"] = kind;
  return out;
}

}  // namespace gpufleet::apiserver
