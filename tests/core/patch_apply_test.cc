// Server-side apply and managedFields tracking (structured-merge-diff semantics): ownership in
// FieldsV1, pruning of omitted fields, conflicts in upstream's words, force, Update ownership.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/patch.h"
#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr std::string_view kNow = "2026-01-01T00:00:00Z";
constexpr std::string_view kLater = "2026-01-01T00:05:00Z";

json J(std::string_view text) {
  Result<json> r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status();
  return r.ok() ? *r : json();
}

// A Deployment apply configuration with `spec` spliced in.
json Deploy(std::string_view spec) {
  json d = J(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"}})");
  d["spec"] = J(spec);
  return d;
}

const PatchSchema& DeploySchema() {
  static const PatchSchema* schema = new PatchSchema(ForKind("apps", "Deployment"));
  return *schema;
}

json Apply(const json* live, const json& config, std::string_view manager, bool force = false) {
  Result<ApplyResult> r = ServerSideApply(live, config, manager, force, DeploySchema(), kNow);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->object : json();
}

json FieldsOf(const json& obj, std::string_view manager, std::string_view operation) {
  for (const json& e : obj["metadata"]["managedFields"]) {
    if (e["manager"] == manager && e["operation"] == operation) return e["fieldsV1"];
  }
  return nullptr;
}

TEST(ServerSideApply, CreateRecordsOwnershipInFieldsV1) {
  json config = Deploy(R"({"replicas":3,"template":{"spec":{"containers":[
      {"name":"app","image":"app:1","ports":[{"containerPort":80}]}]}}})");
  config["metadata"]["labels"] = {{"app", "web"}};
  GF_ASSERT_OK_AND_ASSIGN(ApplyResult r,
                          ServerSideApply(nullptr, config, "kubectl", false, DeploySchema(), kNow));
  EXPECT_EQ(r.managed_fields, J(R"([{"manager":"kubectl","operation":"Apply",
    "apiVersion":"apps/v1","time":"2026-01-01T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":{
      "f:metadata":{"f:labels":{"f:app":{}}},
      "f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{
        "k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{
        "k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}}])"));
  json expected = config;
  expected["metadata"]["managedFields"] = r.managed_fields;
  EXPECT_EQ(r.object, expected);
}

TEST(ServerSideApply, ReapplyIsANoop) {
  json config = Deploy(R"({"replicas":3,"paused":false})");
  json first = Apply(nullptr, config, "kubectl");
  json second = Apply(&first, config, "kubectl");
  EXPECT_EQ(first, second);
}

TEST(ServerSideApply, OmittedFieldIsRemoved) {
  json live = Apply(nullptr, Deploy(R"({"replicas":3,"paused":true})"), "kubectl");
  json next = Apply(&live, Deploy(R"({"replicas":3})"), "kubectl");
  EXPECT_FALSE(next["spec"].contains("paused"));
  EXPECT_EQ(FieldsOf(next, "kubectl", "Apply"), J(R"({"f:spec":{"f:replicas":{}}})"));
}

TEST(ServerSideApply, OmittedFieldOwnedByAnotherManagerIsKept) {
  json live = Apply(nullptr, Deploy(R"({"replicas":3,"paused":true})"), "a");
  live = Apply(&live, Deploy(R"({"paused":true})"), "b");  // Same value: shared ownership.
  json next = Apply(&live, Deploy(R"({"replicas":3})"), "a");
  EXPECT_EQ(next["spec"]["paused"], true);
  EXPECT_EQ(FieldsOf(next, "b", "Apply"), J(R"({"f:spec":{"f:paused":{}}})"));
}

TEST(ServerSideApply, ConflictWithAnUpdaterUsesUpstreamWording) {
  GF_ASSERT_OK_AND_ASSIGN(
      json live, UpdateManagedFields(nullptr, Deploy(R"({"replicas":1})"),
                                     "kubectl-client-side-apply", DeploySchema(), "Update", kNow));
  std::vector<ApplyConflict> conflicts;
  EXPECT_THAT(ServerSideApply(&live, Deploy(R"({"replicas":3})"), "kubectl", false, DeploySchema(),
                              kNow, &conflicts),
              StatusIs(StatusCode::kAborted,
                       "Apply failed with 1 conflict: conflict with "
                       "\"kubectl-client-side-apply\" using apps/v1: .spec.replicas"));
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0].manager, "\"kubectl-client-side-apply\" using apps/v1");
  EXPECT_EQ(conflicts[0].field, ".spec.replicas");
}

