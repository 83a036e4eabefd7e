// The simulated kubelet's pods: admission (devices), pulls, container start, programs, exits,
// restarts, completion and confirmed deletion, with the Events and statuses a kubelet writes.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/json.h"
#include "core/log.h"
#include "core/time_format.h"
#include "gpu/mock_backend.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "kube/types/pod.h"
#include "sim/container_program.h"
#include "sim/kubelet.h"

namespace gpufleet::sim {
namespace {

const core::log::Logger kLog("sim.kubelet");
const kube::Gvr kPods = kube::Pod::Resource();

// The value at a dotted path (core::FindField), or a shared null when it is absent or a step
// has the wrong type: pod JSON from the cache is read without throwing or inserting.
const nlohmann::json& Field(const nlohmann::json& j, std::string_view path) {
  static const nlohmann::json kNull;
  auto found = core::FindField(j, path);
  return found.ok() && *found != nullptr ? **found : kNull;
}

// The string at `path`, or `fallback` when it is absent or not a string.
std::string Get(const nlohmann::json& j, std::string_view path, std::string fallback = "") {
  const nlohmann::json& v = Field(j, path);
  return v.is_string() ? v.get<std::string>() : fallback;
}

std::vector<std::string> Strings(const nlohmann::json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const auto& v : list) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string Seconds(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3gs", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

}  // namespace

struct SimulatedKubelet::PodRun {
  enum class Stage { kAdmitting, kCreating, kRunning, kDone, kTerminating };
  struct Container {
    std::string name, image;
    std::unique_ptr<ContainerProgram> program;
    bool running = false, exited = false;
    int exit_code = 0, restarts = 0;
    std::string started_at, finished_at, log;
  };
  std::string ns, name, uid;
  nlohmann::json pod;
  Stage stage = Stage::kAdmitting;
  int generation = 0;
  std::vector<Container> containers;
  std::vector<DeviceAllocation> devices;
  std::string start_time, phase = "Pending", reason, message;
};

void SimulatedKubelet::SyncPod(const nlohmann::json& pod) {
  const std::string uid = Get(pod, "metadata.uid");
  const bool deleting = !Get(pod, "metadata.deletionTimestamp").empty();
  const std::string phase = Get(pod, "status.phase");
  std::shared_ptr<PodRun> run;
  std::function<void()> next;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    auto it = pods_.find(uid);
    if (it != pods_.end()) {
      run = it->second;
      run->pod = pod;
      if (!deleting || run->stage == PodRun::Stage::kTerminating) return;
      run->stage = PodRun::Stage::kTerminating;
      next = [this, run] { Terminate(run); };
    } else {
      run = std::make_shared<PodRun>();
      run->ns = Get(pod, "metadata.namespace");
      run->name = Get(pod, "metadata.name");
      run->uid = uid;
      run->pod = pod;
      run->start_time = Get(pod, "status.startTime");
      if (const nlohmann::json& containers = Field(pod, "spec.containers"); containers.is_array()) {
        for (const auto& c : containers) {
          run->containers.push_back({.name = Get(c, "name"), .image = Get(c, "image")});
        }
      }
      pods_[uid] = run;
      if (deleting) {
        run->stage = PodRun::Stage::kTerminating;
        next = [this, run] { Terminate(run); };
      } else if (phase == "Succeeded" || phase == "Failed") {
        run->stage = PodRun::Stage::kDone;
        run->phase = phase;
      } else if (phase == "Running") {
        run->stage = PodRun::Stage::kRunning;
        run->phase = phase;
        next = [this, run] { Resume(run); };
      } else {
        next = [this, run] { Admit(run); };
      }
    }
  }
  if (next) {
    auto self = shared_from_this();
    env_.executor->Post([self, next] { next(); });
  }
}

void SimulatedKubelet::ForgetPod(const std::string& uid) {
  std::shared_ptr<PodRun> run;
  {
    std::lock_guard lock(mu_);
    auto it = pods_.find(uid);
    if (it == pods_.end()) return;
    run = it->second;
    pods_.erase(it);
    run->stage = PodRun::Stage::kTerminating;
  }
  StopProgram(run);
  devices_->Release(uid);
  std::lock_guard lock(mu_);
  checkpoint_.erase(uid);
  SaveCheckpoint();
}

void SimulatedKubelet::Event(const std::shared_ptr<PodRun>& run, std::string_view type, std::string_view reason,
                             const std::string& message) {
  if (env_.events == nullptr) return;
  nlohmann::json ref = {{"apiVersion", "v1"},
                        {"kind", "Pod"},
                        {"metadata", {{"name", run->name}, {"namespace", run->ns}, {"uid", run->uid}}}};
  env_.events->Event(ref, type, reason, message);
}

nlohmann::json SimulatedKubelet::PodStatus(const PodRun& run) const {
  const std::string now = core::FormatRfc3339(env_.clock->Now());
  const bool running = run.stage == PodRun::Stage::kRunning;
  const bool all_running =
      running && std::all_of(run.containers.begin(), run.containers.end(), [](const auto& c) { return c.running; });
  const bool done = run.phase == "Succeeded" || run.phase == "Failed";
  auto condition = [&](const char* type, bool status, const char* reason = nullptr) {
    nlohmann::json c = {{"type", type}, {"status", status ? "True" : "False"}, {"lastTransitionTime", now}};
    if (reason) c["reason"] = reason;
    return c;
  };
  nlohmann::json statuses = nlohmann::json::array();
  for (const auto& c : run.containers) {
    nlohmann::json state;
    if (c.running) {
      state = {{"running", {{"startedAt", c.started_at}}}};
    } else if (c.exited) {
      state = {{"terminated",
                {{"exitCode", c.exit_code},
                 {"reason", c.exit_code == 0 ? "Completed" : "Error"},
                 {"startedAt", c.started_at},
                 {"finishedAt", c.finished_at}}}};
    } else {
      state = {{"waiting", {{"reason", "ContainerCreating"}}}};
    }
    statuses.push_back({{"name", c.name},
                        {"image", c.image},
                        {"imageID", c.started_at.empty() ? "" : c.image + "@sha256:" + std::string(64, '0')},
                        {"containerID", c.started_at.empty() ? "" : "containerd://" + run.uid + "-" + c.name},
                        {"ready", c.running && all_running},
                        {"started", c.running},
                        {"restartCount", c.restarts},
                        {"state", state}});
  }
  const char* not_ready = done ? "PodCompleted" : "ContainersNotReady";
  nlohmann::json status = {
      {"phase", run.phase},
      {"hostIP", id_.private_ip},
      {"hostIPs", {{{"ip", id_.private_ip}}}},
      {"qosClass", Get(run.pod, "status.qosClass", "BestEffort")},
      {"conditions",
       {condition("PodReadyToStartContainers", run.stage != PodRun::Stage::kAdmitting && !done),
        condition("Initialized", true), condition("Ready", all_running, all_running ? nullptr : not_ready),
        condition("ContainersReady", all_running, all_running ? nullptr : not_ready), condition("PodScheduled", true)}},
      {"containerStatuses", statuses},
  };
  if (!run.start_time.empty()) status["startTime"] = run.start_time;
  if (run.stage != PodRun::Stage::kAdmitting) {
    // A stable pod IP from the node's subnet, as the VPC CNI would hand out.
    const size_t h = std::hash<std::string>{}(run.uid);
    std::string base = id_.private_ip.substr(0, id_.private_ip.rfind('.') + 1);
    status["podIP"] = base + std::to_string(100 + h % 150);
    status["podIPs"] = {{{"ip", status["podIP"]}}};
  }
  if (!run.reason.empty()) status["reason"] = run.reason;
  if (!run.message.empty()) status["message"] = run.message;
  return status;
}

void SimulatedKubelet::PatchPodStatus(const std::shared_ptr<PodRun>& run, const nlohmann::json& status) {
  nlohmann::json patch = {{"metadata", {{"uid", run->uid}}}, {"status", status}};
  auto r = env_.client->Patch(kPods, run->ns, run->name, kube::PatchType::kMerge, patch, {}, "status");
  if (!r.ok() && r.status().code() != StatusCode::kNotFound) {
    kLog.Warn("pod status update failed", {{"pod", run->ns + "/" + run->name}, {"error", r.status()}});
  }
}

void SimulatedKubelet::Admit(const std::shared_ptr<PodRun>& run) {
  // Extended resources (nvidia.com/gpu, ...) are allocated at admission, from the limits.
  std::map<std::string, int64_t> wanted;
  nlohmann::json pod;
  {
    std::lock_guard lock(mu_);  // SyncPod replaces run->pod
    pod = run->pod;
  }
  const nlohmann::json& containers = Field(pod, "spec.containers");
  for (const auto& c : containers.is_array() ? containers : nlohmann::json::array()) {
    if (!c.contains("resources") || !c["resources"].contains("limits")) continue;
    auto limits = core::ResourceList::FromJsonValue(c["resources"]["limits"]);
    if (!limits.ok()) continue;
    for (const auto& [resource, q] : *limits) {
      if (resource.find('/') != std::string::npos && !resource.starts_with("hugepages")) {
        wanted[resource] += q.Value();
      }
    }
  }
  std::vector<DeviceAllocation> got;
  Status failed;
  for (const auto& [resource, count] : wanted) {
    if (count <= 0) continue;
    auto a = devices_->Allocate(run->uid, resource, count);
    if (!a.ok()) {
      failed = a.status();
      break;
    }
    got.push_back(std::move(*a));
  }
  std::unique_lock lock(mu_);
  if (run->stage != PodRun::Stage::kAdmitting) return;
  run->start_time = core::FormatRfc3339(env_.clock->Now());
  if (!failed.ok()) {
    run->stage = PodRun::Stage::kDone;
    run->phase = "Failed";
    run->reason = "UnexpectedAdmissionError";
    run->message = "Allocate failed due to " + std::string(failed.message()) + ", which is unexpected";
    nlohmann::json status = PodStatus(*run);
    lock.unlock();
    devices_->Release(run->uid);
    Event(run, "Warning", "UnexpectedAdmissionError", run->message);
    PatchPodStatus(run, status);
    return;
  }
  run->devices = got;
  run->stage = PodRun::Stage::kCreating;
  checkpoint_[run->uid] = got;
  SaveCheckpoint();
  nlohmann::json status = PodStatus(*run);
  lock.unlock();
  PatchPodStatus(run, status);
  for (const auto& c : run->containers) Event(run, "Normal", "Pulling", "Pulling image \"" + c.image + "\"");
  auto self = shared_from_this();
  env_.executor->After(env_.delays.image_pull, [self, run] {
    for (const auto& c : run->containers) {
      self->Event(run, "Normal", "Pulled",
                  "Successfully pulled image \"" + c.image + "\" in " + Seconds(self->env_.delays.image_pull) + " (" +
                      Seconds(self->env_.delays.image_pull) + " including waiting)");
      self->Event(run, "Normal", "Created", "Created container: " + c.name);
    }
    self->env_.executor->After(self->env_.delays.container_start, [self, run] { self->StartContainer(run); });
  });
}

void SimulatedKubelet::StartContainer(const std::shared_ptr<PodRun>& run) {
  std::unique_lock lock(mu_);
  if (stopped_ || run->stage == PodRun::Stage::kTerminating || run->stage == PodRun::Stage::kDone) return;
  run->stage = PodRun::Stage::kRunning;
  run->phase = "Running";
  const int generation = ++run->generation;
  const std::string now = core::FormatRfc3339(env_.clock->Now());
  for (auto& c : run->containers) {
    c.running = true;
    c.exited = false;
    c.started_at = now;
  }
  nlohmann::json status = PodStatus(*run);
  const nlohmann::json pod = run->pod;  // SyncPod replaces run->pod under mu_
  lock.unlock();
  PatchPodStatus(run, status);
  for (const auto& c : run->containers) Event(run, "Normal", "Started", "Started container " + c.name);

  // The programs start after the Running status is written, so a quick exit never precedes it.
  const nlohmann::json& listed = Field(pod, "spec.containers");
  const nlohmann::json specs = listed.is_array() ? listed : nlohmann::json::array();
  std::map<std::string, std::string> annotations;
  if (const nlohmann::json& a = Field(pod, "metadata.annotations"); a.is_object()) {
    for (const auto& [k, v] : a.items()) {
      if (v.is_string()) annotations[k] = v.get<std::string>();
    }
  }
  ProgramHost host{.executor = env_.executor,
                   .gpus = gpus_.get(),
                   .plugin_dir = plugin_dir(),
                   .machine = id_.instance_type,
                   .client = env_.client,
                   .clock = env_.clock};
  std::weak_ptr<SimulatedKubelet> weak = weak_from_this();
  for (size_t i = 0; i < run->containers.size() && i < specs.size(); ++i) {
    const auto& spec = specs[i];
    ProgramContext ctx;
    ctx.node = id_.name;
    ctx.ns = run->ns;
    ctx.pod = run->name;
    ctx.container = run->containers[i].name;
    ctx.image = run->containers[i].image;
    ctx.command = Strings(Field(spec, "command"));
    ctx.args = Strings(Field(spec, "args"));
    ctx.annotations = annotations;
    ctx.time_scale = env_.time_scale;
    const nlohmann::json& env = Field(spec, "env");
    for (const auto& e : env.is_array() ? env : nlohmann::json::array()) {
      if (!e.is_object()) continue;
      std::string value = Get(e, "value");
      const std::string field = Get(e, "valueFrom.fieldRef.fieldPath");
      if (field == "spec.nodeName") value = id_.name;
      if (field == "metadata.name") value = run->name;
      if (field == "metadata.namespace") value = run->ns;
      ctx.env[Get(e, "name")] = value;
    }
    if (i == 0) {
      for (const auto& a : run->devices) ctx.env.insert(a.envs.begin(), a.envs.end());
    }
    ctx.output = [weak, run, i](const std::string& text) {
      auto self = weak.lock();
      if (!self) return;
      std::string log;
      {
        std::lock_guard l(self->mu_);
        run->containers[i].log += text;
        log = run->containers[i].log;
      }
      if (self->env_.write_log) (void)self->env_.write_log(run->ns, run->name, run->containers[i].name, log);
    };
    ctx.exited = [weak, run, generation, i](int code) {
      if (auto self = weak.lock()) {
        self->env_.executor->Post([self, run, generation, i, code] { self->ContainerExited(run, generation, i, code); });
      }
    };
    auto program = MakeProgram(std::move(ctx), host);
    ContainerProgram* p = program.get();
    {
      std::lock_guard l(mu_);
      if (run->stage != PodRun::Stage::kRunning || run->generation != generation) return;
      run->containers[i].program = std::move(program);
    }
    p->Start();
  }
}

void SimulatedKubelet::Resume(const std::shared_ptr<PodRun>& run) {
  // After a restart: the pod was Running; its devices come back from the checkpoint and its
  // programs start again (a real node's containers survive a kubelet restart; ours did not).
  {
    std::lock_guard lock(mu_);
    auto it = checkpoint_.find(run->uid);
    if (it != checkpoint_.end()) {
      run->devices = it->second;
      for (const auto& a : it->second) devices_->Restore(run->uid, a.resource, a.device_ids);
    }
    run->stage = PodRun::Stage::kCreating;
  }
  StartContainer(run);
}

void SimulatedKubelet::ContainerExited(const std::shared_ptr<PodRun>& run, int generation, size_t container, int exit_code) {
  std::unique_lock lock(mu_);
  if (run->generation != generation || run->stage != PodRun::Stage::kRunning) return;
  auto& c = run->containers[container];
  c.running = false;
  c.exited = true;
  c.exit_code = exit_code;
  c.finished_at = core::FormatRfc3339(env_.clock->Now());
  const bool all_exited = std::all_of(run->containers.begin(), run->containers.end(), [](const auto& x) { return x.exited; });
  const bool all_zero = std::all_of(run->containers.begin(), run->containers.end(), [](const auto& x) { return x.exit_code == 0; });
  const std::string policy = Get(run->pod, "spec.restartPolicy", "Always");
  const bool restart = all_exited && (policy == "Always" || (policy == "OnFailure" && !all_zero));
  if (all_exited && !restart) {
    run->stage = PodRun::Stage::kDone;
    run->phase = all_zero ? "Succeeded" : "Failed";
  }
  nlohmann::json status = PodStatus(*run);
  int restarts = c.restarts;
  lock.unlock();
  PatchPodStatus(run, status);
  if (all_exited && !restart) {
    Finish(run);
    return;
  }
  if (restart) {
    // The kubelet's crash-loop back-off: 10 s doubling to 5 minutes.
    auto backoff = std::chrono::milliseconds(static_cast<int64_t>(
        std::min(300.0, 10.0 * std::pow(2.0, std::min(restarts, 5))) * 1000.0 / env_.time_scale));
    Event(run, "Warning", "BackOff", "Back-off restarting failed container " + c.name + " in pod " + run->name + "_" + run->ns + "(" + run->uid + ")");
    {
      std::lock_guard l(mu_);
      for (auto& x : run->containers) {
        x.restarts++;
        x.exited = false;
      }
    }
    auto self = shared_from_this();
    env_.executor->After(backoff, [self, run] {
      {
        std::lock_guard l(self->mu_);
        if (run->stage != PodRun::Stage::kRunning) return;
        run->stage = PodRun::Stage::kCreating;
      }
      self->StartContainer(run);
    });
  }
}

void SimulatedKubelet::Finish(const std::shared_ptr<PodRun>& run) {
  StopProgram(run);
  devices_->Release(run->uid);
  std::lock_guard lock(mu_);
  checkpoint_.erase(run->uid);
  SaveCheckpoint();
}

void SimulatedKubelet::StopProgram(const std::shared_ptr<PodRun>& run) {
  std::vector<std::unique_ptr<ContainerProgram>> programs;
  {
    std::lock_guard lock(mu_);
    for (auto& c : run->containers) {
      if (c.program) programs.push_back(std::move(c.program));
    }
  }
  for (auto& p : programs) p->Stop();
}

void SimulatedKubelet::Terminate(const std::shared_ptr<PodRun>& run) {
  bool was_running = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& c : run->containers) was_running = was_running || c.running;
  }
  if (was_running) {
    for (const auto& c : run->containers) Event(run, "Normal", "Killing", "Stopping container " + c.name);
  }
  StopProgram(run);
  auto self = shared_from_this();
  env_.executor->After(was_running ? env_.delays.pod_stop : std::chrono::milliseconds(0), [self, run] {
    self->devices_->Release(run->uid);
    {
      std::lock_guard lock(self->mu_);
      self->checkpoint_.erase(run->uid);
      self->SaveCheckpoint();
    }
    // The kubelet confirms the deletion once its containers are gone.
    kube::DeleteOptions options;
    options.grace_period_seconds = 0;
    options.precondition_uid = run->uid;
    auto r = self->env_.client->Delete(kPods, run->ns, run->name, options);
    if (!r.ok() && r.status().code() != StatusCode::kNotFound && r.status().code() != StatusCode::kAborted) {
      kLog.Warn("confirming pod deletion failed", {{"pod", run->ns + "/" + run->name}, {"error", r.status()}});
    }
    std::lock_guard lock(self->mu_);
    self->pods_.erase(run->uid);
  });
}

