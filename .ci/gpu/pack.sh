#!/usr/bin/env bash
# Build everything the GPU machine needs to run segtool's GPU checks, in parts
# the device tool can carry one per call (64 MiB a call, working tree included):
#
#   .gpu/p1 ... .gpu/pN   each: bundle.part-NN (<= PART_MB MiB), parts.sha256,
#                         on-device.sh; the last also verify.sh + verify_report.py
#
# The bundle (one plain tar, split) holds:
#   runtime.tar.xz        segtool built from a clean clone of HEAD (never the
#                         working tree, which others may be editing) + its
#                         OpenCV libraries (pack-runtime.sh)
#   ort-cuda-sm90.tar.xz  ONNX Runtime 1.29.0 + CUDA 13 provider (pack-ort-cuda.sh)
#   inputs.tar            inputs/models (the three shared models) and
#                         inputs/p3m (images, alphas) for verify.sh
#
# Usage: .ci/gpu/pack.sh            (from anywhere in the repo)
# Environment:
#   SHARED   the shared folder (default: ../shared beside the repo)
#   REF      what to build (default HEAD); BIN=FILE packs that binary instead
#   PART_MB  largest part in MiB (default 56: a part + the ~2 MiB tree < 64 MiB)
#   GPU_DIR  output folder (default REPO/.gpu; must be ignored by git)
#   FORCE=1  rebuild the ONNX Runtime archive even when it exists
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
shared=$(cd "${SHARED:-$repo/../shared}" 2>/dev/null && pwd) || { echo "pack: shared folder not found: set SHARED" >&2; exit 1; }
gpu=${GPU_DIR:-$repo/.gpu}
part_mb=${PART_MB:-56}
ref=${REF:-HEAD}
cd "$repo"

