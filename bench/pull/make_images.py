#!/usr/bin/env python3
"""Builds the pull benchmark's images as OCI layouts (cached: rebuilt only when missing).

  make_images.py CACHE_DIR
writes CACHE_DIR/cublas (one gzip layer: the CUDA toolkit's cuBLAS libraries, or generated data
of similar compressibility when the toolkit is absent) and CACHE_DIR/tenlayer (10 gzip layers,
about 1.5 GiB of files from /usr/lib and the CUDA toolkit), and prints what it built as JSON.
Layers are compressed with `gzip -6`, as docker and buildkit do, two at a time.
"""
import glob
import hashlib
import json
import os
import subprocess
import sys
import tarfile

CUDA_LIBS = sorted({os.path.realpath(p) for p in glob.glob("/usr/local/cuda*/lib64/libcublas*.so.*")})
TEN_LAYER_BYTES = 1536 << 20


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def generated_libraries(path, size):
    """Binary-like bytes (~70% compressible like shared libraries) when there is no CUDA toolkit."""
    rng = hashlib.sha256(b"gpufleet-bench")
    with open(path, "wb") as f:
        written = 0
        while written < size:
            rng = hashlib.sha256(rng.digest())
            block = rng.digest() * 2 + bytes(range(64)) * 3 + b"cublasLtMatmulAlgo\0" * 4
            f.write(block)
            written += len(block)


def write_tar(path, members):
    """members: list of (source path, name in the tar)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for source, name in members:
            tar.add(source, arcname=name, recursive=False)


def collect_files(roots, limit):
    files, total = [], 0
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                p = os.path.join(dirpath, name)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if not (os.path.isfile(p) or os.path.islink(p)) or not os.access(p, os.R_OK):
                    continue
                files.append((p, st.st_size if not os.path.islink(p) else 0))
                total += files[-1][1]
                if total >= limit:
                    return files
    return files


def write_layout(layout, tars):
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    diff_ids, layers = [], []
    subprocess.run(["xargs", "-P2", "-n1", "gzip", "-6", "-n", "-k", "-f"], input="\n".join(tars).encode(), check=True)
    for t in tars:
        diff_ids.append(sha256_file(t))
        gz = t + ".gz"
        digest = sha256_file(gz)
        size = os.path.getsize(gz)
        os.replace(gz, os.path.join(layout, "blobs", "sha256", digest[7:]))
        os.remove(t)
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size})

    def blob(data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(layout, "blobs", "sha256", d), "wb") as f:
            f.write(data)
        return "sha256:" + d, len(data)

    cd, cs = blob(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode())
    md, ms = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                              "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
                              "layers": layers}).encode())
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
                                                      "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}, f)
    return {"layers": len(layers), "bytes_compressed": sum(l["size"] for l in layers)}


def build(cache, name, make_tars):
    layout = os.path.join(cache, name)
    done = os.path.join(layout, "done.json")
    if os.path.exists(done):
        return json.load(open(done))
    subprocess.run(["rm", "-rf", layout], check=True)
    os.makedirs(layout)
    tars, uncompressed, source = make_tars(layout)
    info = write_layout(layout, tars)
    info.update({"bytes_uncompressed": uncompressed, "source": source})
    json.dump(info, open(done, "w"))
    return info


def cublas_tars(layout):
    tar = os.path.join(layout, "layer0.tar")
    if CUDA_LIBS:
        write_tar(tar, [(p, "usr/local/cuda/lib64/" + os.path.basename(p)) for p in CUDA_LIBS])
        source = "CUDA toolkit cuBLAS: " + ", ".join(os.path.basename(p) for p in CUDA_LIBS)
    else:
        lib = os.path.join(layout, "libcublasLt.so.generated")
        generated_libraries(lib, 560 << 20)
        write_tar(tar, [(lib, "usr/local/cuda/lib64/libcublasLt.so")])
        os.remove(lib)
        source = "generated (no CUDA toolkit)"
    return [tar], os.path.getsize(tar), source


def ten_layer_tars(layout):
    roots = [r for r in ["/usr/lib", "/usr/local/cuda/lib64", "/usr/local/cuda"] if os.path.isdir(r)]
    files = collect_files(roots, TEN_LAYER_BYTES)
    per_layer = TEN_LAYER_BYTES // 10
    tars, current, size, total = [], [], 0, 0
    for p, n in files:
        current.append((p, p.lstrip("/")))
        size += n
        if size >= per_layer and len(tars) < 9:
            tars.append(current)
            current, size = [], 0
    tars.append(current)
    paths = []
    for i, members in enumerate(tars):
        t = os.path.join(layout, f"layer{i}.tar")
        write_tar(t, members)
        total += os.path.getsize(t)
        paths.append(t)
    return paths, total, "files of " + ", ".join(roots)


def main():
    cache = sys.argv[1]
    os.makedirs(cache, exist_ok=True)
    out = {"cublas": build(cache, "cublas", cublas_tars), "tenlayer": build(cache, "tenlayer", ten_layer_tars)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
