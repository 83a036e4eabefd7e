#include "apiserver/protobuf_body.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "apiserver/api_handler.h"
#include "apiserver/protobuf_json.h"
#include "apiserver/sqlite_store.h"
#include "k8s/apps_v1.pb.h"
#include "k8s/core_v1.pb.h"
#include "k8s/meta_v1.pb.h"
#include "k8s/policy_v1.pb.h"
#include "k8s/rbac_v1.pb.h"
#include "k8s/runtime.pb.h"
#include "testing/status_matchers.h"

namespace gpufleet::apiserver {
namespace {

namespace pb = google::protobuf;
namespace corev1 = ::k8s::io::api::core::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
namespace policyv1 = ::k8s::io::api::policy::v1;
namespace rbacv1 = ::k8s::io::api::rbac::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;
using json = nlohmann::json;
using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;

// "k8s\0" + runtime.Unknown{typeMeta, raw}, as client-go's protobuf serializer writes it.
std::string Envelope(const std::string& api_version, const std::string& kind,
                     const std::string& raw, const std::string& content_encoding = "") {
  ::k8s::io::apimachinery::pkg::runtime::Unknown u;
  u.mutable_typemeta()->set_apiversion(api_version);
  u.mutable_typemeta()->set_kind(kind);
  u.set_raw(raw);
  u.set_contentencoding(content_encoding);
  u.set_contenttype("");
  return std::string(kProtobufMagic) + u.SerializeAsString();
}

std::string Body(const std::string& api_version, const std::string& kind, const pb::Message& m) {
  return Envelope(api_version, kind, m.SerializeAsString());
}

// ObjectMeta as Go's generated marshaller writes it: every non-pointer field is on the wire, zero
// or not, and creationTimestamp is an empty Time.
void GoMeta(metav1::ObjectMeta* m, const std::string& name, const std::string& ns = "") {
  m->set_name(name);
  m->set_generatename("");
  m->set_namespace_(ns);
  m->set_selflink("");
  m->set_uid("");
  m->set_resourceversion("");
  m->set_generation(0);
  m->mutable_creationtimestamp();
}

json Decode(const std::string& body) {
  auto r = DecodeProtobufBody(body);
  EXPECT_THAT(r, ::gpufleet::testing::IsOk());
  return r.ok() ? *r : json();
}

TEST(ProtobufBodyTest, ConfigMapWithDataBinaryDataAndLabels) {
  corev1::ConfigMap cm;
  GoMeta(cm.mutable_metadata(), "cfg", "default");
  (*cm.mutable_metadata()->mutable_labels())["app"] = "web";
  (*cm.mutable_data())["a"] = "b";
  (*cm.mutable_data())["empty"] = "";
  (*cm.mutable_binarydata())["bin"] = std::string("\x00\x01\x02\xff", 4);
  EXPECT_EQ(Decode(Body("v1", "ConfigMap", cm)), json::parse(R"({
    "apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "cfg", "namespace": "default", "labels": {"app": "web"},
                 "creationTimestamp": null},
    "data": {"a": "b", "empty": ""},
    "binaryData": {"bin": "AAEC/w=="}})"));
}

TEST(ProtobufBodyTest, SecretDataIsBase64AndPointerFalseIsKept) {
  corev1::Secret s;
  GoMeta(s.mutable_metadata(), "creds");
  (*s.mutable_data())["password"] = "s3cr3t";
  (*s.mutable_stringdata())["user"] = "admin";
  s.set_type("Opaque");
  s.set_immutable(false);  // *bool: on the wire means set
  EXPECT_EQ(Decode(Body("v1", "Secret", s)), json::parse(R"({
    "apiVersion": "v1", "kind": "Secret",
    "metadata": {"name": "creds", "creationTimestamp": null},
    "data": {"password": "czNjcjN0"}, "stringData": {"user": "admin"},
    "type": "Opaque", "immutable": false})"));
}

TEST(ProtobufBodyTest, NamespaceWithEmptySpecAndStatus) {
  corev1::Namespace ns;
  GoMeta(ns.mutable_metadata(), "team-a");
  ns.mutable_spec();
  ns.mutable_status()->set_phase("");
  EXPECT_EQ(Decode(Body("v1", "Namespace", ns)), json::parse(R"({
    "apiVersion": "v1", "kind": "Namespace",
    "metadata": {"name": "team-a", "creationTimestamp": null}, "spec": {}, "status": {}})"));
}

// What `kubectl create deployment web --image=nginx --port=80 --replicas=2` sends, plus
// resources and a rolling-update strategy.
appsv1::Deployment WebDeployment() {
  appsv1::Deployment d;
  GoMeta(d.mutable_metadata(), "web");
  (*d.mutable_metadata()->mutable_labels())["app"] = "web";
  auto* spec = d.mutable_spec();
  spec->set_replicas(2);
  (*spec->mutable_selector()->mutable_matchlabels())["app"] = "web";
  GoMeta(spec->mutable_template_()->mutable_metadata(), "");
  (*spec->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = "web";
  auto* pod = spec->mutable_template_()->mutable_spec();
  pod->set_restartpolicy("");
  pod->set_dnspolicy("");
  pod->set_hostnetwork(false);
  pod->set_schedulername("");
  pod->set_priorityclassname("");
  auto* c = pod->add_containers();
  c->set_name("nginx");
  c->set_image("nginx");
  c->set_workingdir("");
  c->set_stdin(false);
  c->set_tty(false);
  auto* port = c->add_ports();
  port->set_name("");
  port->set_hostport(0);
  port->set_containerport(80);
  port->set_protocol("TCP");
  (*c->mutable_resources()->mutable_limits())["cpu"].set_string("500m");
  (*c->mutable_resources()->mutable_limits())["memory"].set_string("1Gi");
  (*c->mutable_resources()->mutable_requests())["cpu"].set_string("250m");
  auto* strategy = spec->mutable_strategy();
  strategy->set_type("RollingUpdate");
  strategy->mutable_rollingupdate()->mutable_maxsurge()->set_type(1);
  strategy->mutable_rollingupdate()->mutable_maxsurge()->set_strval("25%");
  strategy->mutable_rollingupdate()->mutable_maxunavailable()->set_type(0);
  strategy->mutable_rollingupdate()->mutable_maxunavailable()->set_intval(1);
  spec->set_minreadyseconds(0);
  spec->set_paused(false);
  d.mutable_status()->set_replicas(0);
  d.mutable_status()->set_observedgeneration(0);
  return d;
}

TEST(ProtobufBodyTest, DeploymentWithContainersPortsResourcesAndStrategy) {
  EXPECT_EQ(Decode(Body("apps/v1", "Deployment", WebDeployment())), json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}, "creationTimestamp": null},
    "spec": {
      "replicas": 2,
      "selector": {"matchLabels": {"app": "web"}},
      "template": {
        "metadata": {"labels": {"app": "web"}, "creationTimestamp": null},
        "spec": {"containers": [{
          "name": "nginx", "image": "nginx",
          "ports": [{"containerPort": 80, "protocol": "TCP"}],
          "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "250m"}}
        }]}
      },
      "strategy": {"type": "RollingUpdate",
                   "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}
    },
    "status": {}})"));
}

