// Crash safety: `gpufleet controller` (the real binary) is killed with SIGKILL at every step of
// a launch and of a termination, 100 times in all, and restarted each time. Afterwards there
// must be no leaked instance (every instance belongs to a NodeClaim), no duplicate (no NodeClaim
// with two instances) and every pod must have a Ready node of its own.
//
// The kills come from GPUFLEET_CRASH_POINT (core/crash_point.h): the child SIGKILLs itself at the
// named step, so each step is hit deterministically instead of wherever a timer lands. The test
// plays the kubelet: it registers a Node (GPU allocatable, Ready) for every launched instance.
#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "provisioner/controller_fixture.h"

extern char** environ;

namespace gpufleet::provisioner {
namespace {

using testing::ControllerFixture;

// GPUFLEET_CRASH_KILLS overrides the count (for quick local runs).
int Kills() {
  const char* n = std::getenv("GPUFLEET_CRASH_KILLS");
  return n != nullptr ? std::atoi(n) : 100;
}
const std::vector<std::string> kCrashPoints = {
    "provision.after-nodeclaim-create", "launch.before-create",         "launch.after-create",
    "launch.after-labels",              "launch.after-status",          "register.after-node-patch",
    "initialize.after-node-label",      "terminate.after-drain",        "terminate.after-cloud-delete",
    "terminate.before-nodeclaim-finalizer"};

class CrashSafetyTest : public ControllerFixture {
 protected:
  // Starts `gpufleet controller` with `crash_point` armed (empty: none). Returns its pid.
  pid_t Spawn(const std::string& crash_point, const std::string& log_level = "info") {
    std::vector<std::string> args = {GPUFLEET_BINARY, "--log-level", log_level, "controller",
                                     "--kubeconfig", server_.server->kubeconfig_path(),
                                     "--aws-endpoint", emulator_->endpoint(), "--region", "us-west-2",
                                     "--cluster-name", "gpufleet", "--leader-elect=false",
                                     "--metrics-listen", "", "--health-listen", "",
                                     "--batch-idle-duration", "10ms", "--batch-max-duration", "100ms",
                                     "--instance-data", std::string(GPUFLEET_DATA_DIR) + "/aws-instance-types.json"};
    std::vector<std::string> env = {"AWS_ACCESS_KEY_ID=" + emulator_->access_key_id(),
                                    "AWS_SECRET_ACCESS_KEY=" + emulator_->secret_access_key(),
                                    "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null",
                                    "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "HOME=" + dir_,
                                    "PATH=/usr/bin:/bin"};
    if (!crash_point.empty()) env.push_back("GPUFLEET_CRASH_POINT=" + crash_point);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    // The child's log goes to DIR/controller.log (appended across restarts), shown on failure.
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    std::string log = dir_ + "/controller.log";
    posix_spawn_file_actions_addopen(&files, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, GPUFLEET_BINARY, &files, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&files);
    return pid;
  }

  // Waits up to `timeout` for the child; true when it died of SIGKILL by itself. A child that
  // never reached its crash point is killed here (still a kill -9, at whatever step it was).
  bool WaitForCrash(pid_t pid, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid, &status, WNOHANG) == pid) return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return false;
  }

  // The kubelet stand-in: a Node, Ready with its GPU, for every launched NodeClaim.
  void RegisterLaunchedNodes() {
    for (const auto& c : NodeClaims()) {
      if (c.status.provider_id.empty() || c.metadata.deletion_timestamp) continue;
      std::string id = c.status.provider_id.substr(c.status.provider_id.rfind('/') + 1);
      std::string name = "node-" + id;
      if (registered_.contains(name)) continue;
      if (!GetNode(name)) {
        nlohmann::json node = {{"apiVersion", "v1"}, {"kind", "Node"},
                               {"metadata", {{"name", name}}},
                               {"spec", {{"providerID", c.status.provider_id},
                                         {"taints", {{{"key", "karpenter.sh/unregistered"}, {"effect", "NoExecute"}}}}}}};
        if (!client_->Create(kube::Node::Resource(), "", node).ok()) continue;
      }
      SetNodeStatus(name, /*with_gpu=*/true);
      registered_.insert(name);
    }
  }

  static std::string ReadLogTail(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    // Collapse runs of lines that differ only in their timestamp (a hot retry loop would
    // otherwise fill the tail).
    std::string all, line, last;
    size_t repeats = 0;
    auto body = [](const std::string& l) { return l.size() > 25 ? l.substr(25) : l; };
    while (std::getline(text, line)) {
      if (!last.empty() && body(line) == body(last)) {
        ++repeats;
        continue;
      }
      if (repeats > 0) all += "  (the line above " + std::to_string(repeats) + " more times)\n";
      repeats = 0;
      all += line + "\n";
      last = line;
    }
    if (repeats > 0) all += "  (the line above " + std::to_string(repeats) + " more times)\n";
    return all.size() > 20000 ? all.substr(all.size() - 20000) : all;
  }

