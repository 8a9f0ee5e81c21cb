#!/usr/bin/env bash
# Run on the GPU machine (or locally, to rehearse). Stages what .ci/gpu/pack.sh
# built into ROOT = $SEGTOOL_GPU_ROOT (default /tmp/segtool-gpu).
#
#   on-device.sh stage FILE... [--last]
#       bundle.part-NN  appended to ROOT/.bundle/bundle.tar, in order, each
#                       checked against parts.sha256 beside it; once every part
#                       listed there is in, the bundle is checked and unpacked:
#                       ROOT/rt (segtool + OpenCV), ROOT/lib (ONNX Runtime CUDA),
#                       ROOT/inputs (models, p3m). A part staged twice is
#                       skipped; a part whose predecessors are missing (the
#                       machine went back between calls) stops with exit 3.
#                       --last only asserts that the bundle is complete.
#       *.tar.xz, *.tar unpacked into ROOT as they are.
#   on-device.sh env    prints the exports: PATH (segtool), SEGTOOL_ORT_LIB,
#                       SEGTOOL_GPU_ROOT, SEGTOOL_GPU_INPUTS. Use:
#                       eval "$(bash on-device.sh env)"
#   on-device.sh check  does the staged segtool start; which libraries are missing
#   on-device.sh status what is staged
set -euo pipefail
root=${SEGTOOL_GPU_ROOT:-/tmp/segtool-gpu}
state=$root/.bundle

die() { echo "on-device: $*" >&2; exit "${code:-1}"; }

# unpack ARCHIVE DEST: tar with xz where the machine has xz, else Python.
unpack() {
  mkdir -p "$2"
  case $1 in
    *.tar.xz)
      if command -v xz >/dev/null; then tar -xJf "$1" -C "$2"
      else python3 - "$1" "$2" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    t.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))
PY
      fi ;;
    *.tar) tar -xf "$1" -C "$2" ;;
    *) die "unpack: $1: not a .tar or .tar.xz" ;;
  esac
}

# cuda_libdirs: the folders of the CUDA libraries (cuBLAS, cuDNN, cudart,
# cuRAND) in python3's site-packages (nvidia-* wheels), then the driver's.
cuda_libdirs() {
  local dirs=""
  if command -v python3 >/dev/null; then
    dirs=$(python3 - <<'PY' 2>/dev/null || true
import glob, os, site
seen = []
paths = list(site.getsitepackages())
try:
    paths.append(site.getusersitepackages())
except Exception:
    pass
for sp in paths:
    for so in sorted(glob.glob(os.path.join(sp, "nvidia", "**", "lib*.so*"), recursive=True)):
        d = os.path.dirname(so)
        if d not in seen:
            seen.append(d)
print(":".join(seen))
PY
)
  fi
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/local/cuda/lib64; do
    [ -d "$d" ] && dirs=${dirs:+$dirs:}$d
  done
  echo "$dirs"
}