TEST(ProtobufBodyTest, PointerZeroIsKeptAndPlainZeroDropped) {
  appsv1::Deployment d = WebDeployment();
  d.mutable_spec()->set_replicas(0);              // *int32
  d.mutable_spec()->set_revisionhistorylimit(0);  // *int32
  d.mutable_spec()->set_minreadyseconds(0);       // int32, omitempty
  json j = Decode(Body("apps/v1", "Deployment", d));
  EXPECT_EQ(j["spec"]["replicas"], 0);
  EXPECT_EQ(j["spec"]["revisionHistoryLimit"], 0);
  EXPECT_FALSE(j["spec"].contains("minReadySeconds"));
  EXPECT_FALSE(j["spec"].contains("paused"));
}

TEST(ProtobufBodyTest, EvictionWithDeleteOptions) {
  policyv1::Eviction e;
  GoMeta(e.mutable_metadata(), "web-1", "default");
  e.mutable_deleteoptions()->set_graceperiodseconds(0);
  e.mutable_deleteoptions()->mutable_preconditions()->set_uid("u-1");
  EXPECT_EQ(Decode(Body("policy/v1", "Eviction", e)), json::parse(R"({
    "apiVersion": "policy/v1", "kind": "Eviction",
    "metadata": {"name": "web-1", "namespace": "default", "creationTimestamp": null},
    "deleteOptions": {"gracePeriodSeconds": 0, "preconditions": {"uid": "u-1"}}})"));
}

