#include "image/extract.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "image/extract_fs.h"

namespace gpufleet::image {
namespace {

using extract_internal::CleanPath;
using extract_internal::ErrnoStatus;
using extract_internal::Fd;
using extract_internal::JoinPath;
using extract_internal::OpenInRoot;
using extract_internal::Quote;
using extract_internal::SplitPath;

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

struct InodeHash {
  size_t operator()(const std::pair<dev_t, ino_t>& k) const {
    return std::hash<uint64_t>()(static_cast<uint64_t>(k.second) * 0x9E3779B97F4A7C15ull ^
                                 static_cast<uint64_t>(k.first));
  }
};

}  // namespace

struct LayerExtractor::State {
  Fd root;  // O_PATH descriptor of the destination
  ExtractOptions options;
  ExtractStats stats;
  Status error;  // the first error; sticky

  // The regular file receiving data.
  Fd file;
  TarEntry file_entry;
  int64_t file_left = 0;

  // The last parent directory resolved (O_PATH). Stale after anything is removed: a removal is the
  // only way a path that resolved to a directory can come to resolve elsewhere.
  Fd parent;
  std::string parent_path;
  bool parent_valid = false;

  // Directory mode and mtime, applied in Finish once no child can change them, by cleaned path.
  struct DirMeta {
    mode_t mode;
    struct timespec mtime;
  };
  std::map<std::string, DirMeta> dirs;
  // What this layer created (kApply), by inode: what an opaque marker keeps. By inode rather than
  // by name, so that names reached through a symlinked parent count too.
  std::unordered_set<std::pair<dev_t, ino_t>, InodeHash> layer_inodes;

  mode_t Perm(const TarEntry& e) const {
    return static_cast<mode_t>(e.mode) & (options.same_owner ? 07777 : 0777);
  }
  static struct timespec Mtime(const TarEntry& e) {
    return {static_cast<time_t>(e.mtime_sec), static_cast<long>(e.mtime_nsec)};
  }
  void Record(const struct stat& st) {
    if (options.whiteouts == WhiteoutMode::kApply) layer_inodes.insert({st.st_dev, st.st_ino});
  }

  // Something at `path` was removed: forget the cached parent and the deferred metadata of any
  // directory that was at or below it.
  void Forget(const std::string& path) {
    parent_valid = false;
    for (auto it = dirs.lower_bound(path); it != dirs.end() && it->first.starts_with(path);) {
      const bool below = it->first.size() == path.size() || it->first[path.size()] == '/';
      it = below ? dirs.erase(it) : std::next(it);
    }
  }

