// LayerExtractor on layers written by Python's tarfile, fed through TarReader in pieces: what a
// normal layer leaves on disk (contents, modes, owners, times, links, xattrs), layers stacked with
// whiteouts, overlayfs whiteouts, parents that are symlinks from a lower layer, and hostile layers
// (escaping names, symlinks and hardlinks, limits) that must fail or stay inside the destination.
#include "image/extract.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "image/gzip_fixture.h"
#include "image/tar_reader.h"
#include "testing/status_matchers.h"

namespace gpufleet::image {
namespace {

namespace fs = std::filesystem;
using ::gpufleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) { return testing::ReadFileBytes(path); }

struct stat Lstat(const std::string& path) {
  struct stat st = {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
  return st;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::set<std::string> List(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

// The value of xattr `name` on `path` (not followed); nullopt with errno set when there is none.
std::optional<std::string> GetXattr(const std::string& path, const char* name) {
  char buf[256];
  const ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof(buf));
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

class ExtractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = ::testing::TempDir() + "/extract-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(base_);
    fs::create_directories(dest());
    fs::create_directories(outside());
  }
  void TearDown() override { fs::remove_all(base_); }

  std::string dest() const { return base_ + "/root"; }
  // A sentinel directory beside dest: nothing may ever appear in it.
  std::string outside() const { return base_ + "/outside"; }
  std::string In(const std::string& rel) const { return dest() + "/" + rel; }

  // A PAX tar written by Python's tarfile. `body` calls add(name, data=b"", pax=None, **attrs),
  // attrs being TarInfo fields (type, mode, uid, gid, mtime, linkname, devmajor, ...).
  std::string MakeTar(const std::string& body) {
    const std::string script = base_ + "/make.py";
    std::ofstream(script) << R"(import io, sys, tarfile
out = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
def add(name, data=b"", pax=None, **kw):
    ti = tarfile.TarInfo(name)
    ti.mtime = 1500000000
    ti.mode = 0o755 if kw.get("type") == tarfile.DIRTYPE else 0o644
    for k, v in kw.items(): setattr(ti, k, v)
    if pax: ti.pax_headers = pax
    ti.size = len(data) if ti.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    out.addfile(ti, io.BytesIO(data) if data else None)
D, L, S, F, C = tarfile.DIRTYPE, tarfile.LNKTYPE, tarfile.SYMTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE
)" << body << "\nout.close()\n";
    const std::string tar = base_ + "/layer.tar";
    EXPECT_EQ(std::system(("python3 " + script + " " + tar).c_str()), 0) << body;
    return ReadFile(tar);
  }

  // Feeds `tar` through a TarReader, 1000 bytes at a time, into an extractor for dest().
  Status Apply(const std::string& tar, ExtractOptions options = {}, ExtractStats* stats = nullptr) {
    auto extractor = LayerExtractor::Open(dest(), options);
    if (!extractor.ok()) return extractor.status();
    TarReader reader((*extractor)->Callbacks());
    for (size_t at = 0; at < tar.size(); at += 1000) {
      GF_RETURN_IF_ERROR(reader.Feed(std::string_view(tar).substr(at, 1000)));
    }
    GF_RETURN_IF_ERROR(reader.Finish());
    GF_RETURN_IF_ERROR((*extractor)->Finish());
    if (stats != nullptr) *stats = (*extractor)->stats();
    return OkStatus();
  }

  void ExpectNothingOutside() {
    EXPECT_EQ(List(base_), (std::set<std::string>{"root", "outside", "make.py", "layer.tar"}));
    EXPECT_TRUE(List(outside()).empty());
  }

  bool XattrsSupported() {
    const std::string probe = base_ + "/xattr-probe";
    std::ofstream(probe) << "x";
    const bool ok = ::setxattr(probe.c_str(), "user.probe", "1", 1, 0) == 0;
    fs::remove(probe);
    return ok;
  }