  std::set<std::string> registered_;
};

TEST_F(CrashSafetyTest, KilledAtEveryStepNeverLeaksOrDuplicatesAndPlacesEveryPod) {
  ApplyFile("deploy/examples/seed/ec2nodeclass.yaml");
  ApplyFile("deploy/examples/seed/nodepool.yaml");
  // No limit for this test: every pod gets its own g6e.2xlarge (2 from the ODCR, then on-demand).
  ASSERT_TRUE(client_->Patch(kube::NodePool::Resource(), "", "gpu", kube::PatchType::kMerge,
                             {{"spec", {{"limits", nullptr}}}}).ok());

  std::atomic<bool> stop_kubelet{false};
  std::jthread kubelet([&] {
    while (!stop_kubelet) {
      RegisterLaunchedNodes();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  std::map<std::string, int> hits;
  std::set<std::string> pods;
  int next_pod = 0, deleted = 0;
  const int kills = Kills();
  for (int round = 0; round < kills; ++round) {
    const std::string& point = kCrashPoints[round % kCrashPoints.size()];
    if (point.starts_with("terminate.")) {
      // Scale in: delete a pod and a launched NodeClaim (the controller must terminate its
      // instance even when killed mid-way).
      for (const auto& c : NodeClaims()) {
        if (c.status.provider_id.empty() || c.metadata.deletion_timestamp || pods.empty()) continue;
        std::string pod = *pods.begin();
        ASSERT_TRUE(client_->Delete(kube::Pod::Resource(), "default", pod, {.grace_period_seconds = 0}).ok());
        pods.erase(pod);
        ASSERT_TRUE(kube::TypedClient<kube::NodeClaim>(*client_).Delete("", c.metadata.name).ok());
        ++deleted;
        break;
      }
    } else {
      std::string pod = "gpu-" + std::to_string(next_pod++);
      Apply(GpuPod(pod));
      pods.insert(pod);
    }
    pid_t pid = Spawn(point);
    auto began = std::chrono::steady_clock::now();
    bool hit = WaitForCrash(pid, std::chrono::seconds(20));
    if (hit) ++hits[point];
    std::fprintf(stderr, "round %d %s: %s after %lld ms\n", round, point.c_str(), hit ? "crashed" : "killed",
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - began).count()));
  }
  for (const auto& point : kCrashPoints) {
    if (kills < static_cast<int>(kCrashPoints.size()) * 2) break;  // a short local run
    EXPECT_GT(hits[point], 0) << "crash point " << point << " was never reached";
  }

  // A last, undisturbed run settles everything.
  pid_t pid = Spawn("", "info");
  bool settled = Eventually(
      [&] {
        auto claims = NodeClaims();
        size_t ready = 0;
        for (const auto& c : claims) ready += c.Ready() && !c.metadata.deletion_timestamp;
        return ready == pods.size() && claims.size() == pods.size() && Instances().size() == pods.size();
      },
      std::chrono::seconds(120));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  stop_kubelet = true;
  kubelet.join();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "SIGTERM must shut down cleanly";

  auto claims = NodeClaims();
  auto instances = Instances();
  if (!settled) {
    // What the next engineer needs from a failure: each unsettled NodeClaim's conditions, and
    // the controller's log with runs of repeated warnings collapsed.
    for (const auto& c : claims) {
      if (c.Ready()) continue;
      std::fprintf(stderr, "unsettled NodeClaim %s (providerID %s, deleting %d):\n", c.metadata.name.c_str(),
                   c.status.provider_id.c_str(), c.metadata.deletion_timestamp.has_value() ? 1 : 0);
      for (const auto& cond : c.status.conditions) {
        std::fprintf(stderr, "  %s=%s %s: %s\n", std::string(cond.type).c_str(), std::string(cond.status).c_str(),
                     std::string(cond.reason).c_str(), std::string(cond.message).c_str());
      }
    }
    std::fprintf(stderr, "%s\n", ReadLogTail(dir_ + "/controller.log").c_str());
  }
  ASSERT_TRUE(settled) << pods.size() << " pods, " << claims.size() << " NodeClaims, " << instances.size()
                       << " instances";
  std::set<std::string> claim_names;
  for (const auto& c : claims) claim_names.insert(c.metadata.name);
  std::map<std::string, int> per_claim;
  for (const auto& m : instances) ++per_claim[m.nodeclaim];
  for (const auto& [claim, n] : per_claim) {
    EXPECT_TRUE(claim_names.contains(claim)) << "leaked instance of NodeClaim " << claim;
    EXPECT_EQ(n, 1) << "NodeClaim " << claim << " has " << n << " instances";
  }
  EXPECT_GT(deleted, 0);
  RecordProperty("kills", kills);
}

}  // namespace
}  // namespace gpufleet::provisioner
