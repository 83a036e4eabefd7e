#include "sim/container_program.h"

#include <atomic>
#include <cmath>
#include <mutex>
#include <stop_token>
#include <thread>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/health.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/time_format.h"
#include "gpu/smi.h"
#include "sim/executor.h"

namespace gpufleet::sim {
namespace {

const core::log::Logger kLog("sim.container");

std::string Basename(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::chrono::milliseconds Scaled(std::chrono::milliseconds d, double scale) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(static_cast<double>(d.count()) / scale)));
}

// Runs once on the executor after `delay`, unless stopped first.
class TimedProgram final : public ContainerProgram {
 public:
  TimedProgram(ProgramContext ctx, Executor* executor, std::optional<std::chrono::milliseconds> run_for, int exit_code,
               std::string output)
      : ctx_(std::move(ctx)), executor_(executor), run_for_(run_for), exit_code_(exit_code), output_(std::move(output)) {}
  ~TimedProgram() override { Stop(); }

  void Start() override {
    if (!output_.empty()) ctx_.output(output_);
    if (!run_for_) return;  // a server: runs until stopped
    auto state = state_;
    auto exited = ctx_.exited;
    const int code = exit_code_;
    executor_->After(*run_for_, [state, exited, code] {
      if (!state->stopped.exchange(true)) exited(code);
    });
  }
  void Stop() override { state_->stopped = true; }

 private:
  struct State {
    std::atomic<bool> stopped{false};
  };
  ProgramContext ctx_;
  Executor* executor_;
  std::optional<std::chrono::milliseconds> run_for_;
  int exit_code_;
  std::string output_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// nvidia-smi inside a container sees the GPUs its device plugin allocation made visible.
class SmiProgram final : public ContainerProgram {
 public:
  SmiProgram(ProgramContext ctx, const ProgramHost& host) : ctx_(std::move(ctx)), host_(host) {}
  ~SmiProgram() override { Stop(); }

  void Start() override {
    auto state = state_;
    auto ctx = ctx_;
    gpu::GpuBackend* gpus = host_.gpus;
    host_.executor->Post([state, ctx, gpus] {
      auto [text, code] = Run(ctx, gpus);
      if (state->stopped.exchange(true)) return;
      ctx.output(text);
      ctx.exited(code);
    });
  }
  void Stop() override { state_->stopped = true; }

 private:
  static std::pair<std::string, int> Run(const ProgramContext& ctx, gpu::GpuBackend* gpus) {
    // What libnvidia-ml answers in a container without the driver mounted.
    const std::string no_driver =
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA "
        "driver is installed and running.\n\n";
    auto visible = ctx.env.find("NVIDIA_VISIBLE_DEVICES");
    if (gpus == nullptr || visible == ctx.env.end() || visible->second == "void" || visible->second.empty()) {
      return {no_driver, 9};
    }
    std::string ids = visible->second == "all" ? "" : visible->second;
    std::string query, format = "csv";
    bool list = false, details = false;
    for (size_t i = 0; i < ctx.args.size(); ++i) {
      const std::string& a = ctx.args[i];
      if (a == "-L" || a == "--list-gpus") list = true;
      else if (a == "-q" || a == "--query") details = true;
      else if (a.starts_with("--query-gpu=")) query = a.substr(12);
      else if (a.starts_with("--format=")) format = a.substr(9);
    }
    auto snapshot = gpu::TakeSnapshot(*gpus, ids);
    if (!snapshot.ok()) return {std::string(snapshot.status().message()) + "\n", 6};
    if (!query.empty()) {
      auto csv = gpu::ParseCsvFormat(format);
      if (!csv.ok()) return {std::string(csv.status().message()) + "\n", 2};
      auto out = gpu::FormatQuery(*snapshot, query, *csv);
      if (!out.ok()) return {std::string(out.status().message()) + "\n", 2};
      return {*out, gpu::ExitCode(*snapshot)};
    }
    if (list) return {gpu::FormatList(*snapshot), gpu::ExitCode(*snapshot)};
    if (details) return {gpu::FormatDetails(*snapshot), gpu::ExitCode(*snapshot)};
    return {gpu::FormatTable(*snapshot), gpu::ExitCode(*snapshot)};
  }

  struct State {
    std::atomic<bool> stopped{false};
  };
  ProgramContext ctx_;
  ProgramHost host_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// The real agent, in-process, on the node's mock GPUs.
class AgentProgram final : public ContainerProgram {
 public:
  AgentProgram(ProgramContext ctx, const ProgramHost& host) : ctx_(std::move(ctx)), host_(host) {}
  ~AgentProgram() override { Stop(); }

