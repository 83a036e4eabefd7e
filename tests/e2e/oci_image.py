#!/usr/bin/env python3
"""Test images for the image e2e tests: OCI image layouts built from tar layers written with
Python's tarfile (so a test controls every header: PAX records, hardlinks, whiteouts, hostile
paths), and a tree comparison (content, type, mode, owner, mtime, link target, xattrs, hardlink
groups) between two unpacked root filesystems.

  oci_image.py layout DIR TAG SCENARIO [--compression gzip|zstd|none]
  oci_image.py compare ROOT_A ROOT_B   (as non-root: setuid/setgid and umoci's
                                        user.rootlesscontainers xattr are not compared)
  oci_image.py scenarios
"""
import gzip
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile

MTIME = 1714564800  # 2024-05-01T12:00:00Z


def _info(name, kind=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, mtime=MTIME, **extra):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.uname, ti.gname = ("root", "root") if uid == 0 else ("user", "user")
    ti.mtime = mtime
    for k, v in extra.items():
        setattr(ti, k, v)
    return ti


class Layer:
    """One tar layer, entries in the order added."""

    def __init__(self, fmt=tarfile.PAX_FORMAT):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=fmt)

    def dir(self, name, mode=0o755, **kw):
        self.tar.addfile(_info(name, tarfile.DIRTYPE, mode, **kw))
        return self

    def file(self, name, data, mode=0o644, **kw):
        if isinstance(data, str):
            data = data.encode()
        ti = _info(name, tarfile.REGTYPE, mode, **kw)
        ti.size = len(data)
        self.tar.addfile(ti, io.BytesIO(data))
        return self

    def symlink(self, name, target, **kw):
        self.tar.addfile(_info(name, tarfile.SYMTYPE, 0o777, linkname=target, **kw))
        return self

    def hardlink(self, name, target, **kw):
        self.tar.addfile(_info(name, tarfile.LNKTYPE, 0o644, linkname=target, **kw))
        return self

    def fifo(self, name, **kw):
        self.tar.addfile(_info(name, tarfile.FIFOTYPE, 0o600, **kw))
        return self

    def whiteout(self, name):
        d, b = os.path.split(name)
        return self.file(os.path.join(d, ".wh." + b), b"", mode=0o600)

    def opaque(self, directory):
        return self.file(os.path.join(directory, ".wh..wh..opq"), b"", mode=0o600)

    def bytes(self):
        self.tar.close()
        return self.buf.getvalue()


def _random_bytes(n, seed):
    out = bytearray()
    h = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += h * 8 if len(out) % 3 else h
    return bytes(out[:n])


def scenario_multilayer():
    """Many small files, large files, hardlinks, symlinks, whiteouts, opaque dirs, PAX headers."""
    base = Layer()
    base.dir("usr").dir("usr/lib").dir("usr/bin").dir("etc").dir("var").dir("var/cache", mode=0o700)
    base.symlink("lib", "usr/lib").symlink("lib64", "/usr/lib")
    for i in range(300):
        base.file(f"usr/share/doc/pkg{i // 30}/file{i}.txt", f"file {i}\n" * (i % 17 + 1))
    base.file("usr/lib/libbig.so.1", _random_bytes(6 << 20, 1), mode=0o755)
    base.hardlink("usr/lib/libbig.so", "usr/lib/libbig.so.1")
    base.file("usr/bin/tool", b"#!/bin/sh\necho tool\n", mode=0o4755)
    base.file("etc/config", "a=1\n", mode=0o640, uid=1000, gid=1000)
    base.file("etc/old", "to be deleted\n")
    base.dir("var/cache/apt").file("var/cache/apt/pkgcache.bin", _random_bytes(100000, 2))
    base.dir("opt").dir("opt/app").file("opt/app/keep-not", "lower\n")
    long_dir = "usr/share/" + "very-long-directory-name-" * 6
    base.dir(long_dir).file(long_dir + "/" + "x" * 120, "long name\n")
    base.fifo("var/run-fifo")
    up = Layer()
    up.file("etc/config", "a=2\n", mode=0o600, uid=1000, gid=1000)
    up.whiteout("etc/old")
    up.opaque("opt/app").file("opt/app/new", "upper\n")
    up.file("lib/libfromupper.so", _random_bytes(5000, 3))  # through the lib -> usr/lib symlink
    t = _info("etc/with-xattr", tarfile.REGTYPE, 0o644)
    t.pax_headers = {"SCHILY.xattr.user.gpufleet": "test-value"}
    data = b"has an xattr\n"
    t.size = len(data)
    up.tar.addfile(t, io.BytesIO(data))
    nano = _info("etc/nanotime", tarfile.REGTYPE, 0o644)
    nano.pax_headers = {"mtime": "1714564800.123456789"}
    nano.size = 3
    up.tar.addfile(nano, io.BytesIO(b"ns\n"))
    third = Layer()
    third.file("usr/lib/libbig.so.1", _random_bytes(3 << 20, 4), mode=0o755)  # breaks the old hardlink pair
    third.dir("var/cache", mode=0o750)
    third.file("usr/share/doc/pkg0/file0.txt", "replaced\n")
    return [base.bytes(), up.bytes(), third.bytes()]


