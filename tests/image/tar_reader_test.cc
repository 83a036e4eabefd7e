// TarReader against archives written by Python's tarfile (PAX: long names, xattrs, sub-second
// times) and GNU tar (GNU long names, base-256 sizes): every entry's metadata, the data offsets a
// zTOC records (checked against the bytes at that offset), piece-by-piece feeding, and the errors
// for corrupt, truncated and malformed input.
#include "image/gzip_fixture.h"
#include "image/tar_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace gpufleet::image {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) { return testing::ReadFileBytes(path); }

class TarReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/tar-reader-" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes a PAX archive with Python's tarfile; returns its bytes.
  std::string PythonTar() {
    const std::string script = dir_ + "/make.py";
    std::ofstream(script) << R"(import io, sys, tarfile
out = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
def add(name, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items(): setattr(ti, k, v)
    ti.size = len(data) if ti.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    out.addfile(ti, io.BytesIO(data) if data else None)
add("usr/", type=tarfile.DIRTYPE, mode=0o755)
add("usr/lib/libcublas.so.12", b"\x7fELF" + bytes(range(256)) * 40, mode=0o644, uid=0, gid=0, mtime=1700000000.25)
deep = "usr/share/" + "very-long-directory-name/" * 8 + "file.txt"
add(deep, b"deep file\n", mode=0o600, uid=1000, gid=1000, uname="ml", gname="ml")
add("usr/lib/libcublas.so", type=tarfile.SYMTYPE, linkname="libcublas.so.12")
add("usr/lib/hard", type=tarfile.LNKTYPE, linkname="usr/lib/libcublas.so.12")
add("dev/nvidia0", type=tarfile.CHRTYPE, devmajor=195, devminor=0, mode=0o666)
x = tarfile.TarInfo("etc/caps"); x.pax_headers = {"SCHILY.xattr.security.capability": "\x01\x00\x00\x02"}
x.size = 3; out.addfile(x, io.BytesIO(b"cap"))
add("usr/.wh..wh..opq")
add("empty", b"")
out.close()
)";
    const std::string tar = dir_ + "/py.tar";
    EXPECT_EQ(std::system(("python3 " + script + " " + tar).c_str()), 0);
    return ReadFile(tar);
  }

  std::vector<TarEntry> Parse(const std::string& tar, size_t piece, std::map<std::string, std::string>* data = nullptr) {
    std::vector<TarEntry> entries;
    TarReader reader({.on_entry = [&](const TarEntry& e) { entries.push_back(e); return OkStatus(); },
                      .on_data = [&](const TarEntry& e, std::string_view d) {
                        if (data) (*data)[e.name] += d;
                        return OkStatus();
                      }});
    for (size_t at = 0; at < tar.size(); at += piece) {
      Status s = reader.Feed(std::string_view(tar).substr(at, piece));
      EXPECT_TRUE(s.ok()) << s;
    }
    EXPECT_TRUE(reader.Finish().ok());
    EXPECT_TRUE(reader.ended());
    return entries;
  }

  std::string dir_;
};

TEST_F(TarReaderTest, PaxArchiveFromPython) {
  const std::string tar = PythonTar();
  std::map<std::string, std::string> data;
  auto entries = Parse(tar, 333, &data);
  ASSERT_EQ(entries.size(), 9u);
  std::map<std::string, TarEntry> by_name;
  for (const auto& e : entries) by_name[e.name] = e;

  const TarEntry& lib = by_name.at("usr/lib/libcublas.so.12");
  EXPECT_EQ(lib.type, TarType::kRegular);
  EXPECT_EQ(lib.size, 4 + 256 * 40);
  EXPECT_EQ(lib.mode, 0644);
  EXPECT_EQ(lib.mtime_sec, 1700000000);
  EXPECT_EQ(lib.mtime_nsec, 250000000);
  // The data offset a zTOC records points at the file's bytes in the tar.
  EXPECT_EQ(tar.substr(lib.data_offset, 4), "\x7f" "ELF");
  EXPECT_EQ(data.at("usr/lib/libcublas.so.12"), tar.substr(lib.data_offset, lib.size));
  EXPECT_EQ(lib.data_offset % 512, 0);
  EXPECT_LT(lib.header_offset, lib.data_offset);

  const std::string deep = "usr/share/" + [] {
    std::string s;
    for (int i = 0; i < 8; ++i) s += "very-long-directory-name/";
    return s;
  }() + "file.txt";
  ASSERT_TRUE(by_name.contains(deep));
  EXPECT_EQ(by_name.at(deep).uname, "ml");
  EXPECT_EQ(by_name.at(deep).uid, 1000);
  EXPECT_EQ(tar.substr(by_name.at(deep).data_offset, 10), "deep file\n");

  EXPECT_EQ(by_name.at("usr/lib/libcublas.so").type, TarType::kSymlink);
  EXPECT_EQ(by_name.at("usr/lib/libcublas.so").linkname, "libcublas.so.12");
  EXPECT_EQ(by_name.at("usr/lib/hard").type, TarType::kHardLink);
  EXPECT_EQ(by_name.at("usr/lib/hard").size, 0);
  EXPECT_EQ(by_name.at("dev/nvidia0").type, TarType::kChar);
  EXPECT_EQ(by_name.at("dev/nvidia0").devmajor, 195);
  EXPECT_EQ(by_name.at("usr/").type, TarType::kDirectory);
  const TarEntry& caps = by_name.at("etc/caps");
  bool xattr = false;
  for (const auto& [k, v] : caps.pax) xattr = xattr || (k == "SCHILY.xattr.security.capability" && v.size() == 4);
  EXPECT_TRUE(xattr);
  EXPECT_TRUE(by_name.contains("usr/.wh..wh..opq"));
  EXPECT_EQ(by_name.at("empty").size, 0);

  // Fed whole or byte by byte: the same entries at the same offsets.
  auto whole = Parse(tar, tar.size());
  auto bytes = Parse(tar, 1);
  ASSERT_EQ(whole.size(), bytes.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(whole[i].name, bytes[i].name);
    EXPECT_EQ(whole[i].data_offset, bytes[i].data_offset);
  }
}