TEST(ServerSideApply, SameValueIsNotAConflict) {
  GF_ASSERT_OK_AND_ASSIGN(json live, UpdateManagedFields(nullptr, Deploy(R"({"replicas":1})"),
                                                         "editor", DeploySchema(), "Update", kNow));
  json next = Apply(&live, Deploy(R"({"replicas":1})"), "kubectl");
  EXPECT_EQ(FieldsOf(next, "kubectl", "Apply"), J(R"({"f:spec":{"f:replicas":{}}})"));
  EXPECT_EQ(FieldsOf(next, "editor", "Update")["f:spec"]["f:replicas"], json::object());
}

TEST(ServerSideApply, ForceTakesOwnership) {
  GF_ASSERT_OK_AND_ASSIGN(
      json live, UpdateManagedFields(nullptr, Deploy(R"({"replicas":1,"paused":true})"), "editor",
                                     DeploySchema(), "Update", kNow));
  json next = Apply(&live, Deploy(R"({"replicas":5})"), "kubectl", /*force=*/true);
  EXPECT_EQ(next["spec"]["replicas"], 5);
  EXPECT_EQ(FieldsOf(next, "editor", "Update"), J(R"({"f:spec":{".":{},"f:paused":{}}})"));
  EXPECT_EQ(FieldsOf(next, "kubectl", "Apply"), J(R"({"f:spec":{"f:replicas":{}}})"));
}

TEST(ServerSideApply, SeveralConflictsAreGroupedByManager) {
  GF_ASSERT_OK_AND_ASSIGN(json live, UpdateManagedFields(nullptr, Deploy(R"({"replicas":1})"), "a",
                                                         DeploySchema(), "Update", kNow));
  live = Apply(&live, Deploy(R"({"paused":false})"), "b");
  EXPECT_THAT(ServerSideApply(&live, Deploy(R"({"replicas":2,"paused":true})"), "c", false,
                              DeploySchema(), kNow),
              StatusIs(StatusCode::kAborted,
                       "Apply failed with 2 conflicts: conflicts with \"a\" using apps/v1:\n"
                       "- .spec.replicas\nconflicts with \"b\":\n- .spec.paused"));
}

TEST(ServerSideApply, KeyedListItemsBelongToTheirAppliers) {
  json live = Apply(nullptr, Deploy(R"({"template":{"spec":{"containers":[
                                        {"name":"app","image":"a:1"}]}}})"),
                    "a");
  live = Apply(&live, Deploy(R"({"template":{"spec":{"containers":[
                                 {"name":"sidecar","image":"s:1"}]}}})"),
               "b");
  EXPECT_EQ(live["spec"]["template"]["spec"]["containers"],
            J(R"([{"name":"app","image":"a:1"},{"name":"sidecar","image":"s:1"}])"));
  json next = Apply(&live, Deploy(R"({"template":{"spec":{"containers":[
                                      {"name":"app2","image":"a:2"}]}}})"),
                    "a");
  EXPECT_EQ(next["spec"]["template"]["spec"]["containers"],
            J(R"([{"name":"sidecar","image":"s:1"},{"name":"app2","image":"a:2"}])"));
}

TEST(ServerSideApply, ConfigurationOrderWinsForSharedItems) {
  json live = Apply(nullptr, Deploy(R"({"template":{"spec":{"containers":[
                                        {"name":"a"},{"name":"b"},{"name":"x"}]}}})"),
                    "m");
  json next = Apply(&live, Deploy(R"({"template":{"spec":{"containers":[
                                      {"name":"b"},{"name":"a"},{"name":"x"}]}}})"),
                    "m");
  EXPECT_EQ(next["spec"]["template"]["spec"]["containers"],
            J(R"([{"name":"b"},{"name":"a"},{"name":"x"}])"));
}

