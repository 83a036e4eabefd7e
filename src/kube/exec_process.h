// RunProcess: runs a command without a shell (posix_spawn), collects stdout and stderr through
// pipes polled together (no deadlock however much either stream writes), and kills the whole
// process group at a deadline. Internal to the exec credential plugin (kube/exec_plugin.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gpufleet::kube {

struct ProcessSpec {
  // An executable path (absolute or relative to the working directory) when it contains '/';
  // otherwise a name looked up in `path_env` as Go's exec.LookPath does.
  std::string command;
  std::vector<std::string> args;  // argv[1..]
  std::vector<std::string> env;   // the child's whole environment, "NAME=value"
  std::string path_env;           // PATH used for the lookup (the parent's, as in Go)
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  std::size_t max_stdout = std::size_t{1} << 20;   // more is an error
  std::size_t max_stderr = std::size_t{64} << 10;  // more is dropped (the tail is kept)
};

struct ProcessResult {
  int exit_code = -1;  // -1 when the process was killed by a signal
  int signal = 0;      // the signal that killed it, else 0
  std::string stdout_data;
  std::string stderr_data;  // at most max_stderr bytes: the end of what was written
};

// The executable `command` names. Errors: kNotFound (no such file, or not found in path_env),
// kPermissionDenied (not an executable regular file).
Result<std::string> LookPath(std::string_view command, std::string_view path_env);

// Runs the command to completion with stdin from /dev/null, in its own process group.
// Errors: those of LookPath; kDeadlineExceeded when it (or a child still holding its output
// open) outlives `timeout`, after SIGKILL to the process group; kResourceExhausted when stdout
// exceeds max_stdout (the group is killed); kInternal when pipes or posix_spawn fail.
// A non-zero exit is not an error: see exit_code and signal. Thread-safe.
Result<ProcessResult> RunProcess(const ProcessSpec& spec);

}  // namespace gpufleet::kube
