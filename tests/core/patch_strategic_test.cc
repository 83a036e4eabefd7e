// Strategic merge patch: cases ported from k8s.io/apimachinery strategicpatch patch_test.go (on its
// MergeItem test type) plus the built-in kinds' tags (containers by name, tolerations atomic, ...).
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

json J(std::string_view text) {
  Result<json> r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status();
  return r.ok() ? *r : json();
}

// upstream's MergeItem: a recursive type, so its rules apply at any depth.
PatchSchema MergeItemSchema() {
  PatchSchema schema;
  schema.AddAnyDepth("mergingList", FieldRule::MergeByKey("name"));
  schema.AddAnyDepth("mergingIntList", FieldRule::MergePrimitives());
  schema.AddAnyDepth("mergeItemPtr", FieldRule::MergeByKey("name"));
  FieldRule replace;
  replace.replace = true;
  schema.AddAnyDepth("replacingItem", replace);
  schema.AddAnyDepth("retainKeysMap", FieldRule::RetainKeys());
  FieldRule retain_list = FieldRule::MergeByKey("name");
  retain_list.retain_keys = true;
  schema.AddAnyDepth("retainKeysMergingList", retain_list);
  return schema;
}

struct SmpCase {
  const char* name;
  const char* original;
  const char* patch;
  const char* want;
};

void RunCases(const SmpCase* begin, const SmpCase* end, const PatchSchema& schema) {
  for (const SmpCase* c = begin; c != end; ++c) {
    SCOPED_TRACE(c->name);
    Result<json> got = ApplyStrategicMergePatch(J(c->original), J(c->patch), schema);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, J(c->want)) << DumpJson(*got);
  }
}

// customStrategicMergePatchTestCaseData: original + twoWay -> modified.
TEST(StrategicMergePatch, UpstreamCustomCases) {
  const SmpCase cases[] = {
      {"unique scalars when merging lists", R"({"mergingIntList":[1,2]})",
       R"({"mergingIntList":[2,3]})", R"({"mergingIntList":[1,2,3]})"},
      {"delete map from nested map", R"({"simpleMap":{"key1":1,"key2":1}})",
       R"({"simpleMap":{"$patch":"delete"}})", R"({"simpleMap":{}})"},
      {"delete all items from merging list", R"({"mergingList":[{"name":1},{"name":2}]})",
       R"({"mergingList":[{"$patch":"replace"}]})", R"({"mergingList":[]})"},
      {"merge empty merging lists", R"({"mergingList":[]})", R"({"mergingList":[]})",
       R"({"mergingList":[]})"},
      {"delete all keys from map", R"({"name":1,"value":1})", R"({"$patch":"replace"})", "{}"},
      {"add key and delete all keys from map", R"({"name":1,"value":1})",
       R"({"other":"a","$patch":"replace"})", R"({"other":"a"})"},
      {"delete all duplicate entries in a merging list",
       R"({"mergingList":[{"name":1},{"name":1},{"name":2,"value":"a"},{"name":3},{"name":3}]})",
       R"({"mergingList":[{"name":1,"$patch":"delete"},{"name":3,"$patch":"delete"}]})",
       R"({"mergingList":[{"name":2,"value":"a"}]})"},
      {"retainKeys map can add a field", R"({"retainKeysMap":{"name":"foo"}})",
       R"({"retainKeysMap":{"value":"bar"}})", R"({"retainKeysMap":{"name":"foo","value":"bar"}})"},
      {"retainKeys map can delete a field", R"({"retainKeysMap":{"name":"foo","value":"a"}})",
       R"({"retainKeysMap":{"value":null}})", R"({"retainKeysMap":{"name":"foo"}})"},
      {"retainKeys map merge an empty map", R"({"retainKeysMap":{"name":"foo","value":"a"}})",
       R"({"retainKeysMap":{}})", R"({"retainKeysMap":{"name":"foo","value":"a"}})"},
      {"retainKeys list can change a field",
       R"({"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]})",
       R"({"retainKeysMergingList":[{"name":"foo","value":"b"}]})",
       R"({"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"b"}]})"},
      {"preserve the order from the patch in a merging list",
       R"({"mergingList":[{"name":1},{"name":2,"value":"b"},{"name":3}]})",
       R"({"mergingList":[{"name":3,"value":"c"},{"name":1,"value":"a"},{"name":2,"other":"x"}]})",
       R"({"mergingList":[{"name":3,"value":"c"},{"name":1,"value":"a"},
                          {"name":2,"value":"b","other":"x"}]})"},
      {"preserve the order from the patch in a merging list 2",
       R"({"mergingList":[{"name":1},{"name":2,"value":"b"},{"name":3}]})",
       R"({"mergingList":[{"name":3,"value":"c"},{"name":1,"value":"a"}]})",
       R"({"mergingList":[{"name":2,"value":"b"},{"name":3,"value":"c"},{"name":1,"value":"a"}]})"},
      {"preserve the order from the patch in a merging int list", R"({"mergingIntList":[1,2,3]})",
       R"({"mergingIntList":[3,1,2]})", R"({"mergingIntList":[3,1,2]})"},
      {"preserve the order from the patch in a merging int list 2", R"({"mergingIntList":[1,2,3]})",
       R"({"mergingIntList":[3,1]})", R"({"mergingIntList":[2,3,1]})"},
  };
  RunCases(std::begin(cases), std::end(cases), MergeItemSchema());
}