TEST(ProtobufBodyTest, DeleteOptionsInAnyGroupVersion) {
  metav1::DeleteOptions o;
  o.set_propagationpolicy("Background");
  o.add_dryrun("All");
  EXPECT_EQ(Decode(Body("apps/v1", "DeleteOptions", o)), json::parse(R"({
    "apiVersion": "apps/v1", "kind": "DeleteOptions",
    "propagationPolicy": "Background", "dryRun": ["All"]})"));
}

TEST(ProtobufBodyTest, RoleBinding) {
  rbacv1::RoleBinding rb;
  GoMeta(rb.mutable_metadata(), "alice-view", "default");
  auto* subject = rb.add_subjects();
  subject->set_kind("User");
  subject->set_apigroup("rbac.authorization.k8s.io");
  subject->set_name("alice");
  subject->set_namespace_("");
  rb.mutable_roleref()->set_apigroup("rbac.authorization.k8s.io");
  rb.mutable_roleref()->set_kind("ClusterRole");
  rb.mutable_roleref()->set_name("view");
  EXPECT_EQ(Decode(Body("rbac.authorization.k8s.io/v1", "RoleBinding", rb)), json::parse(R"({
    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
    "metadata": {"name": "alice-view", "namespace": "default", "creationTimestamp": null},
    "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}],
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                "name": "view"}})"));
}

TEST(ProtobufBodyTest, TimesManagedFieldsAndOwnerReferences) {
  corev1::ConfigMap cm;
  auto* m = cm.mutable_metadata();
  m->set_name("t");
  m->mutable_creationtimestamp()->set_seconds(1767225600);  // 2026-01-01T00:00:00Z
  m->mutable_creationtimestamp()->set_nanos(999'000'000);   // truncated in JSON, as Go does
  m->mutable_deletiontimestamp()->set_seconds(0);           // set: the epoch, not null
  m->set_deletiongraceperiodseconds(0);
  auto* mf = m->add_managedfields();
  mf->set_manager("kubectl-create");
  mf->set_operation("Update");
  mf->set_apiversion("v1");
  mf->mutable_time()->set_seconds(1767225661);
  mf->set_fieldstype("FieldsV1");
  mf->mutable_fieldsv1()->set_raw(R"({"f:data":{".":{},"f:a":{}}})");
  auto* owner = m->add_ownerreferences();
  owner->set_apiversion("apps/v1");
  owner->set_kind("Deployment");
  owner->set_name("web");
  owner->set_uid("u-2");
  owner->set_controller(true);
  EXPECT_EQ(Decode(Body("v1", "ConfigMap", cm))["metadata"], json::parse(R"({
    "name": "t",
    "creationTimestamp": "2026-01-01T00:00:00Z",
    "deletionTimestamp": "1970-01-01T00:00:00Z",
    "deletionGracePeriodSeconds": 0,
    "managedFields": [{"manager": "kubectl-create", "operation": "Update", "apiVersion": "v1",
                       "time": "2026-01-01T00:01:01Z", "fieldsType": "FieldsV1",
                       "fieldsV1": {"f:data": {".": {}, "f:a": {}}}}],
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                         "uid": "u-2", "controller": true}]})"));
}

