// The watcher that triggers re-registration: kubelet.sock created anew and the agent's socket
// removed are noticed through inotify alone (the polling fallback is set to an hour here), and
// the agent's own restart of its sockets is not mistaken for either.
#include "agent/plugin_dir_watch.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace gpufleet::agent {
namespace {

class PluginDirWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/dp-watch-" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Touch("kubelet.sock");
    Touch("nvidia-gpu.sock");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Touch(const std::string& name) { std::ofstream(dir_ + "/" + name) << ""; }

  std::string dir_;
};

TEST_F(PluginDirWatcherTest, KubeletRestartIsSeenWithoutPolling) {
  PluginDirWatcher w(dir_, dir_ + "/kubelet.sock", std::chrono::hours(1));
  if (!w.inotify_active()) GTEST_SKIP() << "no inotify here; the polling fallback covers it";
  w.Mark();
  std::jthread restart([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::filesystem::remove(dir_ + "/kubelet.sock");
    Touch("kubelet.sock");
  });
  // The first poll happens at once (nothing has changed yet); after that only inotify can wake it.
  auto reason = w.Wait({"nvidia-gpu.sock"}, std::chrono::seconds(30), {});
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, "kubelet.sock was created anew");
}

TEST_F(PluginDirWatcherTest, OwnSocketRemovedIsSeen) {
  PluginDirWatcher w(dir_, dir_ + "/kubelet.sock", std::chrono::hours(1));
  if (!w.inotify_active()) GTEST_SKIP() << "no inotify here; the polling fallback covers it";
  w.Mark();
  std::jthread remove([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::filesystem::remove(dir_ + "/nvidia-gpu.sock");
  });
  auto reason = w.Wait({"nvidia-gpu.sock"}, std::chrono::seconds(30), {});
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, "socket nvidia-gpu.sock was removed");
}

TEST_F(PluginDirWatcherTest, OurOwnRestartIsNotNews) {
  PluginDirWatcher w(dir_, dir_ + "/kubelet.sock", std::chrono::milliseconds(20));
  std::filesystem::remove(dir_ + "/nvidia-gpu.sock");  // the agent restarts its server...
  Touch("nvidia-gpu.sock");
  w.Mark();  // ...then marks before registering
  auto reason = w.Wait({"nvidia-gpu.sock"}, std::chrono::milliseconds(200), {});
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, "");  // timed out: nothing to do
}

TEST_F(PluginDirWatcherTest, PollingFallbackSeesANewKubeletSocket) {
  PluginDirWatcher w(dir_, dir_ + "/kubelet.sock", std::chrono::milliseconds(20));
  w.Mark();
  std::filesystem::remove(dir_ + "/kubelet.sock");
  Touch("kubelet.sock");  // a new inode
  auto reason = w.Wait({"nvidia-gpu.sock"}, std::chrono::seconds(30), {});
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, "kubelet.sock was created anew");
}

TEST_F(PluginDirWatcherTest, StopEndsTheWait) {
  PluginDirWatcher w(dir_, dir_ + "/kubelet.sock", std::chrono::hours(1));
  w.Mark();
  std::stop_source stop;
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop.request_stop();
  });
  EXPECT_FALSE(w.Wait({"nvidia-gpu.sock"}, std::chrono::hours(1), stop.get_token()).has_value());
}

}  // namespace
}  // namespace gpufleet::agent
