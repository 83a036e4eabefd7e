#!/usr/bin/env bash
# Installs every Debian package gpufleet needs to build, test, fuzz and benchmark.
# Idempotent: when everything is present it only runs one dpkg query and exits.
# Only Debian packages via apt-get; nothing is downloaded from anywhere else.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build git pkg-config
  clang-14 libclang-rt-14-dev            # libFuzzer and sanitizers for `make fuzz`
  # libraries (one per job, see docs/ARCHITECTURE.md)
  libcli11-dev                           # command line
  libspdlog-dev libfmt-dev               # logging
  nlohmann-json3-dev                     # JSON DOM, merge/JSON patch
  libyaml-cpp-dev                        # YAML
  libgtest-dev libgmock-dev googletest   # tests
  libbenchmark-dev                       # micro benchmarks
  libsqlite3-dev                         # API server storage
  libssl-dev                             # TLS, certificates, SHA-256
  libboost-dev                           # Boost.Beast / Asio HTTP server
  libcurl4-openssl-dev                   # HTTP client (kube client, benchmark load generators)
  libprotobuf-dev protobuf-compiler      # Kubernetes protobuf bodies (proto/), device plugin messages
  libgrpc++-dev protobuf-compiler-grpc   # kubelet device plugin API over gRPC (src/agent)
  zlib1g-dev                             # gzip checkpoints, SOCI-compatible (src/image)
  flatbuffers-compiler libflatbuffers-dev  # the zTOC, SOCI's flatbuffers format (proto/ztoc)
  libisal-dev                            # ISA-L igzip: the fast inflate of image layers (src/image)
  libzstd-dev zstd                       # zstd layers (src/image); the zstd CLI makes test layers
  docker-registry                        # the Distribution registry, started by the image tests
  skopeo umoci                           # build and push test images; umoci unpack is the reference rootfs
  containerd                             # `ctr images pull`: the pull benchmark's baseline
  isal                                   # igzip CLI: the pull benchmark's floor (igzip -> tar)
  python3                                # bench/run summariser, e2e JSON checks
  curl                                   # e2e tests of the API server (raw HTTP requests)
  python3-kubernetes                     # second, independent API client in the e2e tests
  nghttp2-server                         # nghttpd: an HTTP/2 server for the kube transport h2 test
  libpugixml-dev                         # XML (EC2 Query API responses, emulator and client)
  libjemalloc-dev                        # allocator of the gpufleet binary (CMakeLists.txt)
  awscli                                 # the real aws CLI (v2) against the EC2 emulator in tests
  python3-boto3                          # boto3, the second EC2 client in the emulator tests
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are missing or older than a day.
if [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mtime -1 2>/dev/null | head -1) ]]; then
  $SUDO apt-get update -qq
fi
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  # A stale list can name versions the mirror no longer has: refresh once and retry.
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
