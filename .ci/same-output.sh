#!/usr/bin/env bash
# Byte-identical datasets before and after a refactor: builds segtool at
# BASE (default: the commit named in .ci/same-output.base) and at the
# working tree, runs the same dataset jobs with the same seeds with both,
# and compares every file of every output. dataset.json is compared with
# its "created" time left out and the run's own folder replaced by a
# placeholder in paths (base and head write to different folders).
#
#   bash .ci/same-output.sh [BASE]
set -euo pipefail
top=$(git rev-parse --show-toplevel)
cd "$top"
base=${1:-$(cat .ci/same-output.base)}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base-src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

git worktree add --detach "$work/base-src" "$base" >/dev/null 2>&1
(cd "$work/base-src" && go build -o "$work/segtool-base" ./cmd/segtool)
go build -o "$work/segtool-head" ./cmd/segtool

run() { # run WHICH: all the jobs into $work/WHICH
  local st="$work/segtool-$1" o="$work/$1"
  mkdir -p "$o"
  "$st" --quiet demo-data --out "$o/src" --count 8 --seed 7
  "$st" --quiet --workers 2 build-dataset --src "$o/src/folder" --out "$o/ds"
  "$st" --quiet --workers 2 build-dataset --src "$o/src/folder" --out "$o/ds-crops" --crops 3 --crop-size 96 --seed 3
  "$st" --quiet --workers 2 build-dataset --src "$o/src/pennfudan" --out "$o/ds-pf" --max-side 200
  "$st" --quiet --workers 2 composite --fg "$o/src/cutouts" --bg procedural:stripes,checks,noise,gradient,blobs \
    --out "$o/comp" --per-fg 3 --seed 1 --size 160x200 --scale 0.6,0.95 --flip --preview 4
  "$st" --quiet --workers 2 augment --config configs/augment/imgaug-portrait.yaml --dataset "$o/ds" --out "$o/aug" \
    --copies 2 --seed 1 --include-originals --preview 3
  "$st" --quiet --workers 2 trimap --dataset "$o/ds" --out-dir trimaps-sp --report
  "$st" --quiet --workers 2 trimap --dataset "$o/ds" --method erode --width-range 1,30 --seed 1 --out-dir trimaps-erode
}
run base
run head

norm() { # files of a tree, with dataset.json's created time blanked
  (cd "$1" && find . -type f | sort | while read -r f; do
    if [ "$(basename "$f")" = dataset.json ]; then
      printf '%s %s\n' "$f" "$(sed -e 's/"created": "[^"]*"/"created": ""/' -e "s#$work/\(base\|head\)#WORK#g" "$f" | sha256sum | cut -d' ' -f1)"
    else
      printf '%s %s\n' "$f" "$(sha256sum < "$f" | cut -d' ' -f1)"
    fi
  done)
}
fail=0
for d in ds ds-crops ds-pf comp aug; do
  if diff <(norm "$work/base/$d") <(norm "$work/head/$d") >"$work/diff-$d"; then
    echo "same-output: $d identical ($(find "$work/head/$d" -type f | wc -l) files)"
  else
    echo "same-output: $d DIFFERS:"; head -20 "$work/diff-$d"; fail=1
  fi
done
exit $fail