// customStrategicMergePatchRawTestCases and strategicMergePatchRawTestCases.
TEST(StrategicMergePatch, UpstreamDirectiveCases) {
  const SmpCase cases[] = {
      {"$setElementOrder has an item missing from the list",
       R"({"mergingList":[{"name":1},{"name":3}]})",
       R"({"$setElementOrder/mergingList":[{"name":3},{"name":2},{"name":1}],
           "mergingList":[{"name":3,"value":3},{"name":1,"value":1}]})",
       R"({"mergingList":[{"name":3,"value":3},{"name":1,"value":1}]})"},
      {"$setElementOrder on an int list", R"({"mergingIntList":[1,3]})",
       R"({"$setElementOrder/mergingIntList":[3,2,1]})", R"({"mergingIntList":[3,1]})"},
      {"$deleteFromPrimitiveList of a missing item", R"({"mergingIntList":[1,2]})",
       R"({"$deleteFromPrimitiveList/mergingIntList":[3]})", R"({"mergingIntList":[1,2]})"},
      {"$deleteFromPrimitiveList on a null list", R"({"mergingIntList":null})",
       R"({"$deleteFromPrimitiveList/mergingIntList":[3]})", R"({"mergingIntList":null})"},
      {"$deleteFromPrimitiveList on a missing list", R"({"foo":["bar"]})",
       R"({"$deleteFromPrimitiveList/mergingIntList":[3]})", R"({"foo":["bar"]})"},
      {"$deleteFromPrimitiveList with merge strategy", R"({"mergingIntList":[1,2,3]})",
       R"({"$deleteFromPrimitiveList/mergingIntList":[2]})", R"({"mergingIntList":[1,3]})"},
      {"$deleteFromPrimitiveList without merge strategy", R"({"nonMergingIntList":[1,2,3]})",
       R"({"$deleteFromPrimitiveList/nonMergingIntList":[2]})", R"({"nonMergingIntList":[1,3]})"},
      {"delete items in lists of scalars (three-way)", R"({"mergingIntList":[1,2,3,4]})",
       R"({"$setElementOrder/mergingIntList":[1,2],"$deleteFromPrimitiveList/mergingIntList":[3]})",
       R"({"mergingIntList":[1,2,4]})"},
      {"merge lists of maps (three-way)",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]})",
       R"({"$setElementOrder/mergingList":[{"name":4},{"name":1},{"name":2},{"name":3}],
           "mergingList":[{"name":4,"value":4},{"name":3,"value":3}]})",
       R"({"mergingList":[{"name":4,"value":4},{"name":1,"other":"a"},
                          {"name":2,"value":2,"other":"b"},{"name":3,"value":3}]})"},
      {"nested patch merge with empty list (two-way)", R"({"name":"hi"})",
       R"({"mergingList":[{"name":"hello"},{"$patch":"delete","name":"doesntexist"}]})",
       R"({"name":"hi","mergingList":[{"name":"hello"}]})"},
      {"nested patch merge with empty list (three-way)",
       R"({"name":"hi","mergingList":[{"name":"hello2"}]})",
       R"({"$setElementOrder/mergingList":[{"name":"hello"},{"name":"doesntexist"}],
           "mergingList":[{"name":"hello"},{"$patch":"delete","name":"doesntexist"}]})",
       R"({"name":"hi","mergingList":[{"name":"hello"},{"name":"hello2"}]})"},
      {"defined nulls delete current fields", R"({"name":"a","other":"a"})",
       R"({"name":1,"value":1,"other":null})", R"({"name":1,"value":1})"},
      {"delete all maps from merging list with conflict",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":2,"other":"b"}]})",
       R"({"mergingList":[{"name":1,"$patch":"delete"},{"name":2,"$patch":"delete"}]})",
       R"({"mergingList":[]})"},
      {"replacing item replaces the whole map", R"({"replacingItem":{"a":1,"b":{"c":2}}})",
       R"({"replacingItem":{"b":{"d":3}}})", R"({"replacingItem":{"b":{"d":3}}})"},
      {"retainKeys directive clears unlisted fields",
       R"({"retainKeysMap":{"name":"foo","value":"a","other":"b"}})",
       R"({"retainKeysMap":{"$retainKeys":["name","other"],"other":"c"}})",
       R"({"retainKeysMap":{"name":"foo","other":"c"}})"},
  };
  RunCases(std::begin(cases), std::end(cases), MergeItemSchema());
}

