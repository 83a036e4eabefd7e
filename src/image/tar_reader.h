// TarReader: a push parser for tar streams as image layers carry them (POSIX ustar, PAX extended
// and global headers, GNU long names and links, base-256 numbers), fed in pieces as the layer
// inflates. It reports each entry with its metadata and where its header and data sit in the
// uncompressed stream (what a zTOC records), and hands on the entry's data if asked.
//
// It only parses: paths are reported as the archive has them. Whether a path or link is safe to
// create is the extractor's decision (no "..", no absolute paths, no escaping links).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace gpufleet::image {

enum class TarType : char {
  kRegular = '0',
  kHardLink = '1',
  kSymlink = '2',
  kChar = '3',
  kBlock = '4',
  kDirectory = '5',
  kFifo = '6',
};

struct TarEntry {
  std::string name;      // PAX path > GNU long name > prefix/name
  std::string linkname;  // PAX linkpath > GNU long link > linkname
  TarType type = TarType::kRegular;
  int64_t size = 0;  // data bytes (0 for links, directories, devices)
  int64_t mode = 0;
  int64_t uid = 0, gid = 0;
  std::string uname, gname;
  int64_t mtime_sec = 0;
  int32_t mtime_nsec = 0;
  int64_t devmajor = 0, devminor = 0;
  // The entry's own PAX records, as the archive has them: path, mtime, SCHILY.xattr.*, ... (a
  // zTOC stores these in FileMetadata.xattrs, as Go's archive/tar reports PAXRecords).
  std::vector<std::pair<std::string, std::string>> pax;
  // Records of the global PAX header in force (applied to the fields above, before `pax`).
  std::vector<std::pair<std::string, std::string>> global_pax;
  int64_t header_offset = 0;  // the entry's first header block (its PAX/GNU headers included)
  int64_t data_offset = 0;    // its data, in the uncompressed stream
};

class TarReader {
 public:
  struct Callbacks {
    // Each entry, before its data. An error stops the stream.
    std::function<Status(const TarEntry&)> on_entry;
    // The entry's data, in pieces (only set if data is wanted).
    std::function<Status(const TarEntry&, std::string_view)> on_data;
  };
  explicit TarReader(Callbacks callbacks) : callbacks_(std::move(callbacks)) {}

  // The next piece of the tar stream. Errors: a header whose checksum is wrong, numbers that do
  // not parse, a PAX record that is malformed — each naming the offset.
  Status Feed(std::string_view data);
  // Errors: the stream ended inside an entry or before the end-of-archive marker... unless it
  // ended exactly after an entry (some tools omit the two zero blocks).
  Status Finish();
  bool ended() const { return state_ == State::kEnd; }
  int64_t offset() const { return offset_; }

 private:
  enum class State { kHeader, kExtended, kData, kPadding, kEnd };
  Status OnHeaderBlock(std::string_view block);
  Status ParsePax(std::string_view records, bool global);

  Callbacks callbacks_;
  State state_ = State::kHeader;
  int64_t offset_ = 0;        // bytes consumed so far
  std::string block_;         // a partial 512-byte header block
  std::string extended_;      // the body of a PAX or GNU long-name header being read
  char extended_type_ = 0;
  int64_t remaining_ = 0;     // bytes left of the current data or extended body
  int64_t padding_ = 0;       // bytes left up to the next 512-byte boundary
  int zero_blocks_ = 0;
  int64_t entry_start_ = -1;  // header offset of the entry being assembled
  TarEntry entry_;
  std::vector<std::pair<std::string, std::string>> global_pax_, pax_;
  std::string long_name_, long_link_;
};

// Parses a tar numeric field: octal (NUL/space terminated) or GNU base-256. Errors name the field.
Result<int64_t> ParseTarNumber(std::string_view field, std::string_view what);

}  // namespace gpufleet::image
