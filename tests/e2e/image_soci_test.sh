#!/usr/bin/env bash
# SOCI indexes against a real Distribution registry: `gpufleet image index` (v1, found through
# the referrers tag fallback this registry needs), zTOCs that flatc decodes with the schema
# alone, `image cat` serving files byte for byte from spans (whiteouts, hardlinks, symlinks, PAX
# names), `image ls-files`, and `image convert` (v2) whose image still pulls.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/image_lib.sh"
require_image_tools
trap 'stop_image_servers; cleanup' EXIT
start_registry
G() { "$GPUFLEET" image "$@" --plain-http; }
REF=$REGISTRY/test/soci:v1

push_scenario multilayer test/soci:v1
reference_rootfs test/soci:v1 "$WORK/bundle"
ROOT=$WORK/bundle/rootfs

echo "--- without an index, cat streams the layers"
G cat "$REF" /etc/config >"$WORK/out" || fail "cat without index"
cmp -s "$WORK/out" "$ROOT/etc/config" || fail "cat without index: wrong bytes"

echo "--- gpufleet image index (v1, 1 MiB spans, every layer)"
G index "$REF" --span-size 1 --min-layer-size 0 >"$WORK/index.out" 2>"$WORK/index.err" || fail "index: $(cat "$WORK/index.err")"
grep -q "3 layers indexed" "$WORK/index.out" || fail "index: $(cat "$WORK/index.out")"
INDEX=$(grep -o 'SOCI index sha256:[0-9a-f]*' "$WORK/index.out" | cut -d' ' -f3)
skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/soci@$INDEX" >"$WORK/index.json" || fail "index manifest not in the registry"
MANIFEST=$(skopeo inspect --raw --tls-verify=false "docker://$REF" | sha256sum | cut -d' ' -f1)
python3 - "$WORK/index.json" "sha256:$MANIFEST" <<'PY' || fail "SOCI index manifest fields"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["mediaType"] == "application/vnd.oci.image.manifest.v1+json", m
assert m["config"] == {"mediaType": "application/vnd.amazon.soci.index.v1+json",
    "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2}, m["config"]
assert m["subject"]["digest"] == sys.argv[2], m["subject"]
assert len(m["layers"]) == 3
for l in m["layers"]:
    assert l["mediaType"] == "application/octet-stream"
    a = l["annotations"]
    assert a["com.amazon.soci.image-layer-mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    assert a["com.amazon.soci.image-layer-digest"].startswith("sha256:")
    assert a["com.amazon.soci.span-size"] == str(1 << 20)
assert m["annotations"]["com.amazon.soci.build-tool-identifier"]
# Layer 1 has an xattr, so it must not disable them; layer 0 has none.
assert "com.amazon.soci.disable-xattrs" not in m["layers"][1]["annotations"]
assert m["layers"][0]["annotations"].get("com.amazon.soci.disable-xattrs") == "true"
PY
echo "--- with no options, index covers every gzip layer, however small"
push_scenario multilayer test/plain:v1
G index "$REGISTRY/test/plain:v1" >"$WORK/plain.out" 2>/dev/null || fail "index with defaults"
grep -q "3 layers indexed, 0 skipped" "$WORK/plain.out" || fail "index with defaults: $(cat "$WORK/plain.out")"
G cat "$REGISTRY/test/plain:v1" usr/lib/libbig.so -v 2>"$WORK/cat.err" | cmp -s - "$ROOT/usr/lib/libbig.so" || fail "cat after a default index"
grep -q "through its zTOC" "$WORK/cat.err" || fail "cat after a default index: $(cat "$WORK/cat.err")"

echo "--- the referrers tag (the registry has no referrers API) lists the index"
skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/soci:sha256-$MANIFEST" |
  python3 -c 'import json,sys; m=json.load(sys.stdin); assert any(d["digest"]=="'"$INDEX"'" and d["artifactType"]=="application/vnd.amazon.soci.index.v1+json" for d in m["manifests"]), m' ||
  fail "referrers tag"

echo "--- zTOCs decode with flatc from the schema alone"
if command -v flatc >/dev/null; then
  ZTOC=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' "$WORK/index.json")
  curl -sf "http://$REGISTRY/v2/test/soci/blobs/$ZTOC" -o "$WORK/ztoc.bin" || fail "fetch ztoc"
  (cd "$WORK" && flatc --json --strict-json --raw-binary "$HERE/../../proto/ztoc/ztoc.fbs" -- ztoc.bin) || fail "flatc cannot decode the zTOC"
  python3 - "$WORK/ztoc.json" <<'PY' || fail "decoded zTOC"
import json, sys
z = json.load(open(sys.argv[1]))
assert z["version"] == "0.9", z["version"]
names = [f["name"] for f in z["toc"]["metadata"]]
assert "usr/lib/libbig.so.1" in names and "usr/lib/libbig.so" in names, names[:5]
ci = z["compression_info"]
assert ci["max_span_id"] >= 5, ci["max_span_id"]
assert len(ci["span_digests"]) == ci["max_span_id"] + 1
PY
fi

echo "--- cat through the zTOCs: byte for byte, fetching only spans"
G cat "$REF" usr/lib/libbig.so.1 -v >"$WORK/big" 2>"$WORK/cat.err" || fail "cat libbig: $(cat "$WORK/cat.err")"
cmp -s "$WORK/big" "$ROOT/usr/lib/libbig.so.1" || fail "libbig.so.1 differs"
grep -q "through its zTOC" "$WORK/cat.err" || fail "not served from the zTOC: $(cat "$WORK/cat.err")"
G cat "$REF" /etc/config -v >"$WORK/small" 2>"$WORK/cat.err" || fail "cat small"
fetched=$(grep -o '[0-9]* compressed bytes fetched' "$WORK/cat.err" | cut -d' ' -f1)
layer_size=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][1]["size"])' <(skopeo inspect --raw --tls-verify=false "docker://$REF"))
[[ $fetched -le $layer_size ]] || fail "fetched $fetched bytes for a small file"
# Every regular file of the rootfs (many small ones, PAX names, hardlinks, files behind symlinks).
count=0
while IFS= read -r -d '' f; do
  rel=${f#"$ROOT"/}
  G cat "$REF" "$rel" >"$WORK/got" || fail "cat $rel"
  cmp -s "$WORK/got" "$f" || fail "cat $rel: wrong bytes"
  count=$((count + 1))
done < <(find "$ROOT" -type f -print0 | shuf -z -n 40 --random-source=<(yes))
for rel in usr/lib/libbig.so usr/share/doc/pkg0/file0.txt lib/libfromupper.so etc/with-xattr etc/nanotime \
           "usr/share/$(printf 'very-long-directory-name-%.0s' 1 2 3 4 5 6)/$(printf 'x%.0s' $(seq 120))"; do
  G cat "$REF" "$rel" >"$WORK/got" || fail "cat $rel"
  cmp -s "$WORK/got" "$ROOT/$rel" || fail "cat $rel: wrong bytes"
done
echo "compared $count random files and 6 special ones"
for deleted in etc/old opt/app/keep-not; do
  if G cat "$REF" "$deleted" 2>"$WORK/err" >/dev/null; then fail "cat of whiteout-deleted $deleted succeeded"; fi
  grep -q "whiteout" "$WORK/err" || fail "cat $deleted: $(cat "$WORK/err")"
done
if G cat "$REF" usr/lib 2>"$WORK/err" >/dev/null; then fail "cat of a directory"; fi
grep -q "directory" "$WORK/err" || fail "cat dir: $(cat "$WORK/err")"

echo "--- pull inflates indexed layers span by span, same rootfs"
G pull "$REF" --dest "$WORK/indexed-rootfs" --inflate-threads 2 --progress none >"$WORK/pull.out" || fail "indexed pull"
grep -q "(3 through a zTOC)" "$WORK/pull.out" || fail "indexed pull did not use the zTOCs: $(cat "$WORK/pull.out")"
python3 "$HERE/oci_image.py" compare "$ROOT" "$WORK/indexed-rootfs" || fail "indexed pull rootfs differs"

echo "--- ls-files lists each layer from its zTOC"
G ls-files "$REF" >"$WORK/ls" || fail "ls-files"
[[ $(grep -c '^# layer .* (zTOC)' "$WORK/ls") == 3 ]] || fail "ls-files: $(head -3 "$WORK/ls")"
grep -q $'^hardlink\t0644\t0:0\t0\tusr/lib/libbig.so -> usr/lib/libbig.so.1' "$WORK/ls" || fail "ls-files: no hardlink line"

echo "--- gpufleet image convert (SOCI index v2) and pulling the SOCI-enabled image"
G convert "$REF" v1-soci --span-size 1 --min-layer-size 0 >"$WORK/convert.out" 2>/dev/null || fail "convert"
skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/soci:v1-soci" >"$WORK/converted.json"
python3 - "$WORK/converted.json" <<'PY' || fail "converted image index"
import json, sys
i = json.load(open(sys.argv[1]))
assert i["mediaType"] == "application/vnd.oci.image.index.v1+json"
image = [d for d in i["manifests"] if "com.amazon.soci.index-digest" in d.get("annotations", {})]
soci = [d for d in i["manifests"] if d.get("artifactType") == "application/vnd.amazon.soci.index.v2+json"]
assert len(image) == 1 and len(soci) == 1, i
assert image[0]["annotations"]["com.amazon.soci.index-digest"] == soci[0]["digest"]
assert soci[0]["annotations"]["com.amazon.soci.image-manifest-digest"] == image[0]["digest"]
assert soci[0]["platform"] == image[0]["platform"] == {"os": "linux", "architecture": "amd64"}
PY
G pull "$REGISTRY/test/soci:v1-soci" --dest "$WORK/converted-rootfs" --progress none >/dev/null || fail "pull of the converted image"
python3 "$HERE/oci_image.py" compare "$ROOT" "$WORK/converted-rootfs" || fail "converted image rootfs differs"
G cat "$REGISTRY/test/soci:v1-soci" usr/lib/libbig.so.1 -v >"$WORK/big2" 2>"$WORK/cat.err" || fail "cat through v2"
cmp -s "$WORK/big2" "$ROOT/usr/lib/libbig.so.1" && grep -q "through its zTOC" "$WORK/cat.err" || fail "v2 cat: $(cat "$WORK/cat.err")"
echo "--- convert --zstd-seekable: seekable zstd layers with zTOCs, same tar bytes"
G convert "$REF" v1-zstd --zstd-seekable --span-size 1 --min-layer-size 0 >/dev/null 2>"$WORK/zstd.err" || fail "convert --zstd-seekable: $(cat "$WORK/zstd.err")"
ZREF=$REGISTRY/test/soci:v1-zstd
# Any zstd decoder reads the layers (the seek table is a skippable frame) and gets the same tar:
# the config's diffIDs still hold.
skopeo inspect --raw --tls-verify=false "docker://$ZREF" >"$WORK/zindex.json"
ZMANIFEST=$(python3 -c 'import json,sys; print([d for d in json.load(open(sys.argv[1]))["manifests"] if "com.amazon.soci.index-digest" in d.get("annotations",{})][0]["digest"])' "$WORK/zindex.json")
skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/soci@$ZMANIFEST" >"$WORK/zmanifest.json"
CONFIG=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"])' "$WORK/zmanifest.json")
curl -sf "http://$REGISTRY/v2/test/soci/blobs/$CONFIG" -o "$WORK/config.json"
python3 - "$WORK/zmanifest.json" "$WORK/config.json" "$REGISTRY" <<'PY' || fail "seekable zstd layers"
import hashlib, json, subprocess, sys, urllib.request
m, c, reg = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
for layer, diff_id in zip(m["layers"], c["rootfs"]["diff_ids"]):
    assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd", layer
    blob = urllib.request.urlopen(f"http://{reg}/v2/test/soci/blobs/{layer['digest']}").read()
    assert blob[-4:] == bytes.fromhex("b1ea928f"), "no seekable footer"
    tar = subprocess.run(["zstd", "-dc"], input=blob, stdout=subprocess.PIPE, check=True).stdout
    assert "sha256:" + hashlib.sha256(tar).hexdigest() == diff_id, "zstd -d gives other tar bytes"
PY
G pull "$ZREF" --dest "$WORK/zstd-rootfs" --inflate-threads 2 --progress none >"$WORK/pull.out" || fail "pull of the zstd image"
grep -q "(3 through a zTOC)" "$WORK/pull.out" || fail "zstd pull did not use the zTOCs: $(cat "$WORK/pull.out")"
python3 "$HERE/oci_image.py" compare "$ROOT" "$WORK/zstd-rootfs" || fail "zstd rootfs differs"
G cat "$ZREF" usr/lib/libbig.so.1 -v >"$WORK/zbig" 2>"$WORK/cat.err" || fail "cat through a zstd zTOC"
cmp -s "$WORK/zbig" "$ROOT/usr/lib/libbig.so.1" && grep -q "through its zTOC" "$WORK/cat.err" || fail "zstd cat: $(cat "$WORK/cat.err")"
G cat "$ZREF" etc/config >"$WORK/zsmall" && cmp -s "$WORK/zsmall" "$ROOT/etc/config" || fail "zstd cat of a small file"
echo "PASS"
