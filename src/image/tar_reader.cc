#include "image/tar_reader.h"

#include <algorithm>
#include <cstring>

namespace gpufleet::image {
namespace {

constexpr size_t kBlock = 512;
constexpr int64_t kMaxExtendedHeader = 1 << 20;  // PAX / GNU long-name bodies: a bomb guard

std::string Field(std::string_view block, size_t at, size_t len) {
  std::string_view f = block.substr(at, len);
  return std::string(f.substr(0, std::min(f.find('\0'), f.size())));
}

int64_t Padding(int64_t size) { return (static_cast<int64_t>(kBlock) - size % static_cast<int64_t>(kBlock)) % static_cast<int64_t>(kBlock); }

bool HeaderOnly(TarType t) {
  return t == TarType::kHardLink || t == TarType::kSymlink || t == TarType::kChar || t == TarType::kBlock ||
         t == TarType::kDirectory || t == TarType::kFifo;
}

std::string At(int64_t offset) { return " (tar offset " + std::to_string(offset) + ")"; }

// PAX time: seconds with an optional fraction ("1700000000.123456789").
Status ParsePaxTime(const std::string& v, int64_t* sec, int32_t* nsec) {
  size_t dot = v.find('.');
  std::string whole = v.substr(0, dot);
  char* end = nullptr;
  const long long s = std::strtoll(whole.c_str(), &end, 10);
  if (whole.empty() || *end != '\0') return InvalidArgumentError("PAX mtime \"" + v + "\" is not a time");
  *sec = s;
  *nsec = 0;
  if (dot != std::string::npos) {
    std::string frac = v.substr(dot + 1, 9);
    if (frac.find_first_not_of("0123456789") != std::string::npos) return InvalidArgumentError("PAX mtime \"" + v + "\" is not a time");
    frac.resize(9, '0');
    *nsec = static_cast<int32_t>(std::stol(frac));
  }
  return OkStatus();
}

}  // namespace

Result<int64_t> ParseTarNumber(std::string_view field, std::string_view what) {
  if (!field.empty() && (static_cast<unsigned char>(field[0]) & 0x80)) {
    // GNU base-256: big-endian two's complement; only non-negative values make sense here.
    if (static_cast<unsigned char>(field[0]) == 0xFF) return InvalidArgumentError(std::string(what) + ": negative number");
    uint64_t v = static_cast<unsigned char>(field[0]) & 0x7F;
    for (size_t i = 1; i < field.size(); ++i) {
      if (v > (uint64_t{1} << 55)) return InvalidArgumentError(std::string(what) + ": number too large");
      v = (v << 8) | static_cast<unsigned char>(field[i]);
    }
    if (v > static_cast<uint64_t>(INT64_MAX)) return InvalidArgumentError(std::string(what) + ": number too large");
    return static_cast<int64_t>(v);
  }
  size_t i = 0;
  while (i < field.size() && (field[i] == ' ' || field[i] == '\0')) ++i;
  int64_t v = 0;
  bool digits = false;
  for (; i < field.size() && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (v > (INT64_MAX >> 3)) return InvalidArgumentError(std::string(what) + ": number too large");
    v = v * 8 + (field[i] - '0');
    digits = true;
  }
  for (; i < field.size(); ++i) {
    if (field[i] != ' ' && field[i] != '\0') {
      return InvalidArgumentError(std::string(what) + ": \"" + std::string(field) + "\" is not an octal number");
    }
  }
  (void)digits;  // an all-blank field is 0, as tar writers leave unused fields
  return v;
}

Status TarReader::ParsePax(std::string_view records, bool global) {
  auto& into = global ? global_pax_ : pax_;
  if (global) into.clear();
  while (!records.empty()) {
    const size_t space = records.find(' ');
    if (space == std::string_view::npos || space == 0 || space > 20) return InvalidArgumentError("malformed PAX record length");
    const std::string digits(records.substr(0, space));
    if (digits.find_first_not_of("0123456789") != std::string::npos) return InvalidArgumentError("malformed PAX record length");
    const size_t len = std::stoull(digits);
    if (len <= space + 1 || len > records.size() || records[len - 1] != '\n') {
      return InvalidArgumentError("PAX record length " + digits + " does not fit the header");
    }
    std::string_view kv = records.substr(space + 1, len - space - 2);
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) return InvalidArgumentError("malformed PAX record (no key=value)");
    into.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    records.remove_prefix(len);
  }
  return OkStatus();
}

