#include "kube/exec_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace gpufleet::kube {
namespace {

using SteadyClock = std::chrono::steady_clock;

Status ErrnoError(std::string_view what, int err) {
  return InternalError(std::string(what) + ": " + std::strerror(err));
}

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

Status MakePipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  // O_CLOEXEC: a plugin spawned concurrently by another thread must not inherit these.
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe2", errno);
  read_end.Reset(fds[0]);
  write_end.Reset(fds[1]);
  return OkStatus();
}

// Executable regular file?
Status CheckExecutable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return NotFoundError(path + ": no such file");
    return PermissionDeniedError(path + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode) || ::access(path.c_str(), X_OK) != 0) {
    return PermissionDeniedError(path + ": not an executable file");
  }
  return OkStatus();
}

// Waits for `pid` until `deadline`. True with *status filled when it exited in time.
bool WaitUntil(pid_t pid, SteadyClock::time_point deadline, int* status) {
  while (true) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) {
      *status = 0;  // ECHILD: someone else reaped it (SIGCHLD ignored); treat as exit 0
      return true;
    }
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void KillGroup(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<std::string> LookPath(std::string_view command, std::string_view path_env) {
  if (command.empty()) return NotFoundError("empty command");
  if (command.find('/') != std::string_view::npos) {
    std::string path(command);
    GF_RETURN_IF_ERROR(CheckExecutable(path));
    return path;
  }
  std::string_view rest = path_env;
  while (true) {
    const size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (dir.empty()) dir = ".";  // an empty PATH entry is the working directory
    std::string candidate = dir + "/" + std::string(command);
    if (CheckExecutable(candidate).ok()) return candidate;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return NotFoundError("\"" + std::string(command) + "\": executable file not found in $PATH");
}

Result<ProcessResult> RunProcess(const ProcessSpec& spec) {
  GF_ASSIGN_OR_RETURN(std::string executable, LookPath(spec.command, spec.path_env));
  Fd out_read, out_write, err_read, err_write;
  GF_RETURN_IF_ERROR(MakePipe(out_read, out_write));
  GF_RETURN_IF_ERROR(MakePipe(err_read, err_write));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own process group (so a timeout kills the plugin's children too), default signal
  // dispositions and an empty mask, whatever this process has set up.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv;
  std::string argv0 = spec.command;
  std::vector<std::string> args = spec.args;
  std::vector<std::string> env = spec.env;
  argv.push_back(argv0.data());
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, executable.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    if (rc == ENOENT) return NotFoundError(executable + ": no such file");
    if (rc == EACCES || rc == ENOEXEC) {
      return PermissionDeniedError(executable + ": " + std::strerror(rc));
    }
    return ErrnoError("posix_spawn " + executable, rc);
  }
  out_write.Reset();
  err_write.Reset();

  const SteadyClock::time_point deadline = SteadyClock::now() + spec.timeout;
  ProcessResult result;
  bool out_open = true;
  bool err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      KillGroup(pid);
      return DeadlineExceededError("still running after " + std::to_string(spec.timeout.count()) +
                                   "ms; killed");
    }
    pollfd fds[2];
    nfds_t n = 0;
    if (out_open) fds[n++] = {out_read.get(), POLLIN, 0};
    if (err_open) fds[n++] = {err_read.get(), POLLIN, 0};
    const int ready = ::poll(fds, n, static_cast<int>(std::min<int64_t>(left.count() + 1, 1000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      KillGroup(pid);
      return ErrnoError("poll", err);
    }
    for (nfds_t i = 0; i < n; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const bool is_out = fds[i].fd == out_read.get();
      const ssize_t got = ::read(fds[i].fd, buf, sizeof(buf));
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) {
        (is_out ? out_open : err_open) = false;
        continue;
      }
      if (is_out) {
        result.stdout_data.append(buf, static_cast<size_t>(got));
        if (result.stdout_data.size() > spec.max_stdout) {
          KillGroup(pid);
          return ResourceExhaustedError("wrote more than " + std::to_string(spec.max_stdout) +
                                        " bytes to stdout; killed");
        }
      } else {
        result.stderr_data.append(buf, static_cast<size_t>(got));
        if (result.stderr_data.size() > spec.max_stderr) {
          result.stderr_data.erase(0, result.stderr_data.size() - spec.max_stderr);
        }
      }
    }
  }
  int status = 0;
  if (!WaitUntil(pid, deadline, &status)) {
    KillGroup(pid);
    return DeadlineExceededError("still running after " + std::to_string(spec.timeout.count()) +
                                 "ms; killed");
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace gpufleet::kube
