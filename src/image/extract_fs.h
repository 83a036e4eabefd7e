// Path and descriptor helpers for the layer extractor (image/extract.h): entry name cleaning, an
// owned descriptor, in-root resolution with openat2(2), and removers that never follow symlinks.
//
// Internal to src/image. The system-level functions (OpenInRoot, RemoveAllAt, PruneAt) return
// -errno / an errno value rather than a Status: the extractor branches on the errno and adds the
// entry's name to the message.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace gpufleet::image::extract_internal {

// An owned file descriptor; -1 when empty. Closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset(int fd = -1);
  // Gives up ownership: returns the descriptor and leaves this empty.
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// Opens `path` below the directory `root_fd` as if root_fd were "/" (RESOLVE_IN_ROOT): absolute
// symlinks restart at root_fd, ".." stops there, and magic links (/proc/self/fd/N) are refused.
// `path` is relative and '/'-separated; "" opens the root itself. O_CLOEXEC is always added.
// Whether the final component is followed is up to `flags` (O_NOFOLLOW). Returns the new fd or
// -errno (-ENOSYS on kernels before 5.6).
int OpenInRoot(int root_fd, const std::string& path, int flags);

// Removes `name` in the directory `dir_fd`, and if it is a directory everything below it. Never
// follows a symlink: a symlink is removed itself. A missing `name` is not an error. Returns 0 or
// an errno. Needs one descriptor per directory level.
int RemoveAllAt(int dir_fd, const char* name);

// Removes what is below the directory `dir_fd` except what `keep` (given each child's lstat)
// accepts. A directory that is not kept is pruned rather than removed whole: what is kept below
// it survives, and so does the directory itself in that case. Never follows symlinks. Sets
// *kept_any to whether anything below dir_fd survived. Returns 0 or an errno.
int PruneAt(int dir_fd, const std::function<bool(const struct stat&)>& keep, bool* kept_any);

// `name` (an entry's name or a hardlink's target) as a relative path inside the root: a leading
// "./", empty and "." components dropped, ".." applied lexically; "" is the root itself.
// InvalidArgument for a NUL byte, an absolute name or a ".." that would leave the root;
// ResourceExhausted over max_path_bytes. `what` names the field in messages ("name").
Result<std::string> CleanPath(std::string_view name, int64_t max_path_bytes,
                              const std::string& what);

// "a/b/c" -> {"a/b", "c"}; "c" -> {"", "c"}.
std::pair<std::string, std::string> SplitPath(const std::string& path);
// {"a/b", "c"} -> "a/b/c"; {"", "c"} -> "c".
std::string JoinPath(const std::string& dir, const std::string& name);

// Opens the directory `path` in the root like OpenInRoot, first creating what is missing of it,
// each level 0755 (whatever the umask) and reported to `created`. Returns the O_PATH descriptor
// (the caller owns it). FailedPrecondition where a level is a symlink to nothing in the root
// (such a target is not created); OS errors as ErrnoStatus.
Result<int> MakeDirsInRoot(int root_fd, const std::string& path,
                           const std::function<void(const struct stat&)>& created);

// Applies the PAX records "SCHILY.xattr.NAME" of `pax` with set(NAME, value), which returns 0 or
// -1 with errno (a setxattr call). ENOTSUP and EPERM (a namespace the file system or the caller
// refuses) are counted in *skipped; other errors are returned.
Status SetPaxXattrs(const std::vector<std::pair<std::string, std::string>>& pax,
                    const std::function<int(const char*, const std::string&)>& set,
                    int64_t* skipped);

// `s` in double quotes, for messages.
inline std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// A Status for a failed system call: the code follows the errno (ENOENT NotFound, EACCES/EPERM
// PermissionDenied, ENOSPC/EDQUOT/EMFILE/ENFILE/ENOMEM ResourceExhausted, ENOSYS Unimplemented,
// ELOOP InvalidArgument, otherwise FailedPrecondition); the message is "what: strerror".
Status ErrnoStatus(int err, std::string_view what);

}  // namespace gpufleet::image::extract_internal