Status TarReader::OnHeaderBlock(std::string_view block) {
  if (std::all_of(block.begin(), block.end(), [](char c) { return c == 0; })) {
    if (++zero_blocks_ >= 2) state_ = State::kEnd;
    return OkStatus();
  }
  zero_blocks_ = 0;
  const int64_t here = offset_ - static_cast<int64_t>(kBlock);
  if (entry_start_ < 0) entry_start_ = here;
  // Checksum: the header's bytes summed with the checksum field read as spaces (unsigned, or
  // signed as some old writers did).
  GF_ASSIGN_OR_RETURN(int64_t expected, ParseTarNumber(block.substr(148, 8), "checksum" + At(here)));
  int64_t unsigned_sum = 0, signed_sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    const char c = i >= 148 && i < 156 ? ' ' : block[i];
    unsigned_sum += static_cast<unsigned char>(c);
    signed_sum += static_cast<signed char>(c);
  }
  if (expected != unsigned_sum && expected != signed_sum) {
    return InvalidArgumentError("tar header checksum mismatch" + At(here) + ": not a tar stream, or corrupt");
  }
  const char flag = block[156];
  GF_ASSIGN_OR_RETURN(int64_t size, ParseTarNumber(block.substr(124, 12), "size" + At(here)));
  if (flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K') {
    if (size > kMaxExtendedHeader) {
      return InvalidArgumentError("extended header of " + std::to_string(size) + " bytes" + At(here) + " (at most 1 MiB)");
    }
    extended_.clear();
    extended_type_ = flag;
    remaining_ = size;
    padding_ = Padding(size);
    state_ = State::kExtended;
    if (size == 0) return Feed(std::string_view());  // an empty body: done at once
    return OkStatus();
  }

  TarEntry e;
  const bool ustar = block.substr(257, 5) == "ustar";
  std::string name = Field(block, 0, 100);
  if (ustar && block.substr(257, 6) == std::string_view("ustar\0", 6)) {
    const std::string prefix = Field(block, 345, 155);
    if (!prefix.empty()) name = prefix + "/" + name;
  }
  e.name = long_name_.empty() ? name : long_name_;
  e.linkname = long_link_.empty() ? Field(block, 157, 100) : long_link_;
  e.type = flag == '\0' || flag == '7' ? TarType::kRegular : static_cast<TarType>(flag);
  if (e.type != TarType::kRegular && e.type != TarType::kHardLink && e.type != TarType::kSymlink &&
      e.type != TarType::kChar && e.type != TarType::kBlock && e.type != TarType::kDirectory &&
      e.type != TarType::kFifo) {
    e.type = TarType::kRegular;  // POSIX: an unknown type is read as a regular file
  }
  GF_ASSIGN_OR_RETURN(e.mode, ParseTarNumber(block.substr(100, 8), "mode" + At(here)));
  GF_ASSIGN_OR_RETURN(e.uid, ParseTarNumber(block.substr(108, 8), "uid" + At(here)));
  GF_ASSIGN_OR_RETURN(e.gid, ParseTarNumber(block.substr(116, 8), "gid" + At(here)));
  GF_ASSIGN_OR_RETURN(e.mtime_sec, ParseTarNumber(block.substr(136, 12), "mtime" + At(here)));
  if (ustar) {
    e.uname = Field(block, 265, 32);
    e.gname = Field(block, 297, 32);
    if (e.type == TarType::kChar || e.type == TarType::kBlock) {
      GF_ASSIGN_OR_RETURN(e.devmajor, ParseTarNumber(block.substr(329, 8), "devmajor" + At(here)));
      GF_ASSIGN_OR_RETURN(e.devminor, ParseTarNumber(block.substr(337, 8), "devminor" + At(here)));
    }
  }
  e.size = size;
  // PAX overrides, global first, then the entry's own.
  e.pax = pax_;
  e.global_pax = global_pax_;
  std::vector<std::pair<std::string, std::string>> records = global_pax_;
  records.insert(records.end(), pax_.begin(), pax_.end());
  for (const auto& [k, v] : records) {
    if (k == "path") {
      e.name = v;
    } else if (k == "linkpath") {
      e.linkname = v;
    } else if (k == "uname") {
      e.uname = v;
    } else if (k == "gname") {
      e.gname = v;
    } else if (k == "size" || k == "uid" || k == "gid") {
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0) return InvalidArgumentError("PAX " + k + " \"" + v + "\"" + At(here));
      (k == "size" ? e.size : k == "uid" ? e.uid : e.gid) = n;
    } else if (k == "mtime") {
      Status s = ParsePaxTime(v, &e.mtime_sec, &e.mtime_nsec);
      if (!s.ok()) return InvalidArgumentError(std::string(s.message()) + At(here));
    }
  }
  if (HeaderOnly(e.type)) e.size = 0;
  if (e.name.empty()) return InvalidArgumentError("tar entry without a name" + At(here));
  e.header_offset = entry_start_;
  e.data_offset = offset_;
  entry_start_ = -1;
  pax_.clear();
  long_name_.clear();
  long_link_.clear();
  entry_ = std::move(e);
  if (callbacks_.on_entry) GF_RETURN_IF_ERROR(callbacks_.on_entry(entry_));
  remaining_ = entry_.size;
  padding_ = Padding(entry_.size);
  state_ = remaining_ > 0 ? State::kData : (padding_ > 0 ? State::kPadding : State::kHeader);
  return OkStatus();
}

