// Quantity and ResourceList hot paths: every pod's requests are parsed, summed and compared
// against every candidate node's allocatable during scheduling simulation.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/quantity.h"
#include "core/resource_list.h"

namespace gpufleet::core {
namespace {

const std::vector<std::string>& TypicalTexts() {
  static const auto* texts = new std::vector<std::string>{"500m", "16Gi", "1.5", "2e3", "100Mi"};
  return *texts;
}

Quantity MustParse(std::string_view text) { return Quantity::Parse(text).value_or(Quantity()); }

void BM_QuantityParse(benchmark::State& state) {
  const std::string& text = TypicalTexts()[static_cast<size_t>(state.range(0))];
  state.SetLabel(text);
  for (auto _ : state) {
    Result<Quantity> q = Quantity::Parse(text);
    benchmark::DoNotOptimize(q);
  }
}
BENCHMARK(BM_QuantityParse)->DenseRange(0, 4);

void BM_QuantityParseSlowPath(benchmark::State& state) {
  // More than 18 digits: upstream's inf.Dec path.
  for (auto _ : state) {
    Result<Quantity> q = Quantity::Parse("1234567890.1234567890123Gi");
    benchmark::DoNotOptimize(q);
  }
}
BENCHMARK(BM_QuantityParseSlowPath);

void BM_QuantityString(benchmark::State& state) {
  // After arithmetic, so the canonical form is computed rather than the parsed text returned.
  Quantity q = MustParse(TypicalTexts()[static_cast<size_t>(state.range(0))]);
  q.Neg();
  q.Neg();
  state.SetLabel(q.String());
  for (auto _ : state) benchmark::DoNotOptimize(q.String());
}
BENCHMARK(BM_QuantityString)->DenseRange(0, 4);

void BM_QuantityStringParsedText(benchmark::State& state) {
  const Quantity q = MustParse("500m");
  for (auto _ : state) benchmark::DoNotOptimize(q.String());
}
BENCHMARK(BM_QuantityStringParsedText);

void BM_QuantityCmp(benchmark::State& state) {
  const Quantity a = MustParse("16Gi"), b = MustParse("17179869184");
  for (auto _ : state) benchmark::DoNotOptimize(a.Cmp(b));
}
BENCHMARK(BM_QuantityCmp);

ResourceList PodRequests() {
  return {{"cpu", MustParse("500m")},
          {"memory", MustParse("2Gi")},
          {"ephemeral-storage", MustParse("1Gi")},
          {"pods", MustParse("1")},
          {"nvidia.com/gpu", MustParse("1")},
          {"hugepages-2Mi", MustParse("64Mi")}};
}

ResourceList NodeAllocatable() {
  return {{"cpu", MustParse("7910m")},
          {"memory", MustParse("60Gi")},
          {"ephemeral-storage", MustParse("100G")},
          {"pods", MustParse("110")},
          {"nvidia.com/gpu", MustParse("8")},
          {"hugepages-2Mi", MustParse("1Gi")}};
}

void BM_ResourceListMergeInto(benchmark::State& state) {
  const ResourceList pod = PodRequests();
  ResourceList total;
  for (auto _ : state) {
    Status s = MergeInto(total, pod);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ResourceListMergeInto);

void BM_ResourceListMerge(benchmark::State& state) {
  const ResourceList lists[] = {PodRequests(), PodRequests()};
  for (auto _ : state) {
    Result<ResourceList> merged = Merge(lists);
    benchmark::DoNotOptimize(merged);
  }
}
BENCHMARK(BM_ResourceListMerge);

void BM_ResourceListFits(benchmark::State& state) {
  const ResourceList pod = PodRequests(), node = NodeAllocatable();
  for (auto _ : state) benchmark::DoNotOptimize(Fits(pod, node));
}
BENCHMARK(BM_ResourceListFits);

void BM_ResourceListFromJson(benchmark::State& state) {
  const std::string json = PodRequests().ToJson();
  for (auto _ : state) {
    Result<ResourceList> list = ResourceList::FromJson(json);
    benchmark::DoNotOptimize(list);
  }
}
BENCHMARK(BM_ResourceListFromJson);

}  // namespace
}  // namespace gpufleet::core
