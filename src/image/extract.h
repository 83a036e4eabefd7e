// LayerExtractor: applies one image layer's tar stream, entry by entry as TarReader reports it,
// onto a destination directory, without ever writing outside it (`gpufleet image pull`).
//
// Every operation is relative to one descriptor of the destination, opened once. Parent
// directories are resolved with openat2(2) RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, so a symlink a
// lower layer left (lib -> usr/lib, lib64 -> /usr/lib, x -> /, y -> ../../..) is followed as in a
// chroot of the destination. The final component is never followed: an existing non-directory
// there is replaced, an existing directory is kept when the entry is a directory and otherwise
// removed with everything below it. Needs Linux 5.6 (openat2).
//
// Names: a leading "./" and empty or "." components are dropped and ".." is applied lexically;
// absolute names, a ".." that would leave the root and NUL bytes are InvalidArgument. An entry
// naming the root itself ("./") is ignored when it is a directory (the destination keeps its own
// mode, owner and times, as containerd does) and InvalidArgument otherwise. Hardlink targets obey
// the same rules and must exist inside the destination and not be a directory; the link is made to
// the target itself (a symlink is linked, not followed) and keeps the target's metadata. Symlink
// targets are data: they are stored as given and only followed by later in-root resolution.
//
// Metadata: regular files get owner (if same_owner), mode, xattrs and then mtime (atime = mtime)
// once their last byte is written; symlinks, devices and fifos at creation; directories get owner
// and xattrs at creation and mode and mtime in Finish, deepest first, so their children do not
// disturb them. Setuid/setgid/sticky bits are kept only with same_owner. Parents that are missing
// are created 0755 owned by the extracting user and count as this layer's; a parent that is a
// symlink to nothing in the root is FailedPrecondition (its target is not created).
//
// Whiteouts (kApply): ".wh.NAME" removes NAME, recursively, from what is there; ".wh..wh..opq"
// removes from its directory everything this layer did not create, before or after the marker
// (a lower directory survives, pruned, where this layer wrote inside it). Neither is written.
//
// Errors: each names the entry (`layer entry "usr/lib/x": ...`). The first error stops the
// extractor: every later call returns it. The destination is then partly written and the caller
// removes it; nothing outside it has been touched. Not thread-safe; one layer per extractor.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "image/tar_reader.h"

namespace gpufleet::image {

// Against decompression bombs and hostile layers; exceeding one is ResourceExhausted.
struct ExtractLimits {
  int64_t max_total_bytes = int64_t{1} << 40;  // sum of the regular file sizes in the layer
  int64_t max_entries = 5'000'000;             // tar entries, whiteouts and skipped ones included
  int64_t max_path_bytes = 4096;               // an entry's name or link target, as in the tar
};

enum class WhiteoutMode {
  // A root file system: ".wh.NAME" removes NAME (recursively) from the destination;
  // ".wh..wh..opq" empties its directory of what lower layers put there (entries of this layer in
  // that directory, created before or after the marker, survive). Neither marker is written.
  kApply,
  // A per-layer directory for overlayfs: ".wh.NAME" becomes a character device 0/0 named NAME;
  // ".wh..wh..opq" sets the xattr trusted.overlay.opaque="y" (user.overlay.opaque with
  // overlay_userxattr) on its directory.
  kOverlay,
};

struct ExtractOptions {
  WhiteoutMode whiteouts = WhiteoutMode::kApply;
  ExtractLimits limits;
  // Chown entries to the tar's uid/gid (lchown for symlinks) and keep setuid/setgid/sticky bits.
  bool same_owner = (geteuid() == 0);
  // Create character and block devices; otherwise they are skipped and counted. FIFOs always are.
  bool devices = (geteuid() == 0);
  // Apply PAX "SCHILY.xattr.NAME" records. A namespace the file system or the caller's privileges
  // refuse (ENOTSUP, EPERM) is skipped and counted. When false, xattr records are ignored.
  bool xattrs = true;
  // kOverlay: mark opaque directories with user.overlay.opaque (overlayfs "userxattr", rootless)
  // instead of trusted.overlay.opaque.
  bool overlay_userxattr = (geteuid() != 0);
};

struct ExtractStats {
  int64_t entries = 0;  // tar entries seen
  int64_t files = 0;    // regular files written
  int64_t bytes = 0;    // regular file bytes written
  int64_t skipped_devices = 0;
  int64_t skipped_xattrs = 0;
};

class LayerExtractor {
 public:
  // `dest` must exist and be a directory (NotFound / FailedPrecondition otherwise). It is opened
  // once; everything later is relative to that descriptor. Unimplemented without openat2(2).
  static Result<std::unique_ptr<LayerExtractor>> Open(const std::string& dest,
                                                      ExtractOptions options = {});
  ~LayerExtractor();
  LayerExtractor(const LayerExtractor&) = delete;
  LayerExtractor& operator=(const LayerExtractor&) = delete;

  // TarReader::Callbacks::on_entry. Creates the entry (a regular file is opened and receives its
  // data through OnData). Errors: InvalidArgument for an unsafe name or link target, a hardlink
  // to a directory, a non-directory root entry or symlink loops; ResourceExhausted for a limit;
  // NotFound for a missing hardlink target; OS errors by errno (see extract_fs.h); DataLoss when
  // the previous file got fewer bytes than its size.
  Status OnEntry(const TarEntry& entry);
  // TarReader::Callbacks::on_data: the next piece of the current entry's data. Ignored for entries
  // that write nothing (skipped devices, whiteouts, the root). InvalidArgument past the size.
  Status OnData(const TarEntry& entry, std::string_view data);
  // Closes the last file and applies the deferred directory modes and mtimes (deepest first).
  // DataLoss if the last file got fewer bytes than its size. Call once, after the last entry.
  Status Finish();

  // Callbacks that feed this extractor, for a TarReader. They borrow `this`.
  TarReader::Callbacks Callbacks();

  const ExtractStats& stats() const;

 private:
  struct State;
  explicit LayerExtractor(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace gpufleet::image