TEST(StrategicMergePatch, NewElementsGoFirstWithoutSetElementOrder) {
  // Upstream's mergeSortedSlice puts items the live list lacks before the live items.
  const SmpCase cases[] = {
      {"new element first", R"({"mergingList":[{"name":1},{"name":2}]})",
       R"({"mergingList":[{"name":3}]})", R"({"mergingList":[{"name":3},{"name":1},{"name":2}]})"},
  };
  RunCases(std::begin(cases), std::end(cases), MergeItemSchema());
}

TEST(StrategicMergePatch, UpstreamErrorCases) {
  const PatchSchema schema = MergeItemSchema();
  auto apply = [&](const char* original, const char* patch) {
    return ApplyStrategicMergePatch(J(original), J(patch), schema);
  };
  EXPECT_THAT(apply(R"({"mergingList":[{"name":1},{"name":3},{"name":2}]})",
                    R"({"$setElementOrder/mergingList":[{"name":1},{"name":2},{"name":3}],
                        "mergingList":[{"name":3,"value":3},{"name":1,"value":1}]})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("doesn't match")));
  EXPECT_THAT(apply(R"({"mergingIntList":[1,3,2]})",
                    R"({"$setElementOrder/mergingIntList":[1,2,3],"mergingIntList":[3,1]})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("doesn't match")));
  EXPECT_THAT(
      apply(R"({"mergingList":[{"name":1,"value":"a"}]})", R"({"mergingList":[{"value":"b"}]})"),
      StatusIs(StatusCode::kInvalidArgument,
               HasSubstr("does not contain declared merge key: name")));
  EXPECT_THAT(
      apply(R"({"mergingList":[{"name":1}]})", R"({"mergingList":[{"name":1,"$patch":"merge"}]})"),
      StatusIs(StatusCode::kInvalidArgument, "merging lists cannot yet be specified in the patch"));
  EXPECT_THAT(apply(R"({"simpleMap":{"a":1}})", R"({"simpleMap":{"$patch":"merge"}})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown patch type: merge")));
  EXPECT_THAT(apply(R"({"mergingList":[[1]]})", R"({"mergingList":[[2]]})"),
              StatusIs(StatusCode::kFailedPrecondition, "lists of lists are not supported"));
  EXPECT_THAT(
      apply(R"({"mergingIntList":[1]})", R"({"mergingIntList":["a"]})"),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("list element types are not identical")));
  EXPECT_THAT(apply(R"({"retainKeysMap":{}})", R"({"retainKeysMap":{"$retainKeys":"name"}})"),
              StatusIs(StatusCode::kInvalidArgument, "invalid patch format of retainKeys"));
  EXPECT_THAT(
      apply(R"({"retainKeysMap":{}})", R"({"retainKeysMap":{"$retainKeys":["name"],"value":"x"}})"),
      StatusIs(StatusCode::kInvalidArgument, "invalid patch format of retainKeys"));
  EXPECT_THAT(apply(R"({"a":[1]})", R"({"$deleteFromPrimitiveList":[1]})"),
              StatusIs(StatusCode::kInvalidArgument, "invalid patch format of primitive list"));
  EXPECT_THAT(
      apply(R"({"a":[1]})", R"({"$setElementOrderX":[1]})"),
      StatusIs(StatusCode::kInvalidArgument, "invalid patch format of setElementOrder list"));
  EXPECT_THAT(ApplyStrategicMergePatch(J("{}"), J("[]"), schema),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("cannot unmarshal array")));
}

