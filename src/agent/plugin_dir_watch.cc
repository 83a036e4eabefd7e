#include "agent/plugin_dir_watch.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "core/log.h"

namespace gpufleet::agent {
namespace {

const core::log::Logger kLog("agent.watch");

// Which file is at `path`: inode and change time (an inode number alone can be reused by a file
// created right after the old one was removed). 0 when there is none.
unsigned long long IdentityOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  const unsigned long long ctime_ns =
      static_cast<unsigned long long>(st.st_ctim.tv_sec) * 1000000000ull + static_cast<unsigned long long>(st.st_ctim.tv_nsec);
  return (static_cast<unsigned long long>(st.st_ino) * 0x9E3779B97F4A7C15ull) ^ ctime_ns ^ 1;
}

}  // namespace

PluginDirWatcher::PluginDirWatcher(std::string dir, std::string kubelet_socket, std::chrono::milliseconds poll_interval)
    : dir_(std::move(dir)), kubelet_socket_(std::move(kubelet_socket)), poll_interval_(poll_interval) {
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ >= 0 && inotify_add_watch(fd_, dir_.c_str(), IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM) < 0) {
    kLog.Warn("inotify unavailable on the device-plugins directory; polling only", {{"dir", dir_}});
    ::close(fd_);
    fd_ = -1;
  }
}

PluginDirWatcher::~PluginDirWatcher() {
  if (fd_ >= 0) ::close(fd_);
}

void PluginDirWatcher::Mark() {
  kubelet_identity_ = IdentityOf(kubelet_socket_);
  // Our own restart removed and re-created our sockets: those events are not news.
  if (fd_ >= 0) {
    alignas(inotify_event) char buf[4096];
    while (::read(fd_, buf, sizeof(buf)) > 0) {
    }
  }
}

std::string PluginDirWatcher::Check(const std::vector<std::string>& own_sockets) const {
  const unsigned long long inode = IdentityOf(kubelet_socket_);
  if (inode != 0 && inode != kubelet_identity_) return "kubelet.sock was created anew";
  for (const auto& s : own_sockets) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::path(dir_) / s, ec)) return "socket " + s + " was removed";
  }
  return "";
}

std::optional<std::string> PluginDirWatcher::Wait(const std::vector<std::string>& own_sockets,
                                                  std::chrono::milliseconds timeout, std::stop_token stop) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto next_poll = std::chrono::steady_clock::now();
  const std::string kubelet_name = std::filesystem::path(kubelet_socket_).filename().string();
  while (!stop.stop_requested()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_poll) {
      std::string reason = Check(own_sockets);
      if (!reason.empty()) return reason;
      next_poll = now + poll_interval_;
    }
    if (now >= deadline) return std::string();
    // Wake at least every 100 ms to notice stop.
    const auto until = std::min({deadline, next_poll, now + std::chrono::milliseconds(100)});
    const int wait_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count());
    if (fd_ < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::max(wait_ms, 1)));
      continue;
    }
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, std::max(wait_ms, 1)) <= 0) continue;
    alignas(inotify_event) char buf[4096];
    ssize_t n;
    std::string reason;
    while ((n = ::read(fd_, buf, sizeof(buf))) > 0) {
      for (ssize_t off = 0; off < n;) {
        const auto* e = reinterpret_cast<const inotify_event*>(buf + off);
        const std::string name = e->len > 0 ? std::string(e->name) : "";
        if (name == kubelet_name && (e->mask & (IN_CREATE | IN_MOVED_TO)) && reason.empty()) {
          reason = "kubelet.sock was created anew";
        } else if ((e->mask & (IN_DELETE | IN_MOVED_FROM)) &&
                   std::find(own_sockets.begin(), own_sockets.end(), name) != own_sockets.end() && reason.empty()) {
          reason = "socket " + name + " was removed";
        }
        off += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
      }
    }
    if (!reason.empty()) return reason;
  }
  return std::nullopt;
}

}  // namespace gpufleet::agent
