#!/usr/bin/env bash
# Build ort-cuda-sm90.tar.xz: ONNX Runtime 1.29.0 with its CUDA 13 execution
# provider, for Hopper GPUs (sm_90: H100, H200), from two npm packages:
#
#   onnxruntime-node@1.29.0                       libonnxruntime.so.1, the core library. It is
#                                                 built with the CUDA provider interface, so
#                                                 OrtApi::CreateCUDAProviderOptions works (what
#                                                 segtool, through onnxruntime_go, calls).
#   com.github.asus4.onnxruntime.linux-x64-gpu    libonnxruntime_providers_cuda.so and
#     @0.4.9 (the official 1.29.0 GPU release)    libonnxruntime_providers_shared.so
#
# Why not the core library of com.github.asus4.onnxruntime (what
# ../shared/tools/gpu/pack-ort-cuda.sh takes): it is the CPU build, whose
# CreateCUDAProviderOptions answers "CUDA execution provider is not enabled in
# this build", so segtool can never append the CUDA provider with it.
#
# The provider's kernels for GPUs other than sm_90 are zeroed (prune-fatbin.py
# from $SHARED/tools/gpu), which lets xz shrink 166 MB of kernels to the 32 MB
# Hopper uses. Every download is checked against a pinned sha256.
#
# Usage: pack-ort-cuda.sh OUT.tar.xz [CACHE_DIR]
#   CACHE_DIR keeps the npm tarballs between runs (default: beside OUT, ../cache).
#   SHARED: the shared folder (default: ../shared beside the repo).
set -euo pipefail

out=${1:?usage: pack-ort-cuda.sh OUT.tar.xz [CACHE_DIR]}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
shared=$(cd "${SHARED:-$repo/../shared}" && pwd)
prune=$shared/tools/gpu/prune-fatbin.py
[ -f "$prune" ] || { echo "pack-ort-cuda: $prune not found (set SHARED)" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
cache=${2:-$(dirname "$out")/../cache}
mkdir -p "$cache"; cache=$(cd "$cache" && pwd)

ORT_VERSION=1.29.0
CORE_PKG=onnxruntime-node@$ORT_VERSION
CORE_TGZ=onnxruntime-node-$ORT_VERSION.tgz
CORE_TGZ_SHA=cfdfb45ec4044b1fdca43e5d2e180fb6817e649ff8ad1e0dfc90e18e51b67037
CORE_LIB=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
CORE_LIB_SHA=89688f5cf51c7e31befbb7b9101bc027799009b18d1baa9a5b1146a72e69538d
GPU_PKG=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
GPU_TGZ=com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz
GPU_TGZ_SHA=2b459e0c17f340c92970c10ed86de4f37a3009f93c14053e6ad4334cbb6be412
GPU_DIR=package/Plugins/Linux/x64

# fetch PKG TGZ SHA: npm pack into the cache unless a good copy is there.
fetch() {
  local pkg=$1 tgz=$2 sha=$3
  if [ -f "$cache/$tgz" ] && echo "$sha  $cache/$tgz" | sha256sum -c --status; then
    echo "pack-ort-cuda: $tgz (cached)"
    return
  fi
  echo "pack-ort-cuda: npm pack $pkg"
  rm -f "$cache/$tgz"
  (cd "$cache" && npm pack --silent "$pkg" >/dev/null)
  echo "$sha  $cache/$tgz" | sha256sum -c --quiet || { echo "pack-ort-cuda: $tgz: sha256 differs from the pinned one" >&2; exit 1; }
}
fetch "$CORE_PKG" "$CORE_TGZ" "$CORE_TGZ_SHA"
fetch "$GPU_PKG" "$GPU_TGZ" "$GPU_TGZ_SHA"

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lib"
tar -xzf "$cache/$CORE_TGZ" -C "$work" "$CORE_LIB"
echo "$CORE_LIB_SHA  $work/$CORE_LIB" | sha256sum -c --quiet
mv "$work/$CORE_LIB" "$work/lib/libonnxruntime.so.1"
ln -s libonnxruntime.so.1 "$work/lib/libonnxruntime.so"
tar -xzf "$cache/$GPU_TGZ" -C "$work" "$GPU_DIR/libonnxruntime_providers_cuda.so" "$GPU_DIR/libonnxruntime_providers_shared.so"
mv "$work/$GPU_DIR/libonnxruntime_providers_shared.so" "$work/lib/"
python3 "$prune" "$work/$GPU_DIR/libonnxruntime_providers_cuda.so" "$work/lib/libonnxruntime_providers_cuda.so" 90
chmod 755 "$work"/lib/*.so*

{
  echo "ONNX Runtime $ORT_VERSION with the CUDA execution provider (sm_90 kernels only)"
  echo "core:      $CORE_PKG ($CORE_LIB)"
  echo "providers: $GPU_PKG ($GPU_DIR)"
  echo "needs:     libcublas.so.13 libcublasLt.so.13 libcudart.so.13 libcurand.so.10, cuDNN 9 (dlopen), libcuda.so.1"
  (cd "$work/lib" && sha256sum libonnxruntime.so.1 libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so)
} > "$work/lib/ORT-CUDA.txt"

tar -cf - -C "$work" lib | xz -9 -T0 > "$out.tmp"
mv "$out.tmp" "$out"
ls -la "$out"