finish_bundle() {
  local list=$1
  local want; want=$(awk '$2 == "bundle.tar" {print $1}' "$list")
  local have; have=$(sha256sum "$state/bundle.tar" | cut -d' ' -f1)
  [ "$want" = "$have" ] || { rm -rf "$state"; code=3 die "the assembled bundle's sha256 is wrong: start again from the first part"; }
  rm -rf "$state/x"; mkdir -p "$state/x"
  tar -xf "$state/bundle.tar" -C "$state/x"
  rm -f "$state/bundle.tar"
  (cd "$state/x" && sha256sum -c --quiet MANIFEST.sha256) || { rm -rf "$state"; code=3 die "a file in the bundle is damaged"; }
  rm -rf "$root/rt" "$root/lib" "$root/inputs"
  local f
  for f in "$state"/x/*.tar.xz "$state"/x/*.tar; do
    [ -e "$f" ] || continue
    echo "on-device: unpacking $(basename "$f")"
    unpack "$f" "$root"
  done
  cp "$state/x/BUNDLE.txt" "$root/BUNDLE.txt"
  rm -rf "$state/x"
  echo "complete" > "$state/complete"
  after_unpack
}

after_unpack() {
  cuda_libdirs > "$root/cuda-libdirs"
  if [ -x "$root/rt/bin/segtool" ]; then check; fi
}

stage() {
  local last=0 f name dir list
  mkdir -p "$root"
  for f in "$@"; do
    case $f in
      --last) last=1; continue ;;
    esac
    [ -f "$f" ] || die "stage: $f: no such file (is its folder in the call's carry list?)"
    name=$(basename "$f"); dir=$(dirname "$f")
    case $name in
      bundle.part-*)
        list=$dir/parts.sha256
        [ -f "$list" ] || die "stage: $list missing beside $name"
        local bsha; bsha=$(awk '$2 == "bundle.tar" {print $1}' "$list")
        # A different bundle (re-packed since): start over.
        if [ -f "$state/bundle.sha256" ] && [ "$(cat "$state/bundle.sha256")" != "$bsha" ]; then
          echo "on-device: a different bundle was being staged: starting over"
          rm -rf "$state"
        fi
        mkdir -p "$state"; echo "$bsha" > "$state/bundle.sha256"; touch "$state/parts.done"
        local want; want=$(awk -v n="$name" '$2 == n {print $1}' "$list")
        [ -n "$want" ] || die "stage: $name is not listed in $list"
        [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$want" ] || code=3 die "stage: $name: sha256 differs from $list (damaged in transfer?)"
        if grep -qx "$name" "$state/parts.done"; then
          echo "on-device: $name already staged"
        else
          local p missing=""
          for p in $(awk '$2 ~ /^bundle\.part-/ {print $2}' "$list"); do
            [ "$p" = "$name" ] && break
            grep -qx "$p" "$state/parts.done" || missing="$missing $p"
          done
          if [ -n "$missing" ]; then
            rm -rf "$state"
            code=3 die "stage: $name arrived but$missing did not: the machine was given back between calls (warm: false). Start again from the first call."
          fi
          cat "$f" >> "$state/bundle.tar"
          echo "$name" >> "$state/parts.done"
          echo "on-device: staged $name ($(du -h "$f" | cut -f1))"
        fi
        local total done_n
        total=$(awk '$2 ~ /^bundle\.part-/' "$list" | wc -l)
        done_n=$(wc -l < "$state/parts.done")
        if [ "$done_n" -eq "$total" ] && [ ! -f "$state/complete" ]; then
          finish_bundle "$list"
        elif [ "$done_n" -lt "$total" ]; then
          echo "on-device: $done_n of $total parts staged"
        fi
        ;;
      *.tar.xz|*.tar)
        echo "on-device: unpacking $name"
        unpack "$f" "$root"
        after_unpack ;;
      *) die "stage: $name: want bundle.part-NN, .tar.xz or .tar" ;;
    esac
  done
  if [ "$last" = 1 ] && [ ! -f "$state/complete" ]; then
    code=3 die "--last: the bundle is not complete ($(wc -l < "$state/parts.done" 2>/dev/null || echo 0) parts staged)"
  fi
  status
}

check() {
  local seg=$root/rt/bin/segtool out
  [ -x "$seg" ] || die "check: $seg missing: stage the bundle first"
  if ! out=$("$seg" --version 2>&1); then
    if grep -qE 'GLIBCXX|CXXABI|libstdc\+\+|libgcc_s' <<<"$out" && [ -d "$root/rt/lib-fallback" ]; then
      echo "on-device: the machine's libstdc++/libgcc_s are too old or missing: using the packed ones"
      cp "$root"/rt/lib-fallback/* "$root/rt/lib/"
      out=$("$seg" --version 2>&1) || { echo "$out" >&2; die "check: segtool does not start"; }
    elif grep -q 'GLIBC_' <<<"$out" && [ -x "$root/rt/glibc/ld-linux-x86-64.so.2" ]; then
      echo "on-device: this machine's glibc ($(ldd --version 2>/dev/null | head -1)) is older than the build's" \
        "($(grep needs "$root/rt/RUNTIME.txt")): segtool will start through the packed glibc"
      touch "$root/rt/use-packed-glibc"
      out=$("$seg" --version 2>&1) || { echo "$out" >&2; die "check: segtool does not start, with the packed glibc either"; }
    else
      echo "$out" >&2
      die "check: segtool does not start"
    fi
  fi
  echo "on-device: $out"
  local ld=$root/lib:$root/rt/lib
  [ -s "$root/cuda-libdirs" ] && ld=$ld:$(cat "$root/cuda-libdirs")
  local nf
  nf=$(LD_LIBRARY_PATH=$ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ldd "$root/rt/libexec/segtool" 2>&1 | grep 'not found' || true)
  [ -z "$nf" ] || { echo "on-device: segtool libraries not found:"; echo "$nf"; }
  if [ -f "$root/lib/libonnxruntime_providers_cuda.so" ]; then
    nf=$(LD_LIBRARY_PATH=$ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ldd "$root/lib/libonnxruntime_providers_cuda.so" 2>&1 | grep 'not found' || true)
    if [ -n "$nf" ]; then
      echo "on-device: the CUDA provider's libraries not found here (fine on a machine without CUDA):"
      echo "$nf"
    else
      echo "on-device: the CUDA provider's libraries all resolve"
    fi
  fi
}

status() {
  echo "on-device: root $root"
  [ -f "$root/BUNDLE.txt" ] && sed 's/^/  /' "$root/BUNDLE.txt"
  du -sh "$root"/rt "$root"/lib "$root"/inputs 2>/dev/null | sed 's/^/  /' || true
}

case ${1:-} in
  stage) shift; stage "$@" ;;
  env)
    echo "export SEGTOOL_GPU_ROOT=$root"
    echo "export SEGTOOL_GPU_INPUTS=$root/inputs"
    echo "export SEGTOOL_ORT_LIB=$root/lib/libonnxruntime.so.1"
    echo "export PATH=$root/rt/bin:\$PATH" ;;
  check) check ;;
  status) status ;;
  *) echo "usage: on-device.sh stage FILE... [--last] | env | check | status   (root: \$SEGTOOL_GPU_ROOT, default /tmp/segtool-gpu)" >&2; exit 2 ;;
esac