def _one(name_entries):
    layer = Layer()
    for e in name_entries:
        e(layer)
    return [layer.bytes()]


SCENARIOS = {
    "multilayer": scenario_multilayer,
    "traversal": lambda: _one([lambda l: l.dir("ok"), lambda l: l.file("../escaped-traversal", "evil\n")]),
    "absolute": lambda: _one([lambda l: l.file("/tmp/escaped-absolute", "evil\n")]),
    "symlink-escape": lambda: [Layer().symlink("out", "../../../..").bytes(), Layer().file("out/escaped-symlink", "evil\n").bytes()],
    "hardlink-escape": lambda: _one([lambda l: l.hardlink("stolen", "../../outside-secret")]),
    "bomb": lambda: _one([lambda l: l.file("zeros", b"\0" * (400 << 20))]),
}


def _compress(data, compression):
    if compression == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
    if compression == "zstd":
        out = subprocess.run(["zstd", "-q", "-c", "-3"], input=data, stdout=subprocess.PIPE, check=True).stdout
        return out, "application/vnd.oci.image.layer.v1.tar+zstd"
    return data, "application/vnd.oci.image.layer.v1.tar"


def _blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return "sha256:" + digest


def write_layout(layout, tag, layers, compression="gzip"):
    os.makedirs(layout, exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    descriptors, diff_ids = [], []
    for tar in layers:
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
        blob, media = _compress(tar, compression)
        descriptors.append({"mediaType": media, "digest": _blob(layout, blob), "size": len(blob)})
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": _blob(layout, config), "size": len(config)},
                           "layers": descriptors}).encode()
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                "digest": _blob(layout, manifest), "size": len(manifest),
                                                "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)


def describe(root, rootless=False):
    """path -> a tuple of everything a user of the rootfs relies on. rootless: as an unprivileged
    unpack leaves it (umoci records owners in user.rootlesscontainers; gpufleet drops
    setuid/setgid on files it cannot give their owners)."""
    out, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            kind = stat.S_IFMT(st.st_mode)
            mode = stat.S_IMODE(st.st_mode) & (0o1777 if rootless else 0o7777)
            entry = {"type": kind, "mode": oct(mode), "uid": st.st_uid, "gid": st.st_gid}
            if stat.S_ISREG(kind):
                with open(path, "rb") as f:
                    entry["sha256"] = hashlib.sha256(f.read()).hexdigest()
                entry["mtime_ns"] = st.st_mtime_ns
                if st.st_nlink > 1:
                    inodes.setdefault(st.st_ino, []).append(rel)
            elif stat.S_ISLNK(kind):
                entry["target"] = os.readlink(path)
            elif stat.S_ISCHR(kind) or stat.S_ISBLK(kind):
                entry["rdev"] = st.st_rdev
            try:
                entry["xattrs"] = sorted((k, os.getxattr(path, k, follow_symlinks=False))
                                         for k in os.listxattr(path, follow_symlinks=False)
                                         if not (rootless and k == "user.rootlesscontainers"))
            except OSError:
                pass
            out[rel] = entry
    for paths in inodes.values():
        for p in paths:
            out[p]["links"] = sorted(paths)
    return out


def compare(a, b):
    rootless = os.geteuid() != 0
    da, db = describe(a, rootless), describe(b, rootless)
    problems = []
    for p in sorted(set(da) | set(db)):
        if p not in da:
            problems.append(f"only in {b}: {p}")
        elif p not in db:
            problems.append(f"only in {a}: {p}")
        elif da[p] != db[p]:
            problems.append(f"{p}: {da[p]} != {db[p]}")
    for line in problems[:50]:
        print(line)
    print(f"compared {len(da)} entries: {len(problems)} differences")
    return 1 if problems else 0


def main(argv):
    if len(argv) >= 4 and argv[0] == "layout":
        compression = "gzip"
        if "--compression" in argv:
            compression = argv[argv.index("--compression") + 1]
        write_layout(argv[1], argv[2], SCENARIOS[argv[3]](), compression)
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(argv[1], argv[2])
    if argv[:1] == ["scenarios"]:
        print("\n".join(SCENARIOS))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