// ---- Built-in kinds -------------------------------------------------------------------------

constexpr const char* kDeployment = R"({
  "apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","finalizers":["a"],"labels":{"app":"web"}},
  "spec":{"replicas":1,"template":{"spec":{
    "containers":[
      {"name":"app","image":"app:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
       "ports":[{"containerPort":80}]},
      {"name":"sidecar","image":"side:1"}],
    "tolerations":[{"key":"gpu","operator":"Exists"}],
    "volumes":[{"name":"data","emptyDir":{}}]}}}})";

TEST(StrategicMergePatch, ContainersMergeByName) {
  GF_ASSERT_OK_AND_ASSIGN(
      json got,
      ApplyStrategicMergePatch(J(kDeployment), J(R"({"spec":{"template":{"spec":{"containers":[
                         {"name":"app","image":"app:2","env":[{"name":"B","value":"3"}]}]}}}})"),
                               ForKind("apps", "Deployment")));
  json containers = got["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0], J(R"({"name":"app","image":"app:2",
                                 "env":[{"name":"A","value":"1"},{"name":"B","value":"3"}],
                                 "ports":[{"containerPort":80}]})"));
  EXPECT_EQ(containers[1], J(R"({"name":"sidecar","image":"side:1"})"));
}

TEST(StrategicMergePatch, PatchDeleteRemovesContainer) {
  GF_ASSERT_OK_AND_ASSIGN(
      json got,
      ApplyStrategicMergePatch(J(kDeployment), J(R"({"spec":{"template":{"spec":{"containers":[
                                                      {"name":"sidecar","$patch":"delete"}]}}}})"),
                               ForKind("apps", "Deployment")));
  EXPECT_EQ(got["spec"]["template"]["spec"]["containers"].size(), 1u);
  EXPECT_EQ(got["spec"]["template"]["spec"]["containers"][0]["name"], "app");
}

TEST(StrategicMergePatch, TolerationsHaveNoMergeKeyAndAreReplaced) {
  GF_ASSERT_OK_AND_ASSIGN(
      json got,
      ApplyStrategicMergePatch(J(kDeployment), J(R"({"spec":{"template":{"spec":{"tolerations":[
                                              {"key":"spot","operator":"Exists"}]}}}})"),
                               ForKind("apps", "Deployment")));
  EXPECT_EQ(got["spec"]["template"]["spec"]["tolerations"],
            J(R"([{"key":"spot","operator":"Exists"}])"));
}

TEST(StrategicMergePatch, FinalizersUnionAndDelete) {
  const PatchSchema schema = ForKind("apps", "Deployment");
  GF_ASSERT_OK_AND_ASSIGN(
      json added, ApplyStrategicMergePatch(J(kDeployment),
                                           J(R"({"metadata":{"finalizers":["b","a"]}})"), schema));
  EXPECT_EQ(added["metadata"]["finalizers"], J(R"(["b","a"])"));
  GF_ASSERT_OK_AND_ASSIGN(
      json removed,
      ApplyStrategicMergePatch(
          added, J(R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})"), schema));
  EXPECT_EQ(removed["metadata"]["finalizers"], J(R"(["b"])"));
}

TEST(StrategicMergePatch, VolumesRetainKeys) {
  GF_ASSERT_OK_AND_ASSIGN(
      json got,
      ApplyStrategicMergePatch(J(kDeployment), J(R"({"spec":{"template":{"spec":{"volumes":[
                         {"$retainKeys":["hostPath","name"],"name":"data",
                          "hostPath":{"path":"/mnt"}}]}}}})"),
                               ForKind("apps", "Deployment")));
  EXPECT_EQ(got["spec"]["template"]["spec"]["volumes"],
            J(R"([{"name":"data","hostPath":{"path":"/mnt"}}])"));
}

