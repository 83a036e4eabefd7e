// Metrics: a small Prometheus registry (counters, gauges, histograms with labels) rendered in
// the text exposition format 0.0.4 at /metrics. Names follow Karpenter's where one exists
// (karpenter_nodeclaims_created_total, karpenter_pods_startup_duration_seconds, ...) so
// dashboards and alerts carry over. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace gpufleet::provisioner {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  // Declares a family once (help text and type); values may then be recorded under any labels.
  void DeclareCounter(const std::string& name, const std::string& help);
  void DeclareGauge(const std::string& name, const std::string& help);
  void DeclareHistogram(const std::string& name, const std::string& help, std::vector<double> buckets);

  void Inc(const std::string& name, const MetricLabels& labels = {}, double by = 1);
  void Set(const std::string& name, const MetricLabels& labels, double value);
  // Drops every series of a gauge family (before re-setting the current ones).
  void ClearGauge(const std::string& name);
  void Observe(const std::string& name, const MetricLabels& labels, double value);

  // A counter's or gauge's value (0 when never recorded); a histogram's count. For tests.
  double Value(const std::string& name, const MetricLabels& labels = {}) const;
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;               // counter / gauge
    std::vector<uint64_t> buckets;  // histogram: cumulative counts are computed when rendering
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::vector<double> bounds;
    std::map<MetricLabels, Series> series;
  };

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

// Karpenter-named metric families the controller records, declared on `metrics`.
void DeclareControllerMetrics(Metrics& metrics);

}  // namespace gpufleet::provisioner
