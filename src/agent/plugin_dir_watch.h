// Watches the kubelet's device-plugins directory for what requires registering again:
//   - kubelet.sock created anew (the kubelet restarted; it also wipes the directory's sockets);
//   - one of the agent's own sockets removed.
// inotify first; a polling fallback (kubelet.sock's inode, the agent's sockets present) catches
// filesystems without inotify and the race where the kubelet reports ready before kubelet.sock
// exists (Bottlerocket #4250). Only stat and inotify: nothing is written to the directory.
#pragma once

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace gpufleet::agent {

class PluginDirWatcher {
 public:
  PluginDirWatcher(std::string dir, std::string kubelet_socket, std::chrono::milliseconds poll_interval);
  ~PluginDirWatcher();
  PluginDirWatcher(const PluginDirWatcher&) = delete;
  PluginDirWatcher& operator=(const PluginDirWatcher&) = delete;

  // Remembers the current kubelet.sock (inode and change time), as registered against, and forgets events
  // so far (the agent's own restart of its sockets).
  void Mark();
  // Blocks until a change that needs re-registration (returns why), `timeout` (returns ""), or
  // stop (returns nullopt).
  std::optional<std::string> Wait(const std::vector<std::string>& own_sockets, std::chrono::milliseconds timeout,
                                  std::stop_token stop);

  bool inotify_active() const { return fd_ >= 0; }

 private:
  std::string Check(const std::vector<std::string>& own_sockets) const;  // the polling test

  std::string dir_, kubelet_socket_;
  std::chrono::milliseconds poll_interval_;
  int fd_ = -1;
  unsigned long long kubelet_identity_ = 0;  // inode and change time
};

}  // namespace gpufleet::agent