Status TarReader::Feed(std::string_view data) {
  while (!data.empty() || (state_ == State::kExtended && remaining_ == 0)) {
    switch (state_) {
      case State::kEnd:
        offset_ += static_cast<int64_t>(data.size());  // trailing zero blocks, record padding
        return OkStatus();
      case State::kHeader: {
        const size_t take = std::min(kBlock - block_.size(), data.size());
        block_.append(data.substr(0, take));
        data.remove_prefix(take);
        offset_ += static_cast<int64_t>(take);
        if (block_.size() == kBlock) {
          std::string block = std::move(block_);
          block_.clear();
          GF_RETURN_IF_ERROR(OnHeaderBlock(block));
        }
        break;
      }
      case State::kExtended:
      case State::kData: {
        const size_t take = static_cast<size_t>(std::min<int64_t>(remaining_, static_cast<int64_t>(data.size())));
        if (state_ == State::kExtended) {
          extended_.append(data.substr(0, take));
        } else if (callbacks_.on_data) {
          GF_RETURN_IF_ERROR(callbacks_.on_data(entry_, data.substr(0, take)));
        }
        data.remove_prefix(take);
        offset_ += static_cast<int64_t>(take);
        remaining_ -= static_cast<int64_t>(take);
        if (remaining_ == 0) {
          if (state_ == State::kExtended) {
            const int64_t here = offset_ - static_cast<int64_t>(extended_.size());
            if (extended_type_ == 'x' || extended_type_ == 'g') {
              Status s = ParsePax(extended_, extended_type_ == 'g');
              if (!s.ok()) return InvalidArgumentError(std::string(s.message()) + At(here));
            } else {
              std::string text = extended_.substr(0, std::min(extended_.find('\0'), extended_.size()));
              (extended_type_ == 'L' ? long_name_ : long_link_) = std::move(text);
            }
          }
          state_ = padding_ > 0 ? State::kPadding : State::kHeader;
        }
        break;
      }
      case State::kPadding: {
        const size_t take = static_cast<size_t>(std::min<int64_t>(padding_, static_cast<int64_t>(data.size())));
        data.remove_prefix(take);
        offset_ += static_cast<int64_t>(take);
        padding_ -= static_cast<int64_t>(take);
        if (padding_ == 0) state_ = State::kHeader;
        break;
      }
    }
  }
  return OkStatus();
}

Status TarReader::Finish() {
  if (state_ == State::kEnd) return OkStatus();
  if (state_ == State::kHeader && block_.empty() && entry_start_ < 0) return OkStatus();  // no end marker: tolerated
  return InvalidArgumentError("tar stream truncated at offset " + std::to_string(offset_) +
                              (state_ == State::kData ? " inside the data of " + entry_.name : ""));
}

}  // namespace gpufleet::image