TEST(ServerSideApply, AtomicListIsOneField) {
  json live = Apply(nullptr, Deploy(R"({"template":{"spec":{"tolerations":[{"key":"x"}]}}})"), "a");
  EXPECT_THAT(
      ServerSideApply(&live, Deploy(R"({"template":{"spec":{"tolerations":[{"key":"y"}]}}})"), "b",
                      false, DeploySchema(), kNow),
      StatusIs(StatusCode::kAborted, HasSubstr(".spec.template.spec.tolerations")));
}

TEST(ServerSideApply, SetListItemsAreOwnedByValue) {
  json config = J(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"}})");
  config["metadata"]["finalizers"] = {"example.com/a"};
  json live = Apply(nullptr, config, "a");
  config["metadata"]["finalizers"] = {"example.com/b"};
  json next = Apply(&live, config, "b");
  EXPECT_EQ(next["metadata"]["finalizers"], J(R"(["example.com/a","example.com/b"])"));
  EXPECT_EQ(FieldsOf(next, "b", "Apply"),
            J(R"({"f:metadata":{"f:finalizers":{"v:\"example.com/b\"":{}}}})"));
}

TEST(ServerSideApply, ObjectWithoutManagedFieldsBelongsToBeforeFirstApply) {
  json live = Deploy(R"({"replicas":1})");
  EXPECT_THAT(
      ServerSideApply(&live, Deploy(R"({"replicas":2})"), "kubectl", false, DeploySchema(), kNow),
      StatusIs(StatusCode::kAborted,
               HasSubstr("conflict with \"before-first-apply\" using apps/v1: "
                         ".spec.replicas")));
}

TEST(ServerSideApply, InvalidConfigurations) {
  json with_managed = Deploy("{}");
  with_managed["metadata"]["managedFields"] = J(R"([{"manager":"x"}])");
  EXPECT_THAT(ServerSideApply(nullptr, with_managed, "m", false, DeploySchema()),
              StatusIs(StatusCode::kInvalidArgument, "metadata.managedFields must be nil"));
  EXPECT_THAT(ServerSideApply(nullptr, Deploy("{}"), "", false, DeploySchema()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("fieldManager")));
  EXPECT_THAT(
      ServerSideApply(nullptr, Deploy(R"({"template":{"spec":{"containers":[{"image":"x"}]}}})"),
                      "m", false, DeploySchema()),
      StatusIs(StatusCode::kInvalidArgument,
               HasSubstr("omits key field \"name\" (and doesn't have default value)")));
  EXPECT_THAT(ServerSideApply(nullptr, Deploy(R"({"template":{"spec":{"containers":[
                                              {"name":"a"},{"name":"a"}]}}})"),
                              "m", false, DeploySchema()),
              StatusIs(StatusCode::kInvalidArgument,
                       ".spec.template.spec.containers: duplicate entries for key [name=\"a\"]"));
  json bad_live = Deploy("{}");
  bad_live["metadata"]["managedFields"] = J(R"([{"manager":"x","operation":"Bogus"}])");
  EXPECT_THAT(ServerSideApply(&bad_live, Deploy("{}"), "m", false, DeploySchema()),
              StatusIs(StatusCode::kInternal, HasSubstr("failed to decode managed fields")));
}

TEST(ServerSideApply, StoredFieldsV1IsCanonicalized) {
  json live = Deploy(R"({"template":{"spec":{"containers":[{"name":"app","image":"a"}]}}})");
  live["metadata"]["managedFields"] = J(R"([{"manager":"a","operation":"Apply",
      "apiVersion":"apps/v1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:template":{
      "f:spec":{"f:containers":{"k:{\"name\": \"app\"}":{".":{},"f:image":{},"f:name":{}}}}}}}}])");
  // Dropping the container prunes it: the stored key matches despite its spacing.
  json next = Apply(&live, Deploy(R"({"replicas":1})"), "a");
  EXPECT_FALSE(next["spec"]["template"]["spec"].contains("containers") &&
               !next["spec"]["template"]["spec"]["containers"].empty());
}

TEST(ServerSideApply, EntriesAreSortedApplyFirst) {
  GF_ASSERT_OK_AND_ASSIGN(json live, UpdateManagedFields(nullptr, Deploy(R"({"replicas":1})"),
                                                         "editor", DeploySchema(), "Update", kNow));
  json next = Apply(&live, Deploy(R"({"paused":true})"), "zz-applier");
  ASSERT_EQ(next["metadata"]["managedFields"].size(), 2u);
  EXPECT_EQ(next["metadata"]["managedFields"][0]["operation"], "Apply");
  EXPECT_EQ(next["metadata"]["managedFields"][1]["operation"], "Update");
}

