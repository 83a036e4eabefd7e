#include "provisioner/metrics.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace gpufleet::provisioner {
namespace {

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string LabelText(const MetricLabels& labels, const std::string& extra_key = "", const std::string& extra = "") {
  if (labels.empty() && extra_key.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + Escape(v) + "\"";
  }
  if (!extra_key.empty()) {
    if (!first) out += ",";
    out += extra_key + "=\"" + extra + "\"";
  }
  return out + "}";
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

}  // namespace

void Metrics::DeclareCounter(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  families_[name] = Family{.type = Type::kCounter, .help = help, .bounds = {}, .series = {}};
}

void Metrics::DeclareGauge(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  families_[name] = Family{.type = Type::kGauge, .help = help, .bounds = {}, .series = {}};
}

void Metrics::DeclareHistogram(const std::string& name, const std::string& help, std::vector<double> buckets) {
  std::sort(buckets.begin(), buckets.end());
  std::lock_guard lock(mu_);
  families_[name] = Family{.type = Type::kHistogram, .help = help, .bounds = std::move(buckets), .series = {}};
}

void Metrics::Inc(const std::string& name, const MetricLabels& labels, double by) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return;
  it->second.series[labels].value += by;
}

void Metrics::Set(const std::string& name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return;
  it->second.series[labels].value = value;
}

void Metrics::ClearGauge(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) it->second.series.clear();
}

void Metrics::Observe(const std::string& name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return;
  Family& f = it->second;
  Series& s = f.series[labels];
  if (s.buckets.empty()) s.buckets.assign(f.bounds.size(), 0);
  for (size_t i = 0; i < f.bounds.size(); ++i) {
    if (value <= f.bounds[i]) {
      ++s.buckets[i];
      break;
    }
  }
  s.sum += value;
  ++s.count;
}

double Metrics::Value(const std::string& name, const MetricLabels& labels) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto s = it->second.series.find(labels);
  if (s == it->second.series.end()) return 0;
  return it->second.type == Type::kHistogram ? static_cast<double>(s->second.count) : s->second.value;
}

std::string Metrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    const char* type = f.type == Type::kCounter ? "counter" : f.type == Type::kGauge ? "gauge" : "histogram";
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, s] : f.series) {
      if (f.type != Type::kHistogram) {
        out += name + LabelText(labels) + " " + Number(s.value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < f.bounds.size(); ++i) {
        cumulative += s.buckets[i];
        out += name + "_bucket" + LabelText(labels, "le", Number(f.bounds[i])) + " " + std::to_string(cumulative) + "\n";
      }
      out += name + "_bucket" + LabelText(labels, "le", "+Inf") + " " + std::to_string(s.count) + "\n";
      out += name + "_sum" + LabelText(labels) + " " + Number(s.sum) + "\n";
      out += name + "_count" + LabelText(labels) + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

void DeclareControllerMetrics(Metrics& m) {
  const std::vector<double> seconds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  m.DeclareCounter("karpenter_nodeclaims_created_total", "Number of nodeclaims created, by reason and nodepool.");
  m.DeclareCounter("karpenter_nodeclaims_terminated_total", "Number of nodeclaims terminated, by nodepool.");
  m.DeclareCounter("karpenter_nodeclaims_launched_total", "Number of nodeclaims launched, by nodepool.");
  m.DeclareCounter("karpenter_nodeclaims_registered_total", "Number of nodeclaims registered, by nodepool.");
  m.DeclareCounter("karpenter_nodeclaims_initialized_total", "Number of nodeclaims initialized, by nodepool.");
  m.DeclareCounter("karpenter_nodeclaims_disrupted_total",
                   "Number of nodeclaims deleted by the controller, by reason (e.g. insufficient_capacity, "
                   "registration_timeout, garbage_collected) and nodepool.");
  m.DeclareCounter("karpenter_nodes_created_total", "Number of nodes registered for nodeclaims, by nodepool.");
  m.DeclareCounter("karpenter_nodes_terminated_total", "Number of nodes deleted on nodeclaim termination, by nodepool.");
  m.DeclareCounter("karpenter_nodes_eviction_requests_total", "Eviction requests made while draining nodes, by response code.");
  m.DeclareCounter("karpenter_nodes_drained_total", "Number of nodes drained before termination, by nodepool.");
  m.DeclareCounter("karpenter_cloudprovider_errors_total", "Cloud provider errors, by method and error kind.");
  m.DeclareHistogram("karpenter_cloudprovider_duration_seconds", "Duration of cloud provider calls, by method.",
                     seconds);
  m.DeclareHistogram("karpenter_scheduler_scheduling_duration_seconds",
                     "Duration of one scheduling simulation (batch solve).", seconds);
  m.DeclareHistogram("gpufleet_provisioner_decision_duration_seconds",
                     "One batch's decision: caches read, instance types, solve (no API writes).", seconds);
  m.DeclareGauge("karpenter_scheduler_queue_depth", "Pods in the last batch handed to the scheduler.");
  m.DeclareHistogram("karpenter_pods_startup_duration_seconds",
                     "Time from pod creation until the pod is bound to a node (as seen by the controller).", seconds);
  m.DeclareHistogram("karpenter_provisioner_batch_window_seconds",
                     "Time from a batch's first pending pod to its solve.", seconds);
  m.DeclareGauge("karpenter_nodepools_usage", "Resources in use by each nodepool's nodeclaims.");
  m.DeclareGauge("karpenter_nodepools_limit", "Each nodepool's limits.");
  m.DeclareGauge("karpenter_nodeclaims_pending", "NodeClaims not yet Ready, by nodepool.");
  m.DeclareCounter("karpenter_pods_unschedulable_total", "Pods a batch could not place, by nodepool-independent reason.");
}

}  // namespace gpufleet::provisioner
