#!/usr/bin/env bash
# Rehearse the device calls here, on the CPU: stage .gpu/p1..pN into a temp
# root one part per "call", exactly as the GPU machine would, then run the
# staged segtool through verify.sh with DEVICE=cpu QUICK=1 (cpu against cpu).
# Also checks that a part staged onto a fresh root (the machine went back
# between calls) is refused. Run .ci/gpu/pack.sh first.
#
# Usage: .ci/gpu/dryrun.sh     (OUT=folder keeps verify.sh's output; default a temp folder)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
cd "$repo"
parts=$(ls -d .gpu/p[0-9]* 2>/dev/null | sort -V)
[ -n "$parts" ] || { echo "dryrun: no .gpu/pN folders: run .ci/gpu/pack.sh first" >&2; exit 1; }
n=$(echo "$parts" | wc -l)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SEGTOOL_GPU_ROOT=$tmp/segtool-gpu

if [ "$n" -gt 1 ]; then
  echo "dryrun: a second part on a fresh machine must be refused"
  if SEGTOOL_GPU_ROOT=$tmp/fresh bash .gpu/p2/on-device.sh stage .gpu/p2/bundle.part-* 2>"$tmp/refusal"; then
    echo "dryrun: FAIL: part 2 was accepted without part 1" >&2; exit 1
  fi
  sed 's/^/  /' "$tmp/refusal"
fi

i=0
for p in $parts; do
  i=$((i + 1))
  echo "dryrun: call $i of $n: bash $p/on-device.sh stage $p/bundle.part-*"
  s=$(date +%s)
  if [ "$i" -lt "$n" ]; then
    bash "$p/on-device.sh" stage "$p"/bundle.part-*
  else
    bash "$p/on-device.sh" stage "$p"/bundle.part-* --last
  fi
  echo "dryrun: call $i took $(($(date +%s) - s)) s"
done
last=$(echo "$parts" | tail -1)
# The same env line the device runs; then the staged tools, not this machine's.
eval "$(bash "$last/on-device.sh" env)"
unset SEGTOOL_SHARED
command -v segtool
# The fallback for a machine with an older glibc: segtool through the packed loader.
SEGTOOL_PACKED_GLIBC=1 segtool doctor > "$tmp/doctor-packed-glibc" 2>&1 ||
  { cat "$tmp/doctor-packed-glibc" >&2; echo "dryrun: FAIL: segtool does not start through the packed glibc" >&2; exit 1; }
echo "dryrun: segtool starts through the packed glibc too: $(grep onnxruntime "$tmp/doctor-packed-glibc")"
out=${OUT:-$tmp/out}
mkdir -p "$out"
rc=0
OUT=$out DEVICE=cpu QUICK=1 bash "$last/verify.sh" || rc=$?
echo "dryrun: verify.sh exit $rc; files in $out:"
ls -la "$out"
nfiles=$(find "$out" -type f | wc -l)
[ "$nfiles" -le 8 ] || { echo "dryrun: FAIL: $nfiles files in OUT (the device tool returns 8)" >&2; rc=1; }
[ "$rc" = 0 ] || exit "$rc"

# The GPU judging path, on the CPU: DEVICE=cuda with --fallback cpu and a
# stand-in nvidia-smi. Every run succeeds on the CPU provider, so verify.sh
# must fail, naming the provider, and still write its files.
if [ "${SKIP_GPU_SIM:-0}" != 1 ]; then
  echo
  echo "dryrun: GPU judging rehearsal (DEVICE=cuda, --fallback cpu, stand-in nvidia-smi): must FAIL"
  mkdir -p "$tmp/fakebin"
  cat > "$tmp/fakebin/nvidia-smi" <<'SMI'
#!/usr/bin/env bash
case "$*" in
  *name,driver_version*) echo "NVIDIA H100 80GB HBM3, 580.159.04, 81559 MiB" ;;
  *-lms*) while :; do echo "$(date '+%Y/%m/%d %H:%M:%S.000'), $((1000 + RANDOM % 500)), $((RANDOM % 100))"; sleep 0.1; done ;;
  *memory.used*) echo 1 ;;
esac
SMI
  chmod +x "$tmp/fakebin/nvidia-smi"
  sim=$tmp/out-sim
  mkdir -p "$sim"
  rc2=0
  PATH=$tmp/fakebin:$PATH OUT=$sim DEVICE=cuda QUICK=1 MODELS=SINet.onnx GPU_FLAGS="--fallback cpu" \
    bash "$last/verify.sh" > "$tmp/sim.log" 2>&1 || rc2=$?
  sed -n '/^## segtool GPU verification/,/^### (b)/p' "$sim/summary.md"
  if [ "$rc2" != 1 ] || ! grep -q "not CUDA" "$sim/summary.md" || ! grep -q "GPU verification: FAIL" "$sim/summary.md" ||
     ! python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["throughput"][0]["bench"]["smi"]["samples"] > 0 else 1)' "$sim/summary.json"; then
    echo "dryrun: FAIL: the GPU rehearsal should exit 1 naming the CPU provider, with nvidia-smi samples (exit $rc2)" >&2
    tail -30 "$tmp/sim.log" >&2
    exit 1
  fi
  echo "dryrun: GPU judging rehearsal failed as it must (exit $rc2)"
fi
echo "dryrun: PASS"