TEST(ProtobufBodyTest, MicroTimeHasMicroseconds) {
  metav1::MicroTime t;
  t.set_seconds(1767225600);
  t.set_nanos(123'456'789);
  auto j = ProtobufToJson(t);
  GF_ASSERT_OK(j);
  EXPECT_EQ(*j, "2026-01-01T00:00:00.123456Z");
}

TEST(ProtobufBodyTest, TimeOutOfRangeIsRejected) {
  corev1::ConfigMap cm;
  cm.mutable_metadata()->mutable_creationtimestamp()->set_seconds(253402300800);  // year 10000
  EXPECT_THAT(DecodeProtobufBody(Body("v1", "ConfigMap", cm)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("out of range")));
  cm.mutable_metadata()->mutable_creationtimestamp()->set_seconds(0);
  cm.mutable_metadata()->mutable_creationtimestamp()->set_nanos(-1);
  EXPECT_THAT(DecodeProtobufBody(Body("v1", "ConfigMap", cm)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("out of range")));
}

TEST(ProtobufBodyTest, UnknownFieldIsRejectedByNumberAndType) {
  appsv1::Deployment d = WebDeployment();
  auto* pod = d.mutable_spec()->mutable_template_()->mutable_spec();
  // 14 is securityContext, which proto/k8s leaves out.
  pod->GetReflection()->MutableUnknownFields(pod)->AddLengthDelimited(14, "");
  EXPECT_THAT(DecodeProtobufBody(Body("apps/v1", "Deployment", d)),
              StatusIs(StatusCode::kUnimplemented,
                       "protobuf body: field 14 of k8s.io.api.core.v1.PodSpec is not supported by "
                       "this server; send application/json"));
  pod->GetReflection()->MutableUnknownFields(pod)->AddVarint(99, 1);
  EXPECT_THAT(DecodeProtobufBody(Body("apps/v1", "Deployment", d)),
              StatusIs(StatusCode::kUnimplemented,
                       HasSubstr("fields 14, 99 of k8s.io.api.core.v1.PodSpec are")));
}

TEST(ProtobufBodyTest, UnknownFieldInASpecialTypeIsRejected) {
  corev1::Service svc;
  auto* port = svc.mutable_spec()->add_ports();
  port->set_port(80);
  port->mutable_targetport()->set_intval(8080);
  port->mutable_targetport()
      ->GetReflection()
      ->MutableUnknownFields(port->mutable_targetport())
      ->AddVarint(7, 1);
  EXPECT_THAT(DecodeProtobufBody(Body("v1", "Service", svc)),
              StatusIs(StatusCode::kUnimplemented,
                       HasSubstr("field 7 of k8s.io.apimachinery.pkg.util.intstr.IntOrString")));
}

TEST(ProtobufBodyTest, BadMagicIsRejected) {
  corev1::ConfigMap cm;
  std::string body = Body("v1", "ConfigMap", cm);
  body[0] = 'K';
  EXPECT_THAT(DecodeProtobufBody(body),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("prefix")));
  EXPECT_THAT(DecodeProtobufBody(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodeProtobufBody("{\"kind\":\"ConfigMap\"}"),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ProtobufBodyTest, UnsupportedKindNamesApiVersionAndKind) {
  corev1::ConfigMap cm;
  EXPECT_THAT(
      DecodeProtobufBody(Body("batch/v1", "Job", cm)),
      StatusIs(StatusCode::kUnimplemented, HasSubstr("apiVersion \"batch/v1\", kind \"Job\"")));
  EXPECT_THAT(DecodeProtobufBody(Body("v2", "ConfigMap", cm)),
              StatusIs(StatusCode::kUnimplemented));
}

TEST(ProtobufBodyTest, TruncatedBytesAreRejected) {
  appsv1::Deployment d = WebDeployment();
  std::string raw = d.SerializeAsString();
  std::string whole = Envelope("apps/v1", "Deployment", raw);
  EXPECT_THAT(DecodeProtobufBody(whole.substr(0, whole.size() - 5)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("runtime.Unknown")));
  EXPECT_THAT(DecodeProtobufBody(Envelope("apps/v1", "Deployment", raw.substr(0, raw.size() - 5))),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("malformed apps/v1 Deployment")));
}

