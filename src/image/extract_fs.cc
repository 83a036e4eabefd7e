#include "image/extract_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace gpufleet::image::extract_internal {

void Fd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

int OpenInRoot(int root_fd, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const char* p = path.empty() ? "." : path.c_str();
  // EAGAIN: a rename elsewhere raced the in-root walk (the kernel refuses rather than risk an
  // escape); a few retries, as nothing else should be changing the tree.
  for (int attempt = 0;; ++attempt) {
    const long fd = ::syscall(SYS_openat2, root_fd, p, &how, sizeof(how));
    if (fd >= 0) return static_cast<int>(fd);
    if ((errno != EINTR && errno != EAGAIN) || attempt >= 16) return -errno;
  }
}

namespace {

// The names in the directory `dir_fd` (an O_PATH descriptor will do), "." and ".." left out.
int ListNames(int dir_fd, std::vector<std::string>* names) {
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    ::close(fd);
    return err;
  }
  errno = 0;
  while (const struct dirent* d = ::readdir(dir)) {
    if (std::strcmp(d->d_name, ".") != 0 && std::strcmp(d->d_name, "..") != 0) {
      names->emplace_back(d->d_name);
    }
    errno = 0;
  }
  const int err = errno;
  ::closedir(dir);
  return err;
}

}  // namespace

int PruneAt(int dir_fd, const std::function<bool(const struct stat&)>& keep, bool* kept_any) {
  *kept_any = false;
  // Names first, removals after: readdir's view of a directory changing under it is unspecified.
  std::vector<std::string> names;
  if (int err = ListNames(dir_fd, &names); err != 0) return err;
  for (const std::string& name : names) {
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return errno;
    }
    const bool kept = keep(st);
    if (!S_ISDIR(st.st_mode)) {
      if (kept) {
        *kept_any = true;
      } else if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
        return errno;
      }
      continue;
    }
    Fd child(::openat(dir_fd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child.valid()) return errno;
    bool kept_below = false;
    if (int err = PruneAt(child.get(), keep, &kept_below); err != 0) return err;
    if (kept || kept_below) {
      *kept_any = true;
    } else if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return errno;
    }
  }
  return 0;
}

int RemoveAllAt(int dir_fd, const char* name) {
  if (::unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT) return 0;
  if (errno != EISDIR) return errno;  // Linux answers EISDIR for a directory (and only then)
  Fd child(::openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!child.valid()) return errno == ENOENT ? 0 : errno;
  bool kept_any = false;
  if (int err = PruneAt(
          child.get(), [](const struct stat&) { return false; }, &kept_any);
      err != 0) {
    return err;
  }
  if (::unlinkat(dir_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) return errno;
  return 0;
}

Result<std::string> CleanPath(std::string_view name, int64_t max_path_bytes,
                              const std::string& what) {
  if (name.find('\0') != std::string_view::npos) {
    return InvalidArgumentError(what + " contains a NUL byte");
  }
  if (static_cast<int64_t>(name.size()) > max_path_bytes) {
    return ResourceExhaustedError(what + " is " + std::to_string(name.size()) +
                                  " bytes, over max_path_bytes=" + std::to_string(max_path_bytes));
  }
  if (name.starts_with('/')) return InvalidArgumentError(what + " " + Quote(name) + " is absolute");
  std::vector<std::string_view> parts;
  for (std::string_view rest = name; !rest.empty();) {
    const size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (part != "..") {
      parts.push_back(part);
    } else if (parts.empty()) {
      return InvalidArgumentError(what + " " + Quote(name) + " leaves the destination");
    } else {
      parts.pop_back();
    }
  }
  std::string path;
  for (std::string_view part : parts) {
    if (!path.empty()) path += '/';
    path += part;
  }
  return path;
}

std::pair<std::string, std::string> SplitPath(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

Result<int> MakeDirsInRoot(int root_fd, const std::string& path,
                           const std::function<void(const struct stat&)>& created) {
  Fd dir;  // the prefix resolved so far; root_fd at first
  for (size_t at = 0;;) {
    const size_t slash = path.find('/', at);
    const std::string prefix = path.substr(0, slash);
    const std::string name =
        path.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
    const int dir_fd = dir.valid() ? dir.get() : root_fd;
    Fd next(OpenInRoot(root_fd, prefix, O_PATH | O_DIRECTORY));
    if (next.get() == -ENOENT) {
      if (::mkdirat(dir_fd, name.c_str(), 0755) != 0) {
        if (errno == EEXIST) {
          return FailedPreconditionError("parent " + Quote(prefix) +
                                         " is a symlink whose target does not exist");
        }
        return ErrnoStatus(errno, "create parent directory " + Quote(prefix));
      }
      struct stat st;
      if (::fchmodat(dir_fd, name.c_str(), 0755, 0) != 0 ||  // whatever the umask
          ::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return ErrnoStatus(errno, "create parent directory " + Quote(prefix));
      }
      created(st);
      next = Fd(OpenInRoot(root_fd, prefix, O_PATH | O_DIRECTORY));
    }
    if (!next.valid()) return ErrnoStatus(-next.get(), "parent directory " + Quote(prefix));
    if (slash == std::string::npos) return next.Release();
    dir = std::move(next);
    at = slash + 1;
  }
}

Status SetPaxXattrs(const std::vector<std::pair<std::string, std::string>>& pax,
                    const std::function<int(const char*, const std::string&)>& set,
                    int64_t* skipped) {
  constexpr std::string_view kPrefix = "SCHILY.xattr.";
  for (const auto& [key, value] : pax) {
    if (!key.starts_with(kPrefix)) continue;
    const std::string name = key.substr(kPrefix.size());
    if (set(name.c_str(), value) == 0) continue;
    if (errno != ENOTSUP && errno != EPERM) return ErrnoStatus(errno, "set xattr " + Quote(name));
    ++*skipped;
  }
  return OkStatus();
}

Status ErrnoStatus(int err, std::string_view what) {
  const std::string msg = std::string(what) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return NotFoundError(msg);
    case EACCES:
    case EPERM:
      return PermissionDeniedError(msg);
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return ResourceExhaustedError(msg);
    case ENOSYS:
      return UnimplementedError(msg);
    case ELOOP:
      return InvalidArgumentError(msg);
    default:
      return FailedPreconditionError(msg);
  }
}

}  // namespace gpufleet::image::extract_internal