TEST_F(TarReaderTest, GnuArchiveWithLongNames) {
  const std::string root = dir_ + "/tree";
  std::string long_dir = root;
  for (int i = 0; i < 5; ++i) long_dir += "/a-rather-long-directory-name-number-" + std::to_string(i);
  std::filesystem::create_directories(long_dir);
  std::ofstream(long_dir + "/weights.bin") << std::string(70000, 'w');
  std::filesystem::create_symlink("weights.bin", long_dir + "/link-with-a-long-target-" + std::string(90, 'x'));
  const std::string tar = dir_ + "/gnu.tar";
  ASSERT_EQ(std::system(("tar --format=gnu -C " + root + " -cf " + tar + " .").c_str()), 0);
  const std::string bytes = ReadFile(tar);
  auto entries = Parse(bytes, 4096);
  bool found = false;
  for (const auto& e : entries) {
    if (e.name.ends_with("/weights.bin")) {
      found = true;
      EXPECT_GT(e.name.size(), 100u);  // beyond ustar's name field: a GNU 'L' header carried it
      EXPECT_EQ(e.size, 70000);
      EXPECT_EQ(bytes.substr(e.data_offset, 3), "www");
    }
  }
  EXPECT_TRUE(found);
}

TEST(TarNumber, OctalAndBase256) {
  EXPECT_EQ(*ParseTarNumber(std::string_view("0000644\0", 8), "mode"), 0644);
  EXPECT_EQ(*ParseTarNumber("        ", "mode"), 0);
  std::string big(12, '\0');
  big[0] = static_cast<char>(0x80);
  big[7] = 0x01;  // 2^32
  EXPECT_EQ(*ParseTarNumber(big, "size"), int64_t{1} << 32);
  EXPECT_THAT(ParseTarNumber("12x4", "uid").status().message(), HasSubstr("uid"));
  std::string negative(8, static_cast<char>(0xFF));
  EXPECT_FALSE(ParseTarNumber(negative, "size").ok());
}

TEST_F(TarReaderTest, CorruptTruncatedAndMalformedInput) {
  const std::string tar = PythonTar();
  std::string corrupt = tar;
  corrupt[600] ^= 0x11;  // inside the second header block
  TarReader a({});
  Status s = a.Feed(corrupt);
  if (s.ok()) s = a.Finish();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("tar offset"));

  TarReader b({});
  ASSERT_TRUE(b.Feed(tar.substr(0, 2000)).ok());
  Status t = b.Finish();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.message(), HasSubstr("truncated"));

  TarReader c({});
  EXPECT_THAT(c.Feed(std::string(512, 'A')).message(), HasSubstr("checksum"));

  // A PAX record whose length runs past the header.
  std::string header(512, '\0');
  std::memcpy(header.data(), "././@PaxHeader", 14);
  std::memcpy(header.data() + 100, "0000644", 7);
  std::memcpy(header.data() + 124, "00000000020", 11);  // 16 bytes of records
  header[156] = 'x';
  std::memcpy(header.data() + 257, "ustar\0" "00", 8);
  std::memset(header.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (char ch : header) sum += static_cast<unsigned char>(ch);
  std::snprintf(header.data() + 148, 8, "%06o", sum);
  std::string body = "99 path=x\n" + std::string(6, ' ');
  body.resize(512, '\0');
  TarReader d({});
  Status p = d.Feed(header + body);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.message(), HasSubstr("PAX record length"));
}

}  // namespace
}  // namespace gpufleet::image
