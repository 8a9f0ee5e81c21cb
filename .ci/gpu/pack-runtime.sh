#!/usr/bin/env bash
# Pack the segtool binary and the shared libraries it loads (OpenCV and
# everything OpenCV pulls in, from `ldd`) into one runtime.tar.xz, for a
# machine that has none of them (the GPU machine: no OpenCV, no Go).
#
# Layout inside the archive (unpacked under a root such as /tmp/segtool-gpu):
#   rt/libexec/segtool        the binary
#   rt/bin/segtool            a wrapper: puts rt/lib, the staged ONNX Runtime
#                             (ROOT/lib) and the CUDA library folders listed in
#                             ROOT/cuda-libdirs on LD_LIBRARY_PATH for segtool
#                             alone (so python3 and the rest of the shell keep
#                             the machine's own libraries), defaults
#                             SEGTOOL_ORT_LIB to ROOT/lib/libonnxruntime.so.1,
#                             and runs rt/libexec/segtool
#   rt/lib/                   the libraries, glibc's own left out
#   rt/lib-fallback/          libstdc++ and libgcc_s, used only when the target's
#                             are too old (on-device.sh check moves them in)
#   rt/glibc/                 this machine's glibc and its loader, used only when
#                             the target's glibc is older than the build's: then
#                             the wrapper starts segtool through rt/glibc's
#                             ld-linux with rt/glibc and rt/lib-fallback first
#                             (on-device.sh check turns it on: rt/use-packed-glibc;
#                             SEGTOOL_PACKED_GLIBC=1 forces it)
#   rt/RUNTIME.txt            what is inside and the newest glibc symbol needed
#
# Usage: pack-runtime.sh BINARY OUT.tar.xz
set -euo pipefail
bin=${1:?usage: pack-runtime.sh BINARY OUT.tar.xz}
out=${2:?usage: pack-runtime.sh BINARY OUT.tar.xz}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
rt=$work/rt
mkdir -p "$rt/bin" "$rt/libexec" "$rt/lib" "$rt/lib-fallback" "$rt/glibc"
cp "$bin" "$rt/libexec/segtool"
chmod 755 "$rt/libexec/segtool"

glibc='^(libc|libm|libdl|librt|libpthread|libresolv|libutil|ld-linux-x86-64)\.so'
cxx='^(libstdc\+\+|libgcc_s)\.so'
missing=$(ldd "$bin" | grep 'not found' || true)
[ -z "$missing" ] || { echo "pack-runtime: $bin has unresolved libraries:"; echo "$missing"; exit 1; } >&2
ldd "$bin" | awk '/=> \//{print $1, $3}' | while read -r name path; do
  if [[ $name =~ $glibc ]]; then cp -L "$path" "$rt/glibc/$name"; continue; fi
  if [[ $name =~ $cxx ]]; then cp -L "$path" "$rt/lib-fallback/$name"; continue; fi
  cp -L "$path" "$rt/lib/$name"
done

loader=$(ldd "$bin" | awk '$1 ~ /^\/.*ld-linux/ {print $1}')
cp -L "$loader" "$rt/glibc/$(basename "$loader")"
# glibc's other parts that ONNX Runtime and the CUDA libraries link against,
# so that with the packed glibc no piece of the machine's own is mixed in.
libcdir=$(dirname "$(ldd "$bin" | awk '$1 == "libc.so.6" {print $3}')")
for n in libdl.so.2 librt.so.1 libpthread.so.0 libutil.so.1 libresolv.so.2 libanl.so.1; do
  [ -e "$libcdir/$n" ] && [ ! -e "$rt/glibc/$n" ] && cp -L "$libcdir/$n" "$rt/glibc/$n"
done

cat > "$rt/bin/segtool" <<'WRAP'
#!/usr/bin/env bash
# segtool with its packed libraries (written by .ci/gpu/pack-runtime.sh).
rt=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
root=$(dirname "$rt")
ld=$rt/lib
[ -d "$root/lib" ] && ld=$root/lib:$ld
[ -s "$root/cuda-libdirs" ] && ld=$ld:$(cat "$root/cuda-libdirs")
export LD_LIBRARY_PATH=$ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if [ -z "${SEGTOOL_ORT_LIB:-}" ] && [ -e "$root/lib/libonnxruntime.so.1" ]; then
  export SEGTOOL_ORT_LIB=$root/lib/libonnxruntime.so.1
fi
if [ "${SEGTOOL_PACKED_GLIBC:-0}" = 1 ] || [ -e "$rt/use-packed-glibc" ]; then
  exec "$rt/glibc/ld-linux-x86-64.so.2" --library-path "$rt/glibc:$rt/lib-fallback:$LD_LIBRARY_PATH" "$rt/libexec/segtool" "$@"
fi
exec "$rt/libexec/segtool" "$@"
WRAP
chmod 755 "$rt/bin/segtool"

# The newest glibc symbol version any packed file asks for: the target's glibc
# must be at least that (Debian 12 builds ask for 2.3x; Ubuntu 24.04 has 2.39).
need=$(find "$rt/libexec" "$rt/lib" -type f -print0 | xargs -0 objdump -T 2>/dev/null |
  grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2,2n -u | tail -1)
{
  echo "segtool runtime packed $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "binary: $("$bin" --version 2>/dev/null || echo "$bin")"
  echo "needs glibc >= ${need#GLIBC_}"
  echo "libraries: $(ls "$rt/lib" | wc -l) (+ fallback: $(ls "$rt/lib-fallback" "$rt/glibc" | grep -v '^$\|:$' | tr '\n' ' '))"
} > "$rt/RUNTIME.txt"
cat "$rt/RUNTIME.txt"
echo "unpacked: $(du -sh "$rt" | cut -f1)"

tar -cf - -C "$work" rt | xz -9 -T0 > "$out.tmp"
mv "$out.tmp" "$out"
ls -la "$out"
