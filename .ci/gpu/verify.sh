#!/usr/bin/env bash
# segtool's GPU acceptance checks. Runs on the GPU machine after
#   bash .gpu/pN/on-device.sh stage ... && eval "$(bash .gpu/pN/on-device.sh env)"
# and here on the CPU as a rehearsal (DEVICE=cpu QUICK=1, see .ci/gpu/dryrun.sh).
#
#  (a) doctor: the CUDA provider can be created and the GPU is named
#      (doctor --json when segtool has it, the text always).
#  (b) accuracy: eval of SINet, SINet_Softmax, prisma_nchw (shared models) and a
#      freshly built unet-aspp on the P3M portraits, on REF_DEVICE and on DEVICE:
#      IoU and Dice (accumulated and mean per image) agree within TOL. Where eval
#      has --tf32, DEVICE also runs with --tf32=false.
#  (c) throughput: unet-aspp (NHWC 800x600, dynamic batch), for each of BATCHES:
#      bench model vs eval on TP_IMAGES augmented 800x600 copies of the portraits:
#      eval images/s >= MIN_RATIO x bench images/s; p50/p99, peak GPU memory and
#      utilisation (segtool's fields where it has them, and nvidia-smi sampled).
#
# Writes to $OUT (at most 5 files): summary.md, summary.json, doctor.txt,
# verify.log, raw.tar.gz (every results.json, per_image.csv, bench JSON, step
# log, nvidia-smi samples). Exit 0 when every check passes, 1 when one fails.
#
# Environment (defaults for the GPU run; QUICK=1 shrinks everything):
#   DEVICE=cuda  REF_DEVICE=cpu  TOL=1e-3  MIN_RATIO=0.9
#   BATCHES="8 32"  TP_IMAGES=640  WARMUP=3  BENCH_RUNS=0 (0: enough calls to
#   cover TP_IMAGES, at least 20)  ACC_LIMIT=0 (all 9 portraits)
#   MODELS="SINet.onnx SINet_Softmax.onnx prisma_nchw.onnx unet_aspp.onnx"
#   TP_METRICS=segmentation  eval --metrics for the throughput runs (all: every
#                  group; boundary and matting cost ~30 ms a 800x600 image on a
#                  CPU core, more than a fast GPU's inference)
#   GPU_FLAGS=""   extra flags for the DEVICE runs of eval and bench model,
#                  e.g. "--cudnn-conv-algo-search heuristic --gpu-mem-limit 40000"
#   GATE_SPEED     1: the throughput ratio gates (default: 1 when DEVICE is cuda*)
#   SEGTOOL=segtool  INPUTS=$SEGTOOL_GPU_INPUTS (models/, p3m/), else SHARED
#   (default ../shared: models/ and data/p3m/)  WORK=a fresh temp folder,
#   removed at the end unless KEEP_WORK=1
#   STEP_TIMEOUT=300 seconds for any one segtool command
#   DEADLINE=520 seconds after which remaining steps are skipped (and fail), so
#   that the report is still written inside the device tool's 600 s call
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEVICE=${DEVICE:-cuda}
REF_DEVICE=${REF_DEVICE:-cpu}
QUICK=${QUICK:-0}
TOL=${TOL:-1e-3}
MIN_RATIO=${MIN_RATIO:-0.9}
SEGTOOL=${SEGTOOL:-segtool}
STEP_TIMEOUT=${STEP_TIMEOUT:-300}
DEADLINE=${DEADLINE:-520}
GPU_FLAGS=${GPU_FLAGS:-}
TP_METRICS=${TP_METRICS:-segmentation}
MODELS=${MODELS:-SINet.onnx SINet_Softmax.onnx prisma_nchw.onnx unet_aspp.onnx}
if [ "$QUICK" = 1 ]; then
  BATCHES=${BATCHES:-2}; TP_IMAGES=${TP_IMAGES:-10}; WARMUP=${WARMUP:-1}
  BENCH_RUNS=${BENCH_RUNS:-3}; ACC_LIMIT=${ACC_LIMIT:-3}
else
  BATCHES=${BATCHES:-8 32}; TP_IMAGES=${TP_IMAGES:-640}; WARMUP=${WARMUP:-3}
  BENCH_RUNS=${BENCH_RUNS:-0}; ACC_LIMIT=${ACC_LIMIT:-0}
fi
case $DEVICE in cuda*) GATE_SPEED=${GATE_SPEED:-1}; ON_GPU=1 ;; *) GATE_SPEED=${GATE_SPEED:-0}; ON_GPU=0 ;; esac