TEST(ProtobufBodyTest, ContentEncodingIsRejected) {
  corev1::ConfigMap cm;
  EXPECT_THAT(DecodeProtobufBody(Envelope("v1", "ConfigMap", cm.SerializeAsString(), "gzip")),
              StatusIs(StatusCode::kUnimplemented, HasSubstr("contentEncoding \"gzip\"")));
}

TEST(ProtobufBodyTest, InvalidValuesAreRejected) {
  corev1::ConfigMap cm;
  (*cm.mutable_data())["k"] = "\xff\xfe";
  EXPECT_THAT(DecodeProtobufBody(Body("v1", "ConfigMap", cm)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not valid UTF-8")));

  corev1::Service svc;
  svc.mutable_spec()->add_ports()->mutable_targetport()->set_type(2);
  EXPECT_THAT(DecodeProtobufBody(Body("v1", "Service", svc)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("IntOrString type 2")));

  corev1::ConfigMap managed;
  managed.mutable_metadata()->add_managedfields()->mutable_fieldsv1()->set_raw("{not json");
  EXPECT_THAT(DecodeProtobufBody(Body("v1", "ConfigMap", managed)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("FieldsV1")));
}

TEST(ProtobufBodyTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));                             // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));                         // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));                     // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));                             // truncated
}

// The same bodies through the REST handler: created objects, and the HTTP codes of failures.
class ProtobufBodyHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = std::filesystem::path(::testing::TempDir()) /
               ("protobuf_" +
                std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir);
    auto s = SqliteStore::Open({.path = (dir / "state.db").string()});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
    registry_ = Registry::WithBuiltins();
    handler_ = std::make_unique<ApiHandler>(*store_, *registry_, clock_,
                                            ApiHandler::Options{"127.0.0.1:6443", 1800});
    ASSERT_TRUE(handler_->Bootstrap().ok());
  }

  HttpResponse Post(const std::string& path, const std::string& body) {
    HttpRequest r;
    r.method = "POST";
    r.path = path;
    r.body = body;
    r.headers["content-type"] = "application/vnd.kubernetes.protobuf";
    r.user = "test";
    return handler_->Handle(r);
  }

  core::FakeClock clock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<ApiHandler> handler_;
};

TEST_F(ProtobufBodyHandlerTest, CreatesObjectsAndMapsErrors) {
  corev1::ConfigMap cm;
  GoMeta(cm.mutable_metadata(), "cfg");
  (*cm.mutable_data())["a"] = "b";
  auto created = Post("/api/v1/namespaces/default/configmaps", Body("v1", "ConfigMap", cm));
  ASSERT_EQ(created.status, 201) << created.body;
  json j = json::parse(created.body);
  EXPECT_EQ(j["data"], json({{"a", "b"}}));
  EXPECT_EQ(j["metadata"]["namespace"], "default");
  EXPECT_EQ(j["metadata"]["creationTimestamp"], "2026-01-01T00:00:00Z");

  auto deployment = Post("/apis/apps/v1/namespaces/default/deployments",
                         Body("apps/v1", "Deployment", WebDeployment()));
  ASSERT_EQ(deployment.status, 201) << deployment.body;
  EXPECT_EQ(json::parse(deployment.body)["spec"]["template"]["spec"]["containers"][0]["ports"][0]
                                        ["containerPort"],
            80);

  auto unsupported = Post("/api/v1/namespaces/default/configmaps", Body("batch/v1", "Job", cm));
  EXPECT_EQ(unsupported.status, 415);
  EXPECT_EQ(json::parse(unsupported.body)["reason"], "UnsupportedMediaType");
  auto malformed = Post("/api/v1/namespaces/default/configmaps", "k8s");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(json::parse(malformed.body)["reason"], "BadRequest");
}

}  // namespace
}  // namespace gpufleet::apiserver