# 1. .gpu must be ignored, or it would travel with every call's working tree.
mkdir -p "$gpu"
gpu=$(cd "$gpu" && pwd)
rel=${gpu#"$repo"/}
if ! git check-ignore -q "$rel/x"; then
  exclude=$(git rev-parse --git-path info/exclude)
  mkdir -p "$(dirname "$exclude")"
  echo "/$rel/" >> "$exclude"
  echo "pack: added /$rel/ to $exclude"
fi
build=$gpu/build
mkdir -p "$build" "$gpu/cache"

# 2. segtool from a clean clone: the working tree may be mid-edit.
if [ -n "${BIN:-}" ]; then
  segtool_bin=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
  what="$BIN (given)"
else
  clone=$(mktemp -d)
  trap 'rm -rf "$clone"' EXIT
  echo "pack: building segtool from a clean clone of $ref"
  git clone -q "$repo" "$clone/src"
  git -C "$clone/src" checkout -q "$ref"
  make -C "$clone/src" build >"$build/make-build.log" 2>&1 || { tail -30 "$build/make-build.log" >&2; echo "pack: make build failed" >&2; exit 1; }
  segtool_bin=$clone/src/bin/segtool
  what="$ref = $(git rev-parse --short "$ref")"
fi

# 3. The pieces.
if [ "${FORCE:-0}" = 1 ] || [ ! -f "$build/ort-cuda-sm90.tar.xz" ]; then
  SHARED=$shared bash "$here/pack-ort-cuda.sh" "$build/ort-cuda-sm90.tar.xz" "$gpu/cache"
else
  echo "pack: $build/ort-cuda-sm90.tar.xz exists (FORCE=1 rebuilds it)"
fi
bash "$here/pack-runtime.sh" "$segtool_bin" "$build/runtime.tar.xz"

inp=$build/inputs-src
rm -rf "$inp"; mkdir -p "$inp/inputs/models" "$inp/inputs/p3m"
cp "$shared"/models/*.onnx "$shared"/models/README.md "$inp/inputs/models/"
cp "$shared"/models/LICENSE* "$inp/inputs/models/" 2>/dev/null || true
cp -r "$shared/data/p3m/images" "$shared/data/p3m/alphas" "$inp/inputs/p3m/"
cp "$shared"/data/p3m/LICENSE* "$inp/inputs/p3m/" 2>/dev/null || true
chmod -R u+w "$inp"
tar -cf "$build/inputs.tar" -C "$inp" inputs
rm -rf "$inp"

# 4. One bundle, split into parts.
b=$build/bundle
rm -rf "$b"; mkdir -p "$b"
ln "$build/runtime.tar.xz" "$build/ort-cuda-sm90.tar.xz" "$build/inputs.tar" "$b/" 2>/dev/null ||
  cp "$build/runtime.tar.xz" "$build/ort-cuda-sm90.tar.xz" "$build/inputs.tar" "$b/"
(cd "$b" && sha256sum runtime.tar.xz ort-cuda-sm90.tar.xz inputs.tar > MANIFEST.sha256)
{
  echo "segtool GPU bundle, packed $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "segtool: $what"
  tar -xJOf "$build/runtime.tar.xz" rt/RUNTIME.txt | sed 's/^/  /'
  tar -xJOf "$build/ort-cuda-sm90.tar.xz" lib/ORT-CUDA.txt | head -3 | sed 's/^/  /'
  echo "inputs: $(tar -tf "$build/inputs.tar" | grep -c -v '/$') files"
} > "$b/BUNDLE.txt"
tar -cf "$build/bundle.tar" -C "$b" BUNDLE.txt MANIFEST.sha256 runtime.tar.xz ort-cuda-sm90.tar.xz inputs.tar
rm -rf "$b"

rm -rf "$gpu"/p[0-9]* "$build/parts"
mkdir -p "$build/parts"
split -b "${part_mb}m" -d -a 2 "$build/bundle.tar" "$build/parts/bundle.part-"
parts=("$build"/parts/bundle.part-*)
n=${#parts[@]}
(cd "$build/parts" && sha256sum bundle.part-* && cd .. && sha256sum bundle.tar) > "$build/parts.sha256"
for i in $(seq 1 "$n"); do
  d=$gpu/p$i
  mkdir -p "$d"
  mv "${parts[$((i - 1))]}" "$d/"
  cp "$build/parts.sha256" "$here/on-device.sh" "$d/"
done
cp "$here/verify.sh" "$here/verify_report.py" "$gpu/p$n/"
rm -f "$build/bundle.tar"; rmdir "$build/parts"

# 5. Sizes and the device calls.
tree=$(git ls-files -co --exclude-standard -z | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
echo
echo "pack: $n parts in $gpu (working tree that travels with each call: $((tree / 1024)) KiB)"
ok=1
for i in $(seq 1 "$n"); do
  s=$(du -cb "$gpu/p$i" | tail -1 | cut -f1)
  awk -v i="$i" -v s="$s" -v t="$tree" 'BEGIN { printf "  .gpu/p%d  %5.1f MiB  (+ tree = %.1f MiB of 64)\n", i, s / 1048576, (s + t) / 1048576 }'
  [ $((s + tree)) -lt $((63 * 1048576)) ] || ok=0
done
[ "$ok" = 1 ] || echo "pack: WARNING: a part with the tree is over 63 MiB: lower PART_MB" >&2

calls=$gpu/CALLS.md
{
  echo "# Device calls for this pack ($(date -u +%Y-%m-%dT%H:%M:%SZ), segtool $what)"
  echo
  echo "Make them back to back: the machine stays warm only ~30 s after a call."
  echo "If a reply says warm: false before the last call, start again from call 1."
  echo
  for i in $(seq 1 "$n"); do
    p=.gpu/p$i
    if [ "$i" -lt "$n" ]; then
      cmd="bash $p/on-device.sh stage $p/bundle.part-*"
      to=180
    else
      cmd="bash $p/on-device.sh stage $p/bundle.part-* --last && eval \"\$(bash $p/on-device.sh env)\" && bash $p/verify.sh"
      to=600
    fi
    echo "call $i: carry [\"$p\"]  timeout_s $to"
    echo "  $cmd"
    echo
  done
  echo "Again on a warm machine (nothing to carry; scripts from the working tree):"
  echo "  eval \"\$(bash .ci/gpu/on-device.sh env)\" && bash .ci/gpu/verify.sh"
  echo
  echo "verify.sh reads its settings from the environment (defaults: BATCHES=\"8 32\" TP_IMAGES=640"
  echo "WARMUP=3 TOL=1e-3 MIN_RATIO=0.9); e.g. prefix it with GPU_FLAGS=\"--cudnn-conv-algo-search heuristic\"."
  echo "Results come back in files_at: summary.md, summary.json, doctor.txt, verify.log, raw.tar.gz."
} > "$calls"
echo
cat "$calls"