// ---- UpdateManagedFields ---------------------------------------------------------------------

TEST(PatchManagedFields, CreateOwnsEverythingItSet) {
  json obj = Deploy(R"({"replicas":1})");
  obj["metadata"]["labels"] = {{"app", "web"}};
  GF_ASSERT_OK_AND_ASSIGN(json got,
                          UpdateManagedFields(nullptr, obj, "kcm", DeploySchema(), "Update", kNow));
  EXPECT_EQ(got["metadata"]["managedFields"], J(R"([{"manager":"kcm","operation":"Update",
    "apiVersion":"apps/v1","time":"2026-01-01T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":{
      "f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{".":{},"f:replicas":{}}}}])"));
}

TEST(PatchManagedFields, ChangedFieldsMoveToTheWriter) {
  GF_ASSERT_OK_AND_ASSIGN(
      json v1, UpdateManagedFields(nullptr, Deploy(R"({"replicas":1,"paused":false})"), "kcm",
                                   DeploySchema(), "Update", kNow));
  json edited = v1;
  edited["spec"]["replicas"] = 4;
  GF_ASSERT_OK_AND_ASSIGN(
      json v2, UpdateManagedFields(&v1, edited, "hpa", DeploySchema(), "Update", kLater));
  EXPECT_EQ(FieldsOf(v2, "kcm", "Update"), J(R"({"f:spec":{".":{},"f:paused":{}}})"));
  EXPECT_EQ(FieldsOf(v2, "hpa", "Update"), J(R"({"f:spec":{"f:replicas":{}}})"));
  EXPECT_EQ(v2["metadata"]["managedFields"][1]["time"], kLater);
}

TEST(PatchManagedFields, UnchangedWriteAddsNoEntry) {
  GF_ASSERT_OK_AND_ASSIGN(json v1, UpdateManagedFields(nullptr, Deploy(R"({"replicas":1})"), "kcm",
                                                       DeploySchema(), "Update", kNow));
  json same = v1;
  same["metadata"]["resourceVersion"] = "42";  // Never owned.
  GF_ASSERT_OK_AND_ASSIGN(
      json v2, UpdateManagedFields(&v1, same, "other", DeploySchema(), "Update", kLater));
  EXPECT_EQ(v2["metadata"]["managedFields"], v1["metadata"]["managedFields"]);
}

TEST(PatchManagedFields, ResetAndUntrackedObjects) {
  GF_ASSERT_OK_AND_ASSIGN(json v1, UpdateManagedFields(nullptr, Deploy(R"({"replicas":1})"), "kcm",
                                                       DeploySchema(), "Update", kNow));
  json reset = v1;
  reset["metadata"]["managedFields"] = J("[{}]");
  GF_ASSERT_OK_AND_ASSIGN(
      json cleared, UpdateManagedFields(&v1, reset, "kubectl", DeploySchema(), "Update", kNow));
  EXPECT_FALSE(cleared["metadata"].contains("managedFields"));
  json untracked = Deploy(R"({"replicas":1})");
  json edited = Deploy(R"({"replicas":2})");
  GF_ASSERT_OK_AND_ASSIGN(json still, UpdateManagedFields(&untracked, edited, "kubectl",
                                                          DeploySchema(), "Update", kNow));
  EXPECT_FALSE(still["metadata"].contains("managedFields"));
  json dropped = v1;
  dropped["metadata"].erase("managedFields");  // A client that does not know the field.
  dropped["spec"]["replicas"] = 2;
  GF_ASSERT_OK_AND_ASSIGN(
      json kept, UpdateManagedFields(&v1, dropped, "kubectl", DeploySchema(), "Update", kNow));
  EXPECT_EQ(FieldsOf(kept, "kubectl", "Update"), J(R"({"f:spec":{"f:replicas":{}}})"));
  EXPECT_THAT(UpdateManagedFields(&v1, dropped, "kubectl", DeploySchema(), "Apply"),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace gpufleet::core