  Status Entry(const TarEntry& e);
  Status Whiteout(const std::string& dir, const std::string& base);
  Result<int> Parent(const std::string& path);
  Status ClearFinal(int pfd, const std::string& base, const std::string& path, bool keep_dir,
                    bool* kept_dir);
  Status MakeDirectory(const TarEntry& e, int pfd, const std::string& base,
                       const std::string& path);
  Status MakeFile(const TarEntry& e, int pfd, const std::string& base, const std::string& path);
  Status MakeHardLink(const TarEntry& e, int pfd, const std::string& base, const std::string& path);
  Status MakeNode(const TarEntry& e, int pfd, const std::string& base, const std::string& path);
  // Applies the entry's SCHILY.xattr.* records with `set` (a setxattr on the right file).
  Status SetXattrs(const TarEntry& e,
                   const std::function<int(const char*, const std::string&)>& set) {
    if (!options.xattrs) return OkStatus();
    return extract_internal::SetPaxXattrs(e.pax, set, &stats.skipped_xattrs);
  }
  Status CloseFile();
  Status ApplyDirectories();
};

Status LayerExtractor::State::Entry(const TarEntry& e) {
  if (++stats.entries > options.limits.max_entries) {
    return ResourceExhaustedError(
        "more than max_entries=" + std::to_string(options.limits.max_entries) + " entries");
  }
  GF_ASSIGN_OR_RETURN(const std::string path,
                      CleanPath(e.name, options.limits.max_path_bytes, "name"));
  if (path.empty()) {
    if (e.type == TarType::kDirectory) return OkStatus();  // the root keeps its own metadata
    return InvalidArgumentError("the root can only be a directory");
  }
  const auto [dir, base] = SplitPath(path);
  if (base.starts_with(kWhiteoutPrefix)) return Whiteout(dir, base);
  if (e.type == TarType::kRegular && e.size > options.limits.max_total_bytes - stats.bytes) {
    return ResourceExhaustedError(
        "a file of " + std::to_string(e.size) + " bytes after " + std::to_string(stats.bytes) +
        " exceeds max_total_bytes=" + std::to_string(options.limits.max_total_bytes));
  }
  if ((e.type == TarType::kChar || e.type == TarType::kBlock) && !options.devices) {
    ++stats.skipped_devices;
    return OkStatus();
  }
  GF_ASSIGN_OR_RETURN(const int pfd, Parent(dir));
  switch (e.type) {
    case TarType::kDirectory:
      return MakeDirectory(e, pfd, base, path);
    case TarType::kRegular:
      return MakeFile(e, pfd, base, path);
    case TarType::kHardLink:
      return MakeHardLink(e, pfd, base, path);
    default:
      return MakeNode(e, pfd, base, path);
  }
}

Status LayerExtractor::State::Whiteout(const std::string& dir, const std::string& base) {
  const bool opaque = base == kOpaqueMarker;
  const std::string name = base.substr(kWhiteoutPrefix.size());
  if (!opaque && (name.empty() || name == "." || name == "..")) {
    return InvalidArgumentError("whiteout " + Quote(base) + " names no entry");
  }
  if (options.whiteouts == WhiteoutMode::kOverlay) {
    GF_ASSIGN_OR_RETURN(const int pfd, Parent(dir));
    if (opaque) {
      const char* key =
          options.overlay_userxattr ? "user.overlay.opaque" : "trusted.overlay.opaque";
      Fd fd(::openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!fd.valid() || ::fsetxattr(fd.get(), key, "y", 1, 0) != 0) {
        return ErrnoStatus(errno, std::string("set ") + key);
      }
      return OkStatus();
    }
    GF_RETURN_IF_ERROR(ClearFinal(pfd, name, JoinPath(dir, name), false, nullptr));
    if (::mknodat(pfd, name.c_str(), S_IFCHR, makedev(0, 0)) != 0) {
      return ErrnoStatus(errno, "create the whiteout device " + Quote(name));
    }
    return OkStatus();
  }
  // kApply: nothing to remove where the directory is not there.
  Fd fd(OpenInRoot(root.get(), dir, O_PATH | O_DIRECTORY));
  if (!fd.valid()) {
    if (fd.get() == -ENOENT || fd.get() == -ENOTDIR) return OkStatus();
    return ErrnoStatus(-fd.get(), "whiteout directory " + Quote(dir));
  }
  parent_valid = false;
  if (opaque) {
    bool kept_any = false;
    const int err = extract_internal::PruneAt(
        fd.get(),
        [this](const struct stat& st) {
          return layer_inodes.contains({st.st_dev, st.st_ino});
        },
        &kept_any);
    return err == 0 ? OkStatus() : ErrnoStatus(err, "empty opaque directory " + Quote(dir));
  }
  const std::string target = JoinPath(dir, name);
  if (int err = extract_internal::RemoveAllAt(fd.get(), name.c_str()); err != 0) {
    return ErrnoStatus(err, "remove " + Quote(target));
  }
  Forget(target);
  return OkStatus();
}

// The directory `path`, resolved in the root, created (with its missing parents) if missing.
// The descriptor stays owned by the cache: valid until the next call.
Result<int> LayerExtractor::State::Parent(const std::string& path) {
  if (parent_valid && parent_path == path) return parent.get();
  int fd = OpenInRoot(root.get(), path, O_PATH | O_DIRECTORY);
  if (fd == -ENOENT) {
    GF_ASSIGN_OR_RETURN(fd, extract_internal::MakeDirsInRoot(
                                root.get(), path, [this](const struct stat& st) { Record(st); }));
  }
  if (fd < 0) return ErrnoStatus(-fd, "parent directory " + Quote(path));
  parent = Fd(fd);
  parent_path = path;
  parent_valid = true;
  return fd;
}

// Makes room for a new entry `base` in `pfd`: removes what is there, unless it is a directory and
// `keep_dir` (then *kept_dir is set).
Status LayerExtractor::State::ClearFinal(int pfd, const std::string& base, const std::string& path,
                                         bool keep_dir, bool* kept_dir) {
  if (kept_dir != nullptr) *kept_dir = false;
  struct stat st;
  if (::fstatat(pfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? OkStatus() : ErrnoStatus(errno, "lstat");
  }
  if (keep_dir && S_ISDIR(st.st_mode)) {
    *kept_dir = true;
    return OkStatus();
  }
  if (int err = extract_internal::RemoveAllAt(pfd, base.c_str()); err != 0) {
    return ErrnoStatus(err, "remove the existing entry");
  }
  Forget(path);
  return OkStatus();
}

Status LayerExtractor::State::MakeDirectory(const TarEntry& e, int pfd, const std::string& base,
                                            const std::string& path) {
  bool exists = false;
  GF_RETURN_IF_ERROR(ClearFinal(pfd, base, path, true, &exists));
  // 0700 until Finish, so that a read-only mode does not stop its children from being written.
  if (!exists && ::mkdirat(pfd, base.c_str(), 0700) != 0) return ErrnoStatus(errno, "mkdir");
  Fd fd(::openat(pfd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "open the directory");
  Record(st);
  if (options.same_owner &&
      ::fchown(fd.get(), static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)) != 0) {
    return ErrnoStatus(errno, "chown");
  }
  GF_RETURN_IF_ERROR(SetXattrs(e, [&fd](const char* name, const std::string& value) {
    return ::fsetxattr(fd.get(), name, value.data(), value.size(), 0);
  }));
  dirs[path] = DirMeta{Perm(e), Mtime(e)};
  return OkStatus();
}

Status LayerExtractor::State::MakeFile(const TarEntry& e, int pfd, const std::string& base,
                                       const std::string& path) {
  GF_RETURN_IF_ERROR(ClearFinal(pfd, base, path, false, nullptr));
  Fd fd(::openat(pfd, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  struct stat st;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "create");
  Record(st);
  ++stats.files;
  file = std::move(fd);
  file_entry = e;
  file_left = e.size;
  return file_left == 0 ? CloseFile() : OkStatus();
}

// Owner, mode, xattrs and then times of the file being written, once it is complete. The order
// matters: chown clears setuid bits and security.capability, writes clear the capability too.
Status LayerExtractor::State::CloseFile() {
  if (!file.valid()) return OkStatus();
  const TarEntry& e = file_entry;
  const int fd = file.get();
  Status s;
  if (file_left > 0) {
    s = DataLossError("the data ended " + std::to_string(file_left) + " bytes short of its size " +
                      std::to_string(e.size));
  } else if (options.same_owner &&
             ::fchown(fd, static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)) != 0) {
    s = ErrnoStatus(errno, "chown");
  } else if (::fchmod(fd, Perm(e)) != 0) {
    s = ErrnoStatus(errno, "chmod");
  } else {
    s = SetXattrs(e, [fd](const char* name, const std::string& value) {
      return ::fsetxattr(fd, name, value.data(), value.size(), 0);
    });
    const struct timespec times[2] = {Mtime(e), Mtime(e)};
    if (s.ok() && ::futimens(fd, times) != 0) s = ErrnoStatus(errno, "set times");
  }
  if (::close(file.Release()) != 0 && errno != EINTR && s.ok()) s = ErrnoStatus(errno, "close");
  return s.WithContext("layer entry " + Quote(e.name));
}

Status LayerExtractor::State::MakeHardLink(const TarEntry& e, int pfd, const std::string& base,
                                           const std::string& path) {
  GF_ASSIGN_OR_RETURN(const std::string target,
                      CleanPath(e.linkname, options.limits.max_path_bytes, "hardlink target"));
  if (target.empty()) return InvalidArgumentError("hardlink target is the root directory");
  const auto [tdir, tbase] = SplitPath(target);
  Fd tparent(OpenInRoot(root.get(), tdir, O_PATH | O_DIRECTORY));
  struct stat st;
  if (!tparent.valid()) return ErrnoStatus(-tparent.get(), "hardlink target " + Quote(e.linkname));
  if (::fstatat(tparent.get(), tbase.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus(errno, "hardlink target " + Quote(e.linkname));
  }
  if (S_ISDIR(st.st_mode)) {
    return InvalidArgumentError("hardlink target " + Quote(e.linkname) + " is a directory");
  }
  struct stat here;
  if (::fstatat(pfd, base.c_str(), &here, AT_SYMLINK_NOFOLLOW) == 0 && here.st_dev == st.st_dev &&
      here.st_ino == st.st_ino) {
    return OkStatus();  // already that file (a link to itself, or applied twice)
  }
  GF_RETURN_IF_ERROR(ClearFinal(pfd, base, path, false, nullptr));
  // Flags 0: a symlink target is linked itself, never followed.
  if (::linkat(tparent.get(), tbase.c_str(), pfd, base.c_str(), 0) != 0) {
    return ErrnoStatus(errno, "link to " + Quote(e.linkname));
  }
  Record(st);
  return OkStatus();
}

// Symlinks, devices and fifos.
Status LayerExtractor::State::MakeNode(const TarEntry& e, int pfd, const std::string& base,
                                       const std::string& path) {
  const bool symlink = e.type == TarType::kSymlink;
  if (symlink) {
    if (e.linkname.empty() || e.linkname.find('\0') != std::string::npos) {
      return InvalidArgumentError("symlink target " + Quote(e.linkname) + " is empty or has a NUL");
    }
    if (static_cast<int64_t>(e.linkname.size()) > options.limits.max_path_bytes) {
      return ResourceExhaustedError(
          "symlink target is " + std::to_string(e.linkname.size()) +
          " bytes, over max_path_bytes=" + std::to_string(options.limits.max_path_bytes));
    }
  }
  GF_RETURN_IF_ERROR(ClearFinal(pfd, base, path, false, nullptr));
  const char* name = base.c_str();
  if (symlink) {
    if (::symlinkat(e.linkname.c_str(), pfd, name) != 0) return ErrnoStatus(errno, "symlink");
  } else {
    const mode_t type = e.type == TarType::kChar    ? S_IFCHR
                        : e.type == TarType::kBlock ? S_IFBLK
                                                    : S_IFIFO;
    const dev_t dev = type == S_IFIFO ? 0
                                      : makedev(static_cast<unsigned>(e.devmajor),
                                                static_cast<unsigned>(e.devminor));
    if (::mknodat(pfd, name, type | 0600, dev) != 0) return ErrnoStatus(errno, "mknod");
  }
  struct stat st;
  if (::fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return ErrnoStatus(errno, "lstat");
  Record(st);
  if (options.same_owner && ::fchownat(pfd, name, static_cast<uid_t>(e.uid),
                                       static_cast<gid_t>(e.gid), AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus(errno, "chown");
  }
  // Not a symlink (just made, nothing else writes here), so following the name is harmless.
  if (!symlink && ::fchmodat(pfd, name, Perm(e), 0) != 0) return ErrnoStatus(errno, "chmod");
  // No fd-based call sets an xattr on a symlink or device: the parent's /proc link, then the name
  // itself, not followed.
  const std::string at = "/proc/self/fd/" + std::to_string(pfd) + "/" + base;
  GF_RETURN_IF_ERROR(SetXattrs(e, [&at](const char* key, const std::string& value) {
    return ::lsetxattr(at.c_str(), key, value.data(), value.size(), 0);
  }));
  const struct timespec times[2] = {Mtime(e), Mtime(e)};
  if (::utimensat(pfd, name, times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus(errno, "set times");
  }
  return OkStatus();
}

// Deepest first, so that setting a directory's times is the last change inside its parent.
Status LayerExtractor::State::ApplyDirectories() {
  std::vector<const std::pair<const std::string, DirMeta>*> order;
  order.reserve(dirs.size());
  for (const auto& d : dirs) order.push_back(&d);
  auto depth = [](const std::string& p) { return std::count(p.begin(), p.end(), '/'); };
  std::stable_sort(order.begin(), order.end(),
                   [&](auto* a, auto* b) { return depth(a->first) > depth(b->first); });
  for (const auto* d : order) {
    Fd fd(OpenInRoot(root.get(), d->first, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    if (!fd.valid()) {
      const int err = -fd.get();
      if (err == ENOENT || err == ENOTDIR || err == ELOOP) continue;  // replaced later in the layer
      return ErrnoStatus(err, "open").WithContext("layer entry " + Quote(d->first + "/"));
    }
    const struct timespec times[2] = {d->second.mtime, d->second.mtime};
    if (::fchmod(fd.get(), d->second.mode) != 0 || ::futimens(fd.get(), times) != 0) {
      return ErrnoStatus(errno, "set mode and times")
          .WithContext("layer entry " + Quote(d->first + "/"));
    }
  }
  return OkStatus();
}

LayerExtractor::LayerExtractor(std::unique_ptr<State> state) : s_(std::move(state)) {}
LayerExtractor::~LayerExtractor() = default;

Result<std::unique_ptr<LayerExtractor>> LayerExtractor::Open(const std::string& dest,
                                                             ExtractOptions options) {
  Fd root(::open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return ErrnoStatus(errno, "extract destination " + Quote(dest));
  Fd probe(OpenInRoot(root.get(), "", O_PATH | O_DIRECTORY));
  if (!probe.valid()) {
    return ErrnoStatus(-probe.get(), "openat2 in " + Quote(dest) + " (needs Linux 5.6)");
  }
  auto state = std::make_unique<State>();
  state->root = std::move(root);
  state->options = std::move(options);
  return std::unique_ptr<LayerExtractor>(new LayerExtractor(std::move(state)));
}

Status LayerExtractor::OnEntry(const TarEntry& entry) {
  if (!s_->error.ok()) return s_->error;
  Status s = s_->CloseFile();
  if (s.ok()) s = s_->Entry(entry).WithContext("layer entry " + Quote(entry.name));
  if (!s.ok()) s_->error = s;
  return s;
}

Status LayerExtractor::OnData(const TarEntry& entry, std::string_view data) {
  if (!s_->error.ok()) return s_->error;
  if (!s_->file.valid()) return OkStatus();  // an entry that writes nothing
  Status s;
  if (static_cast<int64_t>(data.size()) > s_->file_left) {
    s = InvalidArgumentError("more data than its size " + std::to_string(entry.size))
            .WithContext("layer entry " + Quote(entry.name));
  }
  while (s.ok() && !data.empty()) {
    const ssize_t n = ::write(s_->file.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = ErrnoStatus(errno, "write").WithContext("layer entry " + Quote(entry.name));
      break;
    }
    data.remove_prefix(static_cast<size_t>(n));
    s_->file_left -= n;
    s_->stats.bytes += n;
  }
  if (s.ok() && s_->file_left == 0) s = s_->CloseFile();
  if (!s.ok()) s_->error = s;
  return s;
}

Status LayerExtractor::Finish() {
  if (!s_->error.ok()) return s_->error;
  Status s = s_->CloseFile();
  if (s.ok()) s = s_->ApplyDirectories();
  if (!s.ok()) s_->error = s;
  return s;
}

TarReader::Callbacks LayerExtractor::Callbacks() {
  return {.on_entry = [this](const TarEntry& e) { return OnEntry(e); },
          .on_data = [this](const TarEntry& e, std::string_view d) { return OnData(e, d); }};
}

const ExtractStats& LayerExtractor::stats() const { return s_->stats; }

}  // namespace gpufleet::image