// The device checkpoint (the kubelet keeps one as device-plugins/kubelet_internal_checkpoint):
// caller holds mu_.
void SimulatedKubelet::SaveCheckpoint() {
  if (env_.state_dir.empty()) return;
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [uid, allocations] : checkpoint_) {
    for (const auto& a : allocations) {
      j[uid].push_back({{"resource", a.resource}, {"deviceIDs", a.device_ids}, {"envs", a.envs}});
    }
  }
  const std::string path = env_.state_dir + "/" + id_.instance_id + ".json";
  std::ofstream out(path + ".tmp", std::ios::trunc);
  out << j.dump();
  out.close();
  if (out) std::rename((path + ".tmp").c_str(), path.c_str());
}

void SimulatedKubelet::LoadCheckpoint() {
  if (env_.state_dir.empty()) return;
  std::ifstream in(env_.state_dir + "/" + id_.instance_id + ".json");
  if (!in) return;
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str(), nullptr, false);
  if (!j.is_object()) {
    kLog.Warn("ignoring an unreadable device checkpoint", {{"node", id_.name}});
    return;
  }
  std::map<std::string, std::vector<DeviceAllocation>> read;
  try {
    for (const auto& [uid, list] : j.items()) {
      for (const auto& a : list) {
        read[uid].push_back({.resource = a.value("resource", ""),
                             .device_ids = a.value("deviceIDs", std::vector<std::string>{}),
                             .envs = a.value("envs", std::map<std::string, std::string>{})});
      }
    }
  } catch (const nlohmann::json::exception& e) {
    kLog.Warn("ignoring a malformed device checkpoint", {{"node", id_.name}, {"error", e.what()}});
    return;
  }
  std::lock_guard lock(mu_);
  checkpoint_ = std::move(read);
}

}  // namespace gpufleet::sim