  void Start() override {
    auto getenv = [this](const char* name) -> const char* {
      auto it = ctx_.env.find(name);
      return it == ctx_.env.end() ? nullptr : it->second.c_str();
    };
    auto config = agent::ApplyEnvironment(agent::AgentConfig{}, getenv);
    agent::AgentOptions options;
    options.plugin_dir = host_.plugin_dir;
    options.node_name = ctx_.node;
    options.machine = host_.machine;
    // Only the retry is scaled (it sits on the path to a Ready GPU); the label refresh and the
    // kubelet-restart poll keep the agent's real periods, so a large fleet at a high time scale
    // costs what it would at scale 1.
    options.register_retry = std::max(std::chrono::milliseconds(50), Scaled(options.register_retry, ctx_.time_scale));
    Status s = config.ok() ? agent::ApplyHealthEnvironment(options.health, getenv) : config.status();
    if (s.ok() && host_.gpus == nullptr) s = FailedPreconditionError("no GPUs on this node (NVML not found)");
    if (s.ok()) {
      agent_ = std::make_unique<agent::Agent>(*host_.gpus, *config, options, host_.client, *host_.clock);
      s = agent_->Init();
    }
    if (!s.ok()) {
      ctx_.output(core::FormatRfc3339(host_.clock->Now()) + " error: " + std::string(s.message()) + "\n");
      agent_.reset();
      auto exited = ctx_.exited;
      host_.executor->Post([exited] { exited(1); });
      return;
    }
    ctx_.output(core::FormatRfc3339(host_.clock->Now()) + " gpufleet agent: serving " +
                std::to_string(agent_->Resources().size()) + " resource(s) on " + host_.plugin_dir + "\n");
    runner_ = std::jthread([this](std::stop_token stop) { agent_->Run(stop); });
  }
  void Stop() override {
    if (runner_.joinable()) {
      runner_.request_stop();
      runner_.join();
    }
    agent_.reset();
  }

 private:
  ProgramContext ctx_;
  ProgramHost host_;
  std::unique_ptr<agent::Agent> agent_;
  std::jthread runner_;
};

bool IsAgent(const ProgramContext& ctx) {
  const std::string image = ctx.image;
  if (image.find("k8s-device-plugin") != std::string::npos) return true;
  std::vector<std::string> words = ctx.command;
  words.insert(words.end(), ctx.args.begin(), ctx.args.end());
  return words.size() >= 2 && Basename(words[0]) == "gpufleet" && words[1] == "agent";
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseRunTime(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto go = core::ParseGoDuration(text);
  if (go.ok() && go->count() >= 0) return std::chrono::duration_cast<std::chrono::milliseconds>(*go);
  char* end = nullptr;
  double seconds = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !(seconds >= 0) || !std::isfinite(seconds)) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

std::unique_ptr<ContainerProgram> MakeProgram(ProgramContext ctx, const ProgramHost& host) {
  std::vector<std::string> argv = ctx.command;
  argv.insert(argv.end(), ctx.args.begin(), ctx.args.end());
  const std::string program = argv.empty() ? "" : Basename(argv[0]);
  if (program == "nvidia-smi") {
    ctx.args.assign(argv.begin() + 1, argv.end());
    return std::make_unique<SmiProgram>(std::move(ctx), host);
  }
  if (IsAgent(ctx)) return std::make_unique<AgentProgram>(std::move(ctx), host);
  if (program == "sleep" && argv.size() >= 2) {
    auto d = ParseRunTime(argv[1]);
    if (d) return std::make_unique<TimedProgram>(ctx, host.executor, Scaled(*d, ctx.time_scale), 0, "");
  }
  if (program == "echo") {
    std::string text;
    for (size_t i = 1; i < argv.size(); ++i) text += (i > 1 ? " " : "") + argv[i];
    return std::make_unique<TimedProgram>(ctx, host.executor, std::chrono::milliseconds(0), 0, text + "\n");
  }
  std::optional<std::chrono::milliseconds> run_for;
  int exit_code = 0;
  std::string output;
  if (auto it = ctx.annotations.find("sim.gpufleet.io/run-seconds"); it != ctx.annotations.end()) {
    run_for = ParseRunTime(it->second);
    if (!run_for) kLog.Warn("ignoring a run time that is not a duration", {{"pod", ctx.ns + "/" + ctx.pod}, {"value", it->second}});
    if (run_for) run_for = Scaled(*run_for, ctx.time_scale);
  }
  if (auto it = ctx.annotations.find("sim.gpufleet.io/exit-code"); it != ctx.annotations.end()) {
    exit_code = std::atoi(it->second.c_str());
  }
  if (auto it = ctx.annotations.find("sim.gpufleet.io/output"); it != ctx.annotations.end()) output = it->second + "\n";
  return std::make_unique<TimedProgram>(ctx, host.executor, run_for, exit_code, output);
}

}  // namespace gpufleet::sim
