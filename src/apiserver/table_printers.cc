// Table printers for the core/v1 kinds (Pod, Node, Namespace, Event, ConfigMap, Secret,
// ServiceAccount, Service, Endpoints) and the formatting helpers every printer shares. Each row
// function ports the printX function of pkg/printers/internalversion/printers.go with
// options.Wide set, as the API server calls it.
#include "apiserver/table_printers.h"

#include <cctype>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/label_selector.h"

namespace gpufleet::apiserver::table_internal {
namespace {

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string Age(const json& obj, const RowContext& ctx) {
  return Since(TimestampOf(Get(&obj, {"metadata", "creationTimestamp"})), ctx.now);
}

std::string Name(const json& obj) { return Str(Get(&obj, {"metadata", "name"})); }

std::string OrNone(std::string s) { return s.empty() ? "<none>" : s; }

// --- Pod -----------------------------------------------------------------------------------

bool ConditionTrue(const json* status, std::string_view type) {
  for (const json& c : Elements(Get(status, "conditions"))) {
    if (Str(Get(&c, "type")) == type) return Str(Get(&c, "status")) == "True";
  }
  return false;
}

bool HasPodReadyCondition(const json* status) {
  for (const json& c : Elements(Get(status, "conditions"))) {
    if (Str(Get(&c, "type")) == "Ready" && Str(Get(&c, "status")) == "True") return true;
  }
  return false;
}

// "Signal:9" / "ExitCode:1" for a terminated state without a reason.
std::string TerminatedCode(const json* terminated) {
  int64_t signal = Int(Get(terminated, "signal"));
  return signal != 0 ? "Signal:" + std::to_string(signal)
                     : "ExitCode:" + std::to_string(Int(Get(terminated, "exitCode")));
}

void PodRow(const json& pod, const RowContext& ctx, json* cells, json* conditions) {
  const json* spec = Get(&pod, "spec");
  const json* status = Get(&pod, "status");
  int64_t restarts = 0;
  int64_t restartable_restarts = 0;
  int64_t total = static_cast<int64_t>(Elements(Get(spec, "containers")).size());
  int64_t ready = 0;
  Timestamp last_restart;
  Timestamp last_restartable_restart;
  const std::string phase = Str(Get(status, "phase"));
  const std::string status_reason = Str(Get(status, "reason"));
  std::string reason = phase.empty() ? "Pending" : phase;  // Pending is set on create
  if (!status_reason.empty()) reason = status_reason;
  for (const json& c : Elements(Get(status, "conditions"))) {
    if (Str(Get(&c, "type")) == "PodScheduled" && Str(Get(&c, "reason")) == "SchedulingGated") {
      reason = "SchedulingGated";
    }
  }
  if (phase == "Succeeded" || phase == "Failed") {
    conditions->push_back({{"type", "Completed"},
                           {"status", "True"},
                           {"reason", phase},
                           {"message", phase == "Succeeded" ? "The pod has completed successfully."
                                                            : "The pod failed."}});
  }
  const json& init_specs = Elements(Get(spec, "initContainers"));
  std::map<std::string, bool, std::less<>> restartable;  // sidecars: restartPolicy Always
  for (const json& c : init_specs) {
    bool always = Str(Get(&c, "restartPolicy")) == "Always";
    restartable[Str(Get(&c, "name"))] = always;
    if (always) ++total;
  }
  auto is_restartable = [&](const json& c) {
    auto it = restartable.find(Str(Get(&c, "name")));
    return it != restartable.end() && it->second;
  };
  auto note_restart = [](const json& c, Timestamp* last) {
    const json* term = Get(&c, {"lastState", "terminated"});
    Timestamp finished = TimestampOf(Get(term, "finishedAt"));
    if (term != nullptr && last->Before(finished)) *last = finished;
  };
  bool initializing = false;
  const json& init_statuses = Elements(Get(status, "initContainerStatuses"));
  for (size_t i = 0; i < init_statuses.size(); ++i) {
    const json& c = init_statuses[i];
    const int64_t count = Int(Get(&c, "restartCount"));
    restarts += count;
    note_restart(c, &last_restart);
    const bool sidecar = is_restartable(c);
    if (sidecar) {
      restartable_restarts += count;
      note_restart(c, &last_restartable_restart);
    }
    const json* terminated = Get(&c, {"state", "terminated"});
    const std::string waiting = Str(Get(&c, {"state", "waiting", "reason"}));
    if (terminated != nullptr && Int(Get(terminated, "exitCode")) == 0) continue;
    if (sidecar && Bool(Get(&c, "started"))) {
      if (Bool(Get(&c, "ready"))) ++ready;
      continue;
    }
    if (terminated != nullptr) {
      std::string r = Str(Get(terminated, "reason"));
      reason = "Init:" + (r.empty() ? TerminatedCode(terminated) : r);
    } else if (Get(&c, {"state", "waiting"}) != nullptr && !waiting.empty() &&
               waiting != "PodInitializing") {
      reason = "Init:" + waiting;
    } else {
      reason = "Init:" + std::to_string(i) + "/" + std::to_string(init_specs.size());
    }
    initializing = true;
    break;
  }
  if (!initializing || ConditionTrue(status, "Initialized")) {
    restarts = restartable_restarts;
    last_restart = last_restartable_restart;
    bool has_running = false;
    const json& statuses = Elements(Get(status, "containerStatuses"));
    for (size_t i = statuses.size(); i-- > 0;) {
      const json& c = statuses[i];
      restarts += Int(Get(&c, "restartCount"));
      note_restart(c, &last_restart);
      const json* waiting = Get(&c, {"state", "waiting"});
      const json* terminated = Get(&c, {"state", "terminated"});
      if (waiting != nullptr && !Str(Get(waiting, "reason")).empty()) {
        reason = Str(Get(waiting, "reason"));
      } else if (terminated != nullptr && !Str(Get(terminated, "reason")).empty()) {
        reason = Str(Get(terminated, "reason"));
      } else if (terminated != nullptr) {
        reason = TerminatedCode(terminated);
      } else if (Bool(Get(&c, "ready")) && Get(&c, {"state", "running"}) != nullptr) {
        has_running = true;
        ++ready;
      }
    }
    // Back to Running while a container still runs.
    if (reason == "Completed" && has_running) {
      reason = HasPodReadyCondition(status) ? "Running" : "NotReady";
    }
  }
  if (Get(&pod, {"metadata", "deletionTimestamp"}) != nullptr) {
    if (status_reason == "NodeLost") {
      reason = "Unknown";
    } else if (phase != "Failed" && phase != "Succeeded") {
      reason = "Terminating";
    }
  }
  std::string restarts_text = std::to_string(restarts);
  if (restarts != 0 && !last_restart.IsZero()) {
    restarts_text += " (" + Since(last_restart, ctx.now) + " ago)";
  }
  std::string ip = Str(Get(status, "podIP"));  // authoritative over podIPs, as in conversion
  if (ip.empty()) {
    const json& ips = Elements(Get(status, "podIPs"));
    if (!ips.empty()) ip = Str(Get(&ips[0], "ip"));
  }
  std::string gates = "<none>";
  const json& readiness_gates = Elements(Get(spec, "readinessGates"));
  if (!readiness_gates.empty()) {
    int true_conditions = 0;
    for (const json& gate : readiness_gates) {
      const std::string type = Str(Get(&gate, "conditionType"));
      for (const json& c : Elements(Get(status, "conditions"))) {
        if (Str(Get(&c, "type")) == type) {
          if (Str(Get(&c, "status")) == "True") ++true_conditions;
          break;
        }
      }
    }
    gates = std::to_string(true_conditions) + "/" + std::to_string(readiness_gates.size());
  }
  *cells =
      json::array({Name(pod), std::to_string(ready) + "/" + std::to_string(total), reason,
                   restarts_text, Age(pod, ctx), OrNone(ip), OrNone(Str(Get(spec, "nodeName"))),
                   OrNone(Str(Get(status, "nominatedNodeName"))), gates});
}

// --- Node ----------------------------------------------------------------------------------

std::string NodeAddress(const json* status, std::string_view type) {
  for (const json& a : Elements(Get(status, "addresses"))) {
    if (Str(Get(&a, "type")) == type) return Str(Get(&a, "address"));
  }
  return "<none>";
}

std::string OrUnknown(std::string s) { return s.empty() ? "<unknown>" : s; }

void NodeRow(const json& node, const RowContext& ctx, json* cells, json*) {
  const json* status = Get(&node, "status");
  std::vector<std::string> state;
  const json* ready = nullptr;  // the last Ready condition wins, as with upstream's map
  for (const json& c : Elements(Get(status, "conditions"))) {
    if (Str(Get(&c, "type")) == "Ready") ready = &c;
  }
  if (ready != nullptr) {
    state.push_back(Str(Get(ready, "status")) == "True" ? "Ready" : "NotReady");
  } else {
    state.push_back("Unknown");
  }
  if (Bool(Get(&node, {"spec", "unschedulable"}))) state.push_back("SchedulingDisabled");
  std::set<std::string> roles;
  const json* labels = Get(&node, {"metadata", "labels"});
  if (labels != nullptr && labels->is_object()) {
    constexpr std::string_view kRolePrefix = "node-role.kubernetes.io/";
    for (const auto& [key, value] : labels->items()) {
      if (key.size() > kRolePrefix.size() && key.compare(0, kRolePrefix.size(), kRolePrefix) == 0) {
        roles.insert(key.substr(kRolePrefix.size()));
      } else if (key == "kubernetes.io/role" && !Str(&value).empty()) {
        roles.insert(Str(&value));
      }
    }
  }
  const json* info = Get(status, "nodeInfo");
  *cells =
      json::array({Name(node), Join(state, ","),
                   OrNone(Join(std::vector<std::string>(roles.begin(), roles.end()), ",")),
                   Age(node, ctx), Str(Get(info, "kubeletVersion")),
                   NodeAddress(status, "InternalIP"), NodeAddress(status, "ExternalIP"),
                   OrUnknown(Str(Get(info, "osImage"))), OrUnknown(Str(Get(info, "kernelVersion"))),
                   OrUnknown(Str(Get(info, "containerRuntimeVersion")))});
}

// --- Event (core/v1 and events.k8s.io/v1, which share storage upstream) -------------------

std::string TrimSpace(std::string s) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && space(s.back())) s.pop_back();
  size_t i = 0;
  while (i < s.size() && space(s[i])) ++i;
  return s.substr(i);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void EventRow(const json& ev, const RowContext& ctx, json* cells, json*) {
  const bool v1 = ctx.group == "events.k8s.io";
  const Timestamp first_ts =
      TimestampOf(Get(&ev, v1 ? "deprecatedFirstTimestamp" : "firstTimestamp"));
  const Timestamp last_ts = TimestampOf(Get(&ev, v1 ? "deprecatedLastTimestamp" : "lastTimestamp"));
  std::string first = first_ts.IsZero() ? Since(TimestampOf(Get(&ev, "eventTime")), ctx.now)
                                        : Since(first_ts, ctx.now);
  std::string last = last_ts.IsZero() ? first : Since(last_ts, ctx.now);
  int64_t count = Int(Get(&ev, v1 ? "deprecatedCount" : "count"));
  if (const json* series = Get(&ev, "series"); series != nullptr) {
    last = Since(TimestampOf(Get(series, "lastObservedTime")), ctx.now);
    count = Int(Get(series, "count"));
  } else if (count == 0) {
    count = 1;  // singleton events of the new API carry no count
  }
  const json* involved = Get(&ev, v1 ? "regarding" : "involvedObject");
  std::string target = Lower(Str(Get(involved, "kind")));
  if (!Str(Get(involved, "name")).empty()) target += "/" + Str(Get(involved, "name"));
  const json* source = Get(&ev, v1 ? "deprecatedSource" : "source");
  std::string component = Str(Get(source, "component"));
  if (component.empty())
    component = Str(Get(&ev, v1 ? "reportingController" : "reportingComponent"));
  std::string host = Str(Get(source, "host"));
  if (host.empty()) host = Str(Get(&ev, "reportingInstance"));
  *cells = json::array({last, Str(Get(&ev, "type")), Str(Get(&ev, "reason")), target,
                        Str(Get(involved, "fieldPath")),
                        host.empty() ? component : component + ", " + host,
                        TrimSpace(Str(Get(&ev, v1 ? "note" : "message"))), first, count, Name(ev)});
}

// --- Namespace, ConfigMap, Secret, ServiceAccount ------------------------------------------

void NamespaceRow(const json& ns, const RowContext& ctx, json* cells, json*) {
  std::string phase = Str(Get(&ns, {"status", "phase"}));
  *cells = json::array({Name(ns), phase.empty() ? "Active" : phase, Age(ns, ctx)});
}

void ConfigMapRow(const json& cm, const RowContext& ctx, json* cells, json*) {
  int64_t n = static_cast<int64_t>(Count(Get(&cm, "data")) + Count(Get(&cm, "binaryData")));
  *cells = json::array({Name(cm), n, Age(cm, ctx)});
}

void SecretRow(const json& secret, const RowContext& ctx, json* cells, json*) {
  std::string type = Str(Get(&secret, "type"));
  *cells = json::array({Name(secret), type.empty() ? "Opaque" : type,
                        static_cast<int64_t>(Count(Get(&secret, "data"))), Age(secret, ctx)});
}

void ServiceAccountRow(const json& sa, const RowContext& ctx, json* cells, json*) {
  *cells = json::array(
      {Name(sa), static_cast<int64_t>(Elements(Get(&sa, "secrets")).size()), Age(sa, ctx)});
}

// --- Service, Endpoints ----------------------------------------------------------------------

std::vector<std::string> Strings(const json* v) {
  std::vector<std::string> out;
  for (const json& s : Elements(v)) out.push_back(Str(&s));
  return out;
}

std::string ServiceExternalIp(const json& svc, const std::string& type) {
  const std::vector<std::string> external = Strings(Get(&svc, {"spec", "externalIPs"}));
  if (type == "ClusterIP" || type == "NodePort")
    return external.empty() ? "<none>" : Join(external, ",");
  if (type == "ExternalName") return Str(Get(&svc, {"spec", "externalName"}));
  if (type != "LoadBalancer") return "<unknown>";
  std::set<std::string> lb;  // sorted and unique, like sets.String.List()
  for (const json& ing : Elements(Get(&svc, {"status", "loadBalancer", "ingress"}))) {
    if (!Str(Get(&ing, "ip")).empty()) {
      lb.insert(Str(Get(&ing, "ip")));
    } else if (!Str(Get(&ing, "hostname")).empty()) {
      lb.insert(Str(Get(&ing, "hostname")));
    }
  }
  std::vector<std::string> all(lb.begin(), lb.end());
  if (!external.empty()) {
    all.insert(all.end(), external.begin(), external.end());
    return Join(all, ",");
  }
  return all.empty() ? "<pending>" : Join(all, ",");
}

void ServiceRow(const json& svc, const RowContext& ctx, json* cells, json*) {
  const json* spec = Get(&svc, "spec");
  std::string type = Str(Get(spec, "type"));
  if (type.empty()) type = "ClusterIP";
  std::string cluster_ip = Str(Get(spec, "clusterIP"));  // authoritative over clusterIPs
  if (cluster_ip.empty()) {
    const json& ips = Elements(Get(spec, "clusterIPs"));
    if (!ips.empty()) cluster_ip = Str(&ips[0]);
  }
  std::vector<std::string> ports;
  for (const json& p : Elements(Get(spec, "ports"))) {
    std::string protocol = Str(Get(&p, "protocol"));
    if (protocol.empty()) protocol = "TCP";
    int64_t node_port = Int(Get(&p, "nodePort"));
    ports.push_back(std::to_string(Int(Get(&p, "port"))) +
                    (node_port > 0 ? ":" + std::to_string(node_port) : "") + "/" + protocol);
  }
  *cells =
      json::array({Name(svc), type, OrNone(cluster_ip), ServiceExternalIp(svc, type),
                   OrNone(Join(ports, ",")), Age(svc, ctx), FormatLabels(Get(spec, "selector"))});
}

std::string JoinHostPort(const std::string& host, int64_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// printers.go formatEndpoints with every port: at most three addresses, then " + N more...".
std::string FormatEndpoints(const json& ep) {
  const json& subsets = Elements(Get(&ep, "subsets"));
  if (subsets.empty()) return "<none>";
  constexpr size_t kMax = 3;
  std::vector<std::string> list;
  bool more = false;
  size_t count = 0;
  for (const json& ss : subsets) {
    const json& addresses = Elements(Get(&ss, "addresses"));
    const json& ports = Elements(Get(&ss, "ports"));
    if (ports.empty()) {  // headless services may have no ports
      count += addresses.size();
      for (const json& a : addresses) {
        if (list.size() == kMax) {
          more = true;
          break;
        }
        list.push_back(Str(Get(&a, "ip")));
      }
      continue;
    }
    for (const json& port : ports) {
      count += addresses.size();
      for (const json& a : addresses) {
        if (list.size() == kMax) {
          more = true;
          break;
        }
        list.push_back(JoinHostPort(Str(Get(&a, "ip")), Int(Get(&port, "port"))));
      }
    }
  }
  std::string out = Join(list, ",");
  if (more) out += " + " + std::to_string(count - kMax) + " more...";
  return out;
}

void EndpointsRow(const json& ep, const RowContext& ctx, json* cells, json*) {
  *cells = json::array({Name(ep), FormatEndpoints(ep), Age(ep, ctx)});
}

}  // namespace

std::string FormatLabels(const json* labels) {
  std::vector<std::string> parts;
  if (labels != nullptr && labels->is_object()) {
    for (const auto& [key, value] : labels->items()) parts.push_back(key + "=" + Str(&value));
  }
  return OrNone(Join(parts, ","));
}

std::string FormatLabelSelector(const json* selector) {
  if (selector == nullptr) return "<none>";
  auto parsed = core::LabelSelector::FromJson(*selector, "selector");
  if (!parsed.ok()) return "<error>";
  return parsed->IsNothing() ? "<none>" : OrNone(parsed->ToString());
}

std::string LabelSelectorString(const json* selector) {
  if (selector == nullptr) return "";
  auto parsed = core::LabelSelector::FromJson(*selector, "selector");
  if (!parsed.ok()) return "<invalid>";
  return parsed->IsNothing() ? "" : parsed->ToString();
}

std::pair<std::string, std::string> ContainerCells(const json* pod_spec) {
  std::vector<std::string> names;
  std::vector<std::string> images;
  for (const json& c : Elements(Get(pod_spec, "containers"))) {
    names.push_back(Str(Get(&c, "name")));
    images.push_back(Str(Get(&c, "image")));
  }
  return {Join(names, ","), Join(images, ",")};
}

void AddCorePrinters(PrinterMap* printers) {
  const char* kAge = kCreationDescription;
  (*printers)["/Pod"] = Printer{
      {{"Name", "string", "name", kNameDescription, 0},
       {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.",
        0},
       {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
       {"Restarts", "string", "",
        "The number of times the containers in this pod have been restarted and when the last "
        "container in this pod has restarted.",
        0},
       {"Age", "string", "", kAge, 0},
       {"IP", "string", "",
        "IP address allocated to the pod. Routable at least within the cluster.", 1},
       {"Node", "string", "", "NodeName indicates in which node this pod is scheduled.", 1},
       {"Nominated Node", "string", "",
        "nominatedNodeName is set only when this pod preempts other pods on the node.", 1},
       {"Readiness Gates", "string", "",
        "If specified, all readiness gates will be evaluated for pod readiness.", 1}},
      PodRow};
  (*printers)["/Node"] = Printer{
      {{"Name", "string", "name", kNameDescription, 0},
       {"Status", "string", "", "The status of the node", 0},
       {"Roles", "string", "", "The roles of the node", 0},
       {"Age", "string", "", kAge, 0},
       {"Version", "string", "", "Kubelet Version reported by the node.", 0},
       {"Internal-IP", "string", "", "List of addresses reachable to the node.", 1},
       {"External-IP", "string", "", "List of addresses reachable to the node.", 1},
       {"OS-Image", "string", "", "OS Image reported by the node from /etc/os-release.", 1},
       {"Kernel-Version", "string", "", "Kernel Version reported by the node.", 1},
       {"Container-Runtime", "string", "", "ContainerRuntime Version reported by the node.", 1}},
      NodeRow};
  Printer event{{{"Last Seen", "string", "",
                  "The time at which the most recent occurrence of this event was recorded.", 0},
                 {"Type", "string", "", "Type of this event (Normal, Warning).", 0},
                 {"Reason", "string", "",
                  "This should be a short, machine understandable string that gives the reason for "
                  "the transition into the object's current status.",
                  0},
                 {"Object", "string", "", "The object that this event is about.", 0},
                 {"Subobject", "string", "",
                  "If referring to a piece of an object instead of an entire object, this string "
                  "should contain a valid JSON/Go field access statement.",
                  1},
                 {"Source", "string", "", "The component reporting this event.", 1},
                 {"Message", "string", "",
                  "A human-readable description of the status of this operation.", 0},
                 {"First Seen", "string", "", "The time at which the event was first recorded.", 1},
                 {"Count", "string", "", "The number of times this event has occurred.", 1},
                 {"Name", "string", "name", kNameDescription, 1}},
                EventRow};
  (*printers)["/Event"] = event;
  (*printers)["events.k8s.io/Event"] = event;
  (*printers)["/Namespace"] = Printer{{{"Name", "string", "name", kNameDescription, 0},
                                       {"Status", "string", "", "The status of the namespace", 0},
                                       {"Age", "string", "", kAge, 0}},
                                      NamespaceRow};
  (*printers)["/ConfigMap"] =
      Printer{{{"Name", "string", "name", kNameDescription, 0},
               {"Data", "string", "", "Data contains the configuration data.", 0},
               {"Age", "string", "", kAge, 0}},
              ConfigMapRow};
  (*printers)["/Secret"] = Printer{
      {{"Name", "string", "name", kNameDescription, 0},
       {"Type", "string", "", "Used to facilitate programmatic handling of secret data.", 0},
       {"Data", "string", "", "Data contains the secret data.", 0},
       {"Age", "string", "", kAge, 0}},
      SecretRow};
  (*printers)["/ServiceAccount"] =
      Printer{{{"Name", "string", "name", kNameDescription, 0},
               {"Secrets", "string", "",
                "Secrets is a list of the secrets in the same namespace that pods running using "
                "this ServiceAccount are allowed to use.",
                0},
               {"Age", "string", "", kAge, 0}},
              ServiceAccountRow};
  (*printers)["/Service"] = Printer{
      {{"Name", "string", "name", kNameDescription, 0},
       {"Type", "string", "", "type determines how the Service is exposed.", 0},
       {"Cluster-IP", "string", "", "clusterIP is the IP address of the service.", 0},
       {"External-IP", "string", "",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
        "traffic for this service.",
        0},
       {"Port(s)", "string", "", "The list of ports that are exposed by this service.", 0},
       {"Age", "string", "", kAge, 0},
       {"Selector", "string", "",
        "Route service traffic to pods with label keys and values matching this selector.", 1}},
      ServiceRow};
  (*printers)["/Endpoints"] = Printer{
      {{"Name", "string", "name", kNameDescription, 0},
       {"Endpoints", "string", "", "The set of all endpoints is the union of all subsets.", 0},
       {"Age", "string", "", kAge, 0}},
      EndpointsRow};
}

}  // namespace gpufleet::apiserver::table_internal