  std::string base_;
};

TEST_F(ExtractTest, NormalLayer) {
  const bool root = geteuid() == 0;
  const std::string deep = "deep/" + [] {
    std::string s;
    for (int i = 0; i < 6; ++i) s += "a-long-directory-name-number-" + std::to_string(i) + "/";
    return s;
  }() + "file.txt";
  const std::string tar = MakeTar(R"(
add("./", type=D, mode=0o700, mtime=1)
add("etc/", type=D, mode=0o750, mtime=1600000000)
add("etc/conf", b"hello\n", mode=0o640, uid=1234, gid=5678, mtime=1650000000.5)
add("etc/xattr", b"x", pax={"SCHILY.xattr.user.gpufleet": "on"})
add("usr/bin/tool", b"\x7fELF" + bytes(range(256)) * 20, mode=0o4755)
add("usr/bin/link", type=S, linkname="tool", mtime=1400000000)
add("usr/bin/hard", type=L, linkname="usr/bin/tool")
add("usr/bin/hard-to-link", type=L, linkname="./usr/bin/link")
add("run/fifo", type=F, mode=0o600)
add("dev/null", type=C, devmajor=1, devminor=3, mode=0o666)
add(")" + deep + R"(", b"deep\n")
)");
  const mode_t root_mode_before = Lstat(dest()).st_mode;
  ExtractStats stats;
  GF_ASSERT_OK(Apply(tar, {}, &stats));
  EXPECT_EQ(stats.entries, 11);
  EXPECT_EQ(stats.files, 4);
  EXPECT_EQ(stats.bytes, 6 + 1 + 4 + 256 * 20 + 5);
  EXPECT_EQ(stats.skipped_devices, root ? 0 : 1);

  // The "./" entry leaves the destination's own metadata alone.
  EXPECT_EQ(Lstat(dest()).st_mode, root_mode_before);

  struct stat conf = Lstat(In("etc/conf"));  // before reading it changes the atime
  EXPECT_EQ(ReadFile(In("etc/conf")), "hello\n");
  EXPECT_EQ(conf.st_mode & 07777, 0640u);
  EXPECT_EQ(conf.st_mtim.tv_sec, 1650000000);
  EXPECT_EQ(conf.st_mtim.tv_nsec, 500000000);
  EXPECT_EQ(conf.st_atim.tv_sec, 1650000000);
  if (root) {
    EXPECT_EQ(conf.st_uid, 1234u);
    EXPECT_EQ(conf.st_gid, 5678u);
  }
  // A directory's mode and mtime survive its children being written after it.
  struct stat etc = Lstat(In("etc"));
  EXPECT_TRUE(S_ISDIR(etc.st_mode));
  EXPECT_EQ(etc.st_mode & 07777, 0750u);
  EXPECT_EQ(etc.st_mtim.tv_sec, 1600000000);
  // Implicit parents: 0755 directories.
  EXPECT_EQ(Lstat(In("usr/bin")).st_mode & 07777, 0755u);

  struct stat tool = Lstat(In("usr/bin/tool"));
  EXPECT_EQ(tool.st_mode & 07777, root ? 04755u : 0755u);
  EXPECT_EQ(tool.st_size, 4 + 256 * 20);
  EXPECT_EQ(tool.st_nlink, 2u);
  EXPECT_EQ(Lstat(In("usr/bin/hard")).st_ino, tool.st_ino);

  struct stat link = Lstat(In("usr/bin/link"));
  EXPECT_TRUE(S_ISLNK(link.st_mode));
  EXPECT_EQ(fs::read_symlink(In("usr/bin/link")), "tool");
  EXPECT_EQ(link.st_mtim.tv_sec, 1400000000);
  // A hardlink to a symlink links the symlink itself.
  struct stat hard_to_link = Lstat(In("usr/bin/hard-to-link"));
  EXPECT_TRUE(S_ISLNK(hard_to_link.st_mode));
  EXPECT_EQ(hard_to_link.st_ino, link.st_ino);

  struct stat fifo = Lstat(In("run/fifo"));
  EXPECT_TRUE(S_ISFIFO(fifo.st_mode));
  EXPECT_EQ(fifo.st_mode & 07777, 0600u);
  if (root) {
    struct stat null = Lstat(In("dev/null"));
    EXPECT_TRUE(S_ISCHR(null.st_mode));
    EXPECT_EQ(null.st_rdev, makedev(1, 3));
    EXPECT_EQ(null.st_mode & 07777, 0666u);
  } else {
    EXPECT_FALSE(Exists(In("dev/null")));
  }

  EXPECT_EQ(ReadFile(In(deep)), "deep\n");
  if (XattrsSupported()) {
    EXPECT_EQ(GetXattr(In("etc/xattr"), "user.gpufleet"), "on");
    EXPECT_EQ(stats.skipped_xattrs, 0);
  }
}

TEST_F(ExtractTest, TwoLayersInOrder) {
  GF_ASSERT_OK(Apply(MakeTar(R"(
add("replaced", b"v1")
add("a/", type=D)
add("a/keep", b"keep")
add("a/gone", b"gone")
add("a/gone-dir/x/y", b"y")
add("opq/", type=D)
add("opq/old1", b"1")
add("opq/sub/old2", b"2")
add("opq/link", type=S, linkname="/")
add("d2f/", type=D)
add("d2f/child", b"c")
add("f2d", b"file")
)")));
  GF_ASSERT_OK(Apply(MakeTar(R"(
add("replaced", b"v2", mode=0o600)
add("a/.wh.gone")
add("a/.wh.gone-dir")
add("a/.wh.never-existed")
add("missing-dir/.wh.x")
add("opq/", type=D, mtime=1234567890)
add("opq/new-before", b"before")
add("opq/sub/newer", b"newer")
add("opq/.wh..wh..opq")
add("opq/new-after", b"after")
add("d2f", b"now a file")
add("f2d/", type=D)
add("f2d/inner", b"inner")
)")));
  EXPECT_EQ(ReadFile(In("replaced")), "v2");
  EXPECT_EQ(Lstat(In("replaced")).st_mode & 07777, 0600u);
  EXPECT_EQ(List(In("a")), (std::set<std::string>{"keep"}));
  EXPECT_FALSE(Exists(In("missing-dir")));
  // The opaque directory keeps only this layer's entries, written before or after the marker; a
  // lower directory this layer wrote into survives without its lower contents.
  EXPECT_EQ(List(In("opq")), (std::set<std::string>{"new-before", "new-after", "sub"}));
  EXPECT_EQ(List(In("opq/sub")), (std::set<std::string>{"newer"}));
  EXPECT_EQ(ReadFile(In("opq/new-after")), "after");
  EXPECT_EQ(Lstat(In("opq")).st_mtim.tv_sec, 1234567890);
  EXPECT_TRUE(S_ISREG(Lstat(In("d2f")).st_mode));
  EXPECT_EQ(ReadFile(In("d2f")), "now a file");
  EXPECT_TRUE(S_ISDIR(Lstat(In("f2d")).st_mode));
  EXPECT_EQ(ReadFile(In("f2d/inner")), "inner");
  ExpectNothingOutside();
}

TEST_F(ExtractTest, OverlayWhiteouts) {
  if (geteuid() != 0) GTEST_SKIP() << "trusted.* xattrs need root";
  ExtractOptions options;
  options.whiteouts = WhiteoutMode::kOverlay;
  options.overlay_userxattr = false;
  GF_ASSERT_OK(Apply(MakeTar(R"(
add("a/", type=D)
add("a/.wh.gone")
add("b/", type=D)
add("b/.wh..wh..opq")
add("b/f", b"f")
)"),
                     options));
  struct stat gone = Lstat(In("a/gone"));
  EXPECT_TRUE(S_ISCHR(gone.st_mode));
  EXPECT_EQ(gone.st_rdev, makedev(0, 0));
  EXPECT_EQ(GetXattr(In("b"), "trusted.overlay.opaque"), "y");
  EXPECT_EQ(List(In("a")), (std::set<std::string>{"gone"}));
  EXPECT_EQ(List(In("b")), (std::set<std::string>{"f"}));
}

// Rootless overlayfs ("userxattr") reads user.overlay.opaque instead.
TEST_F(ExtractTest, OverlayOpaqueUserXattr) {
  if (!XattrsSupported()) GTEST_SKIP() << "no user.* xattrs on " << ::testing::TempDir();
  ExtractOptions options;
  options.whiteouts = WhiteoutMode::kOverlay;
  options.overlay_userxattr = true;
  GF_ASSERT_OK(Apply(MakeTar(R"(add("c/.wh..wh..opq"))"), options));
  EXPECT_EQ(GetXattr(In("c"), "user.overlay.opaque"), "y");
  EXPECT_TRUE(List(In("c")).empty());
}

TEST_F(ExtractTest, SymlinkedParentsFromALowerLayer) {
  GF_ASSERT_OK(Apply(MakeTar(R"(
add("usr/lib/", type=D)
add("lib", type=S, linkname="usr/lib")
add("lib64", type=S, linkname="/usr/lib")
)")));
  const std::string unique = "gpufleet-extract-test-" + std::to_string(getpid());
  GF_ASSERT_OK(Apply(MakeTar("add('lib/a', b'a')\nadd('lib64/" + unique + "', b'b')\n")));
  EXPECT_EQ(ReadFile(In("usr/lib/a")), "a");
  EXPECT_EQ(ReadFile(In("usr/lib/" + unique)), "b");
  EXPECT_TRUE(S_ISLNK(Lstat(In("lib")).st_mode));
  EXPECT_TRUE(S_ISLNK(Lstat(In("lib64")).st_mode));
  EXPECT_FALSE(Exists("/usr/lib/" + unique));
  ExpectNothingOutside();
}

TEST_F(ExtractTest, RejectsNamesThatLeaveTheRoot) {
  for (const std::string name : {"../evil", "/abs/evil", "a/../../evil", "./../outside/evil"}) {
    EXPECT_THAT(Apply(MakeTar("add('ok', b'ok')\nadd('" + name + "', b'evil')\n")),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("\"" + name + "\"")))
        << name;
  }
  // ".." that stays inside is fine.
  GF_EXPECT_OK(Apply(MakeTar("add('a/../b', b'b')\n")));
  EXPECT_EQ(ReadFile(In("b")), "b");
  ExpectNothingOutside();
}

TEST_F(ExtractTest, RejectsNulAndOverlongNames) {
  ExtractOptions options;
  options.limits.max_path_bytes = 32;
  GF_ASSERT_OK_AND_ASSIGN(auto extractor, LayerExtractor::Open(dest(), options));
  TarEntry nul;
  nul.type = TarType::kDirectory;
  nul.name = std::string("a\0b", 3);
  EXPECT_THAT(extractor->OnEntry(nul), StatusIs(StatusCode::kInvalidArgument, HasSubstr("NUL")));

  GF_ASSERT_OK_AND_ASSIGN(extractor, LayerExtractor::Open(dest(), options));
  TarEntry long_name;
  long_name.type = TarType::kDirectory;
  long_name.name = std::string(33, 'x');
  EXPECT_THAT(extractor->OnEntry(long_name),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("max_path_bytes=32")));
  // The first error stops the extractor.
  long_name.name = "fine";
  EXPECT_THAT(extractor->OnEntry(long_name), StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT(extractor->Finish(), StatusIs(StatusCode::kResourceExhausted));
  EXPECT_FALSE(Exists(In("fine")));
}

TEST_F(ExtractTest, SymlinksToTheHostRootStayInside) {
  const std::string unique = "gpufleet-evil-" + std::to_string(getpid());
  GF_ASSERT_OK(
      Apply(MakeTar("add('x', type=S, linkname='/')\n"
                    "add('x/etc/" +
                    unique +
                    "', b'evil')\n"
                    "add('y', type=S, linkname='../../..')\n"
                    "add('y/" +
                    unique + "', b'evil')\n")));
  EXPECT_EQ(ReadFile(In("etc/" + unique)), "evil");
  EXPECT_EQ(ReadFile(In(unique)), "evil");
  EXPECT_FALSE(Exists("/etc/" + unique));
  EXPECT_FALSE(Exists("/" + unique));
  // A symlink to the sentinel's host path points at nothing in the root: refused, not followed
  // out, and not created either.
  EXPECT_THAT(
      Apply(MakeTar("add('z', type=S, linkname='" + outside() +
                    "')\n"
                    "add('z/" +
                    unique + "', b'evil')\n")),
      StatusIs(StatusCode::kFailedPrecondition, HasSubstr("symlink whose target does not exist")));
  // Once the root has that path, it is the one written.
  GF_ASSERT_OK(Apply(MakeTar("add('" + outside().substr(1) +
                             "/', type=D)\n"
                             "add('z/" +
                             unique + "', b'inside')\n")));
  EXPECT_EQ(ReadFile(In(outside().substr(1) + "/" + unique)), "inside");
  ExpectNothingOutside();
}

TEST_F(ExtractTest, FinalSymlinkIsReplacedNotFollowed) {
  const std::string victim = base_ + "/victim";
  std::ofstream(victim) << "original";
  GF_ASSERT_OK(Apply(MakeTar("add('file', type=S, linkname='" + victim +
                             "')\n"
                             "add('dir', type=S, linkname='" +
                             outside() +
                             "')\n"
                             "add('rel', type=S, linkname='../victim')\n")));
  GF_ASSERT_OK(
      Apply(MakeTar("add('file', b'pwned')\n"
                    "add('dir/', type=D)\n"
                    "add('dir/f', b'f')\n"
                    "add('rel', type=F)\n")));
  EXPECT_EQ(ReadFile(victim), "original");
  EXPECT_EQ(ReadFile(In("file")), "pwned");
  EXPECT_TRUE(S_ISDIR(Lstat(In("dir")).st_mode));
  EXPECT_EQ(ReadFile(In("dir/f")), "f");
  EXPECT_TRUE(S_ISFIFO(Lstat(In("rel")).st_mode));
  EXPECT_TRUE(S_ISREG(Lstat(victim).st_mode));
  EXPECT_TRUE(List(outside()).empty());
}

TEST_F(ExtractTest, WhiteoutsThroughSymlinksStayInside) {
  const std::string victim = base_ + "/victim";
  std::ofstream(victim) << "keep me";
  GF_ASSERT_OK(Apply(MakeTar("add('abs', type=S, linkname='" + base_ +
                             "')\n"
                             "add('up', type=S, linkname='../..')\n"
                             "add('victim', b'inside')\n")));
  GF_ASSERT_OK(
      Apply(MakeTar("add('abs/.wh.victim')\n"
                    "add('abs/.wh..wh..opq')\n"
                    "add('up/.wh..wh..opq')\n")));
  EXPECT_EQ(ReadFile(victim), "keep me");
  // "up" resolves to the root itself, whose opaque marker empties it of the lower layer.
  EXPECT_TRUE(List(dest()).empty());
  GF_ASSERT_OK(Apply(MakeTar("add('x', b'x')\nadd('y', type=S, linkname='/')\n")));
  GF_ASSERT_OK(Apply(MakeTar("add('y/.wh.x')\n")));
  EXPECT_EQ(List(dest()), (std::set<std::string>{"y"}));
  EXPECT_EQ(ReadFile(victim), "keep me");
  EXPECT_TRUE(List(outside()).empty());
}

TEST_F(ExtractTest, HardlinksCannotLeaveTheRoot) {
  const std::string victim = base_ + "/outside-file";
  std::ofstream(victim) << "secret";
  EXPECT_THAT(Apply(MakeTar("add('h', type=L, linkname='../outside-file')\n")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("leaves the destination")));
  EXPECT_THAT(Apply(MakeTar("add('h', type=L, linkname='" + victim + "')\n")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is absolute")));
  // Through a symlinked parent: resolved in the root, where there is no such file.
  EXPECT_THAT(Apply(MakeTar("add('s', type=S, linkname='..')\n"
                            "add('abs', type=S, linkname='" +
                            base_ +
                            "')\n"
                            "add('h', type=L, linkname='s/outside-file')\n")),
              StatusIs(StatusCode::kNotFound, HasSubstr("hardlink target")));
  EXPECT_THAT(Apply(MakeTar("add('h', type=L, linkname='abs/outside-file')\n")),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(Apply(MakeTar("add('r', type=S, linkname='/')\n"
                            "add('h', type=L, linkname='r/etc/passwd')\n")),
              StatusIs(StatusCode::kNotFound));
  // Where the root has one, that is the file linked.
  GF_ASSERT_OK(
      Apply(MakeTar("add('outside-file', b'inside')\n"
                    "add('h', type=L, linkname='s/outside-file')\n")));
  EXPECT_EQ(Lstat(In("h")).st_ino, Lstat(In("outside-file")).st_ino);
  EXPECT_EQ(ReadFile(In("h")), "inside");
  EXPECT_EQ(Lstat(victim).st_nlink, 1u);
  EXPECT_EQ(ReadFile(victim), "secret");
  // Missing targets and directories are refused.
  EXPECT_THAT(Apply(MakeTar("add('h2', type=L, linkname='nope')\n")),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(Apply(MakeTar("add('d/', type=D)\nadd('h3', type=L, linkname='d')\n")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is a directory")));
  EXPECT_TRUE(List(outside()).empty());
}

TEST_F(ExtractTest, LimitsAreEnforced) {
  ExtractOptions options;
  options.limits.max_entries = 3;
  EXPECT_THAT(Apply(MakeTar("for i in range(5): add('f%d' % i, b'x')\n"), options),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("max_entries=3")));
  EXPECT_FALSE(Exists(In("f3")));

  options = {};
  options.limits.max_total_bytes = 100;
  EXPECT_THAT(Apply(MakeTar("add('small', b'x' * 60)\nadd('big', b'y' * 60)\n"), options),
              StatusIs(StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("max_total_bytes=100"), HasSubstr("\"big\""))));
  EXPECT_FALSE(Exists(In("big")));

  options = {};
  options.limits.max_path_bytes = 10;
  EXPECT_THAT(Apply(MakeTar("add('a-name-longer-than-ten', b'x')\n"), options),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("max_path_bytes=10")));
  EXPECT_THAT(Apply(MakeTar("add('s', type=S, linkname='a-target-longer-than-ten')\n"), options),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("max_path_bytes=10")));
  ExpectNothingOutside();
}

TEST_F(ExtractTest, ShortFileFailsAtFinish) {
  GF_ASSERT_OK_AND_ASSIGN(auto extractor, LayerExtractor::Open(dest()));
  TarEntry file;
  file.name = "short";
  file.size = 10;
  file.mode = 0644;
  GF_ASSERT_OK(extractor->OnEntry(file));
  GF_ASSERT_OK(extractor->OnData(file, "abcd"));
  EXPECT_THAT(
      extractor->Finish(),
      StatusIs(StatusCode::kDataLoss, AllOf(HasSubstr("\"short\""), HasSubstr("6 bytes short"))));

  GF_ASSERT_OK_AND_ASSIGN(extractor, LayerExtractor::Open(dest()));
  GF_ASSERT_OK(extractor->OnEntry(file));
  EXPECT_THAT(extractor->OnData(file, "more than ten bytes"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("more data than its size")));
}

TEST_F(ExtractTest, WithoutPrivilegeOptions) {
  ExtractOptions options;
  options.devices = false;
  options.same_owner = false;
  ExtractStats stats;
  GF_ASSERT_OK(Apply(MakeTar(R"(
add("dev/null", type=C, devmajor=1, devminor=3)
add("dev/sda", type=tarfile.BLKTYPE, devmajor=8, devminor=0)
add("suid", b"x", mode=0o4755, uid=1234, gid=5678)
)"),
                     options, &stats));
  EXPECT_EQ(stats.skipped_devices, 2);
  EXPECT_FALSE(Exists(In("dev/null")));
  struct stat suid = Lstat(In("suid"));
  EXPECT_EQ(suid.st_mode & 07777, 0755u);
  EXPECT_EQ(suid.st_uid, geteuid());
}

TEST_F(ExtractTest, DestinationMustBeADirectory) {
  EXPECT_THAT(LayerExtractor::Open(base_ + "/missing").status(), StatusIs(StatusCode::kNotFound));
  std::ofstream(base_ + "/file") << "x";
  EXPECT_THAT(LayerExtractor::Open(base_ + "/file").status(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("Not a directory")));
}

}  // namespace
}  // namespace gpufleet::image