OUT=${OUT:-$PWD/gpu-verify-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
own_work=0
[ -z "${WORK:-}" ] && own_work=1
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/segtool-verify.XXXXXX")}
mkdir -p "$WORK"
RAW=$WORK/raw
mkdir -p "$RAW/logs" "$WORK/runs" "$WORK/models"
PLAN=$WORK/plan.jsonl
: > "$PLAN"

exec > >(tee "$OUT/verify.log") 2>&1
tee_pid=$!
t0=$(date +%s)
say() { printf '[verify %4ds] %s\n' "$(($(date +%s) - t0))" "$*"; }
# plan KEY=VALUE...: one JSON line for verify_report.py (values are strings).
plan() { python3 -c 'import json,sys; print(json.dumps(dict(a.split("=",1) for a in sys.argv[1:])))' "$@" >> "$PLAN"; }

# Inputs: the staged ones on the device, the shared folder here.
if [ -z "${INPUTS:-}" ] && [ -n "${SEGTOOL_GPU_INPUTS:-}" ] && [ -d "$SEGTOOL_GPU_INPUTS" ]; then INPUTS=$SEGTOOL_GPU_INPUTS; fi
if [ -n "${INPUTS:-}" ]; then
  MODEL_DIR=$INPUTS/models; P3M=$INPUTS/p3m
else
  SHARED=${SHARED:-../shared}
  MODEL_DIR=$SHARED/models; P3M=$SHARED/data/p3m
fi
for d in "$MODEL_DIR" "$P3M/images" "$P3M/alphas"; do
  [ -d "$d" ] || { say "missing input folder $d (set INPUTS or SHARED)"; exit 2; }
done
command -v "$SEGTOOL" >/dev/null || { say "segtool not found (\$SEGTOOL=$SEGTOOL): eval \"\$(bash on-device.sh env)\" first"; exit 2; }
command -v python3 >/dev/null || { echo "verify: python3 is needed"; exit 2; }

SMI=$(command -v nvidia-smi || true)
[ -z "$SMI" ] && [ -x /usr/local/nvidia/bin/nvidia-smi ] && SMI=/usr/local/nvidia/bin/nvidia-smi

# run NAME CMD...: a segtool step with its output in raw/logs/NAME.log (stdout
# alone in NAME.out); prints one status line, and the log's tail on failure.
run() {
  local name=$1; shift
  local s; s=$(date +%s)
  local left=$((DEADLINE - (s - t0) - 15)) limit=$STEP_TIMEOUT
  if [ "$left" -lt 5 ]; then
    say "SKIP  $name: past DEADLINE=$DEADLINE s"
    echo "skipped: past DEADLINE=$DEADLINE s" > "$RAW/logs/$name.log"; : > "$RAW/logs/$name.out"
    return 125
  fi
  [ "$left" -lt "$limit" ] && limit=$left
  timeout "$limit" "$@" > "$RAW/logs/$name.out" 2> "$RAW/logs/$name.log"
  local rc=$?
  cat "$RAW/logs/$name.out" >> "$RAW/logs/$name.log"
  if [ "$rc" = 0 ]; then
    say "ok    $name ($(($(date +%s) - s)) s)"
  else
    say "FAIL  $name: exit $rc after $(($(date +%s) - s)) s: $*"
    tail -15 "$RAW/logs/$name.log" | sed 's/^/        /'
  fi
  return "$rc"
}

# has_flag FLAG CMD...: does `segtool CMD --help` list --FLAG?
has_flag() { local f=$1; shift; "$SEGTOOL" "$@" --help 2>&1 | grep -q -- "--$f\b"; }

# smi_start NAME / smi_stop: sample GPU memory and utilisation every 100 ms.
smi_pid=""
smi_start() {
  [ -n "$SMI" ] || return 0
  "$SMI" --query-gpu=memory.used --format=csv,noheader,nounits > "$RAW/smi-$1.idle" 2>/dev/null
  "$SMI" --query-gpu=timestamp,memory.used,utilization.gpu --format=csv,noheader,nounits -lms 100 > "$RAW/smi-$1.csv" 2>/dev/null &
  smi_pid=$!
}
smi_stop() {
  [ -n "$smi_pid" ] || return 0
  kill "$smi_pid" 2>/dev/null; wait "$smi_pid" 2>/dev/null; smi_pid=""
}
trap 'smi_stop' EXIT

say "DEVICE=$DEVICE REF_DEVICE=$REF_DEVICE QUICK=$QUICK BATCHES=\"$BATCHES\" TP_IMAGES=$TP_IMAGES TOL=$TOL MIN_RATIO=$MIN_RATIO GPU_FLAGS=\"$GPU_FLAGS\""
say "segtool $(command -v "$SEGTOOL"), SEGTOOL_ORT_LIB=${SEGTOOL_ORT_LIB:-unset}; inputs $MODEL_DIR, $P3M; work $WORK"
gpu_name=""; gpu_driver=""
if [ -n "$SMI" ]; then
  IFS=, read -r gpu_name gpu_driver gpu_mem < <("$SMI" --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1) || true
  gpu_name=$(echo "$gpu_name" | xargs); gpu_driver=$(echo "$gpu_driver" | xargs)
  say "GPU: $gpu_name, driver $gpu_driver, ${gpu_mem:-?}"
fi
plan kind=env device="$DEVICE" ref_device="$REF_DEVICE" quick="$QUICK" tol="$TOL" min_ratio="$MIN_RATIO" tp_metrics="$TP_METRICS" \
  gate_speed="$GATE_SPEED" gpu_flags="$GPU_FLAGS" gpu_name="$gpu_name" gpu_driver="$gpu_driver" \
  segtool_version="$("$SEGTOOL" --version 2>&1 | head -1)" host="$(uname -n)" cores="$(nproc)" \
  bundle="$(head -2 "${SEGTOOL_GPU_ROOT:-/nonexistent}/BUNDLE.txt" 2>/dev/null | tail -1)"

# ---------------------------------------------------------------- (a) doctor
doc=$RAW/doctor.txt
"$SEGTOOL" doctor > "$doc" 2>&1; rc_text=$?
rc_json=""; json_file=""
if has_flag json doctor; then
  json_file=$RAW/doctor.json
  "$SEGTOOL" doctor --json > "$json_file" 2> "$RAW/logs/doctor-json.log"; rc_json=$?
fi
rc_req=""
if [ "$ON_GPU" = 1 ]; then "$SEGTOOL" doctor --require-cuda > /dev/null 2>&1; rc_req=$?; fi
{ cat "$doc"; echo "(exit $rc_text)"; if [ -n "$json_file" ]; then echo; echo "doctor --json (exit $rc_json):"; cat "$json_file"; fi
  [ -n "$rc_req" ] && echo "doctor --require-cuda: exit $rc_req"; } > "$OUT/doctor.txt"
sed 's/^/        /' "$doc"
say "doctor: exit $rc_text${rc_json:+, --json exit $rc_json}${rc_req:+, --require-cuda exit $rc_req}"
plan kind=doctor text="$doc" json="$json_file" rc_text="$rc_text" rc_json="$rc_json" rc_require="$rc_req" on_gpu="$ON_GPU"

# ------------------------------------------------------------- the datasets
src=$WORK/src
mkdir -p "$src/images" "$src/alphas"
cp "$P3M"/images/* "$src/images/"; cp "$P3M"/alphas/* "$src/alphas/"
chmod -R u+w "$src"
n_src=$(ls "$src/images" | wc -l)
run build-acc "$SEGTOOL" build-dataset --src "$src" --format folder --split 0,0,1 --out "$WORK/ds-acc"
run build-800 "$SEGTOOL" build-dataset --src "$src" --format folder --split 0,0,1 --resize 800x600 --out "$WORK/ds-800"
copies=$(( (TP_IMAGES + n_src - 1) / n_src - 1 ))
cat > "$WORK/tp-augment.yaml" <<'EOF'
description: cheap photometric and mirror copies, for throughput runs only
ops:
  - fliplr: {p: 0.5}
  - brightness_hsv: {p: 0.8, scale: [0.8, 1.2]}
EOF
if [ "$copies" -ge 1 ]; then
  run build-tp "$SEGTOOL" augment --config "$WORK/tp-augment.yaml" --dataset "$WORK/ds-800" --out "$WORK/ds-tp" \
    --copies "$copies" --seed 1 --include-originals
  TP_DS=$WORK/ds-tp
else
  TP_DS=$WORK/ds-800
fi
run build-unet "$SEGTOOL" models build unet-aspp --out "$WORK/models/unet_aspp.onnx"
for b in $BATCHES; do
  [ $((TP_IMAGES % b)) = 0 ] || say "note: TP_IMAGES=$TP_IMAGES is not a multiple of batch $b: eval's last call is smaller (another shape)"
done

# ----------------------------------------------------------- (b) accuracy
limit=()
[ "$ACC_LIMIT" -gt 0 ] && limit=(--limit "$ACC_LIMIT")
tf32_off=0
[ "$ON_GPU" = 1 ] && has_flag tf32 eval && tf32_off=1
for m in $MODELS; do
  case $m in unet_aspp.onnx) model=$WORK/models/$m ;; *) model=$MODEL_DIR/$m ;; esac
  name=${m%.onnx}
  if [ ! -f "$model" ]; then say "FAIL  model $model missing"; plan kind=acc model="$name" variant=missing; continue; fi
  ref=$WORK/runs/acc-$name-ref
  run "acc-$name-ref" "$SEGTOOL" --log-format json eval --model "$model" --dataset "$WORK/ds-acc" --split all "${limit[@]}" \
    --device "$REF_DEVICE" --out "$ref" --force
  rc_ref=$?
  variants=(default)
  [ "$tf32_off" = 1 ] && variants+=(tf32-off)
  for v in "${variants[@]}"; do
    extra=()
    [ "$v" = tf32-off ] && extra=(--tf32=false)
    test=$WORK/runs/acc-$name-$v
    # shellcheck disable=SC2086
    run "acc-$name-$v" "$SEGTOOL" --log-format json eval --model "$model" --dataset "$WORK/ds-acc" --split all "${limit[@]}" \
      --device "$DEVICE" $GPU_FLAGS "${extra[@]}" --out "$test" --force
    plan kind=acc model="$name" variant="$v" ref="$ref/results.json" rc_ref="$rc_ref" test="$test/results.json" rc_test="$?" \
      log="$RAW/logs/acc-$name-$v.log"
  done
done

# --------------------------------------------------------- (c) throughput
unet=$WORK/models/unet_aspp.onnx
tp_metrics=()
has_flag metrics eval && tp_metrics=(--metrics "$TP_METRICS")
for b in $BATCHES; do
  runs=$BENCH_RUNS
  if [ "$runs" -le 0 ]; then runs=$(( (TP_IMAGES + b - 1) / b )); [ "$runs" -lt 20 ] && runs=20; fi
  smi_start "bench-b$b"
  # shellcheck disable=SC2086
  run "bench-b$b" "$SEGTOOL" --log-format json bench model --model "$unet" --device "$DEVICE" --batch "$b" \
    -n "$runs" --warmup "$WARMUP" $GPU_FLAGS
  rc_bench=$?
  smi_stop
  smi_start "eval-b$b"
  # shellcheck disable=SC2086
  run "eval-b$b" "$SEGTOOL" --log-format json eval --model "$unet" --dataset "$TP_DS" --split all --limit "$TP_IMAGES" \
    --device "$DEVICE" --batch "$b" --warmup "$WARMUP" "${tp_metrics[@]}" $GPU_FLAGS --out "$WORK/runs/tp-b$b" --force
  rc_eval=$?
  smi_stop
  plan kind=tp batch="$b" runs="$runs" bench="$RAW/logs/bench-b$b.out" rc_bench="$rc_bench" \
    eval="$WORK/runs/tp-b$b/results.json" rc_eval="$rc_eval" \
    smi_bench="$RAW/smi-bench-b$b.csv" smi_eval="$RAW/smi-eval-b$b.csv" \
    smi_bench_idle="$RAW/smi-bench-b$b.idle" smi_eval_idle="$RAW/smi-eval-b$b.idle"
done

# ---------------------------------------------------------------- report
python3 "$here/verify_report.py" "$PLAN" "$OUT"
verdict=$?
for r in "$WORK"/runs/*; do
  mkdir -p "$RAW/runs/$(basename "$r")"
  cp "$r"/results.json "$r"/run.json "$r"/per_image.csv "$RAW/runs/$(basename "$r")/" 2>/dev/null
done
for d in ds-acc ds-800 ds-tp; do [ -f "$WORK/$d/dataset.json" ] && cp "$WORK/$d/dataset.json" "$RAW/$d.dataset.json"; done
cp "$PLAN" "$RAW/"
tar -czf "$OUT/raw.tar.gz" -C "$WORK" raw
[ "$own_work" = 1 ] && [ "${KEEP_WORK:-0}" != 1 ] && rm -rf "$WORK"
say "wrote $(cd "$OUT" && ls | tr '\n' ' ')to $OUT"
echo
cat "$OUT/summary.md"
echo
say "$( [ "$verdict" = 0 ] && echo PASS || echo FAIL ) in $(($(date +%s) - t0)) s"
# Let tee finish writing verify.log before the device tool collects $OUT.
exec >&- 2>&-
wait "$tee_pid" 2>/dev/null
exit "$verdict"