TEST(StrategicMergePatch, ServicePortsMergeByPortAndNodeTaintsReplace) {
  GF_ASSERT_OK_AND_ASSIGN(
      json svc, ApplyStrategicMergePatch(J(R"({"spec":{"ports":[{"port":80,"name":"http"}]}})"),
                                         J(R"({"spec":{"ports":[{"port":443,"name":"https"}]}})"),
                                         ForKind("", "Service")));
  EXPECT_EQ(svc["spec"]["ports"].size(), 2u);
  GF_ASSERT_OK_AND_ASSIGN(
      json node,
      ApplyStrategicMergePatch(J(R"({"spec":{"taints":[{"key":"a","effect":"NoSchedule"}]}})"),
                               J(R"({"spec":{"taints":[{"key":"b","effect":"NoSchedule"}]}})"),
                               ForKind("", "Node")));
  EXPECT_EQ(node["spec"]["taints"], J(R"([{"key":"b","effect":"NoSchedule"}])"));
}

TEST(StrategicMergePatch, InsertedValuesLoseDirectivesAndNulls) {
  GF_ASSERT_OK_AND_ASSIGN(
      json got,
      ApplyStrategicMergePatch(J(R"({"spec":{}})"),
                               J(R"({"spec":{"containers":[{"name":"a","image":null,"env":[]}],
                                  "nodeSelector":{"$patch":"replace","a":"b"},
                                  "affinity":{"x":{"$patch":"delete"},"y":1}}})"),
                               ForKind("", "Pod")));
  EXPECT_EQ(got, J(R"({"spec":{"containers":[{"name":"a","env":[]}],"affinity":{"y":1}}})"));
}

TEST(StrategicMergePatch, CustomResourcesAreRejectedWith415) {
  const PatchSchema schema = ForKind("karpenter.sh", "NodePool");
  EXPECT_FALSE(schema.strategic_merge_supported());
  EXPECT_THAT(ApplyStrategicMergePatch(J("{}"), J("{}"), schema),
              StatusIs(StatusCode::kUnimplemented,
                       "the body of the request was in an unknown format - accepted media types "
                       "include: application/json-patch+json, application/merge-patch+json, "
                       "application/apply-patch+yaml"));
  EXPECT_TRUE(ForKind("apps", "Deployment").strategic_merge_supported());
}

TEST(PatchSchema, ForKindCarriesUpstreamTags) {
  const PatchSchema deploy = ForKind("apps", "Deployment");
  const FieldRule* containers = deploy.Find("spec.template.spec.containers");
  ASSERT_NE(containers, nullptr);
  EXPECT_TRUE(containers->merge);
  EXPECT_EQ(containers->merge_key, "name");
  const FieldRule* ports = deploy.Find("spec.template.spec.containers[].ports");
  ASSERT_NE(ports, nullptr);
  EXPECT_EQ(ports->merge_key, "containerPort");
  EXPECT_EQ(ports->list_map_keys, (std::vector<std::string>{"containerPort", "protocol"}));
  EXPECT_EQ(deploy.Find("spec.template.spec.initContainers[].volumeMounts")->merge_key,
            "mountPath");
  EXPECT_EQ(deploy.Find("spec.template.spec.imagePullSecrets")->merge_key, "name");
  EXPECT_EQ(deploy.Find("spec.template.spec.hostAliases")->merge_key, "ip");
  EXPECT_TRUE(deploy.Find("spec.template.spec.volumes")->retain_keys);
  EXPECT_EQ(deploy.Find("spec.template.spec.tolerations"), nullptr);
  EXPECT_EQ(deploy.Find("metadata.ownerReferences")->merge_key, "uid");
  EXPECT_EQ(deploy.Find("metadata.finalizers")->list_type, ListType::kSet);
  EXPECT_EQ(deploy.Find("status.conditions")->merge_key, "type");
  EXPECT_EQ(ForKind("", "Pod").Find("spec.ephemeralContainers[].env")->merge_key, "name");
  EXPECT_EQ(ForKind("", "Node").Find("spec.taints"), nullptr);
  EXPECT_EQ(ForKind("", "Service").Find("spec.ports")->merge_key, "port");
  EXPECT_NE(ForKind("batch", "CronJob").Find("spec.jobTemplate.spec.template.spec.containers"),
            nullptr);
}

}  // namespace
}  // namespace gpufleet::core
