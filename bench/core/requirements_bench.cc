// Requirement algebra and selector hot paths: what the scheduling simulator and the API server's
// list filtering call per pod x node / per object.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/label_selector.h"
#include "core/requirements.h"
#include "core/taints.h"

namespace gpufleet::core {
namespace {

Requirements NodePool() {
  std::vector<std::string> types;
  for (int i = 0; i < 60; ++i) types.push_back("g6e." + std::to_string(i) + "xlarge");
  Requirements r = *Requirements::FromNodeSelectorRequirements({
      {"node.kubernetes.io/instance-type", Operator::kIn, types, {}},
      {"karpenter.sh/capacity-type", Operator::kIn, {"on-demand", "reserved"}, {}},
      {"topology.kubernetes.io/zone", Operator::kIn, {"us-west-2a", "us-west-2b", "us-west-2c"}, {}},
      {"karpenter.k8s.aws/instance-gpu-count", Operator::kGte, {"1"}, {}},
  });
  r.Add(Requirements::FromLabels({{"nvidia.com/gpu.present", "true"}}));
  return r;
}

Requirements Pod() {
  Requirements r = Requirements::FromLabels({{"nvidia.com/gpu.present", "true"}});
  r.Add(*Requirements::FromNodeSelectorRequirements(
      {{"topology.kubernetes.io/zone", Operator::kNotIn, {"us-west-2c"}, {}}}));
  return r;
}

void BM_RequirementsIsCompatible(benchmark::State& state) {
  Requirements pool = NodePool();
  Requirements pod = Pod();
  for (auto _ : state) benchmark::DoNotOptimize(pool.IsCompatible(pod));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RequirementsIsCompatible);

void BM_RequirementsAddIntersect(benchmark::State& state) {
  Requirements pool = NodePool();
  Requirements pod = Pod();
  for (auto _ : state) {
    Requirements merged = pool;
    merged.Add(pod);
    benchmark::DoNotOptimize(merged);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RequirementsAddIntersect);

void BM_LabelSelectorParse(benchmark::State& state) {
  for (auto _ : state) {
    auto s = LabelSelector::Parse("app=vllm,tier in (serving,canary),!disabled,gpus>0");
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LabelSelectorParse);

void BM_LabelSelectorMatch(benchmark::State& state) {
  LabelSelector s = *LabelSelector::Parse("app=vllm,tier in (serving,canary),!disabled");
  Labels labels = {{"app", "vllm"}, {"tier", "serving"}, {"pod-template-hash", "abc123"},
                   {"app.kubernetes.io/name", "vllm"}};
  for (auto _ : state) benchmark::DoNotOptimize(s.Matches(labels));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LabelSelectorMatch);

void BM_TaintsToleratesAll(benchmark::State& state) {
  std::vector<Taint> taints = {{"nvidia.com/gpu", "", TaintEffect::kNoSchedule, {}},
                               {"dedicated", "inference", TaintEffect::kNoSchedule, {}}};
  std::vector<Toleration> tolerations = {
      {"nvidia.com/gpu", TolerationOperator::kExists, "", TaintEffect::kNoSchedule, {}},
      {"dedicated", TolerationOperator::kEqual, "inference", {}, {}}};
  for (auto _ : state) benchmark::DoNotOptimize(ToleratesAll(taints, tolerations).ok());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TaintsToleratesAll);

}  // namespace
}  // namespace gpufleet::core
