#!/usr/bin/env bash
# Benign/malignant under leave-one-dataset-out (issue 30; docs/results.md "Pathology, leave-one-dataset-out").
# For each direction, the pathology classifiers trained without the left-out dataset
# (recipes/diagnosis/lodo/pathology-{crop,whole}-without-*.json, in runs/lodo-pathology/), windows from that
# direction's segmenter, a temperature fitted on the training dataset's validation images, scored on the
# left-out dataset's test lesion images (presence is fitted too, from the map, on the validation lesion images and
# lesion-free windows, and not read here). Three variants: (b) lesion window, (a) whole image, (f) their mean.
#
#   scripts/pathology-lodo.sh SONOSEG LODO_RUN OUT      e.g. .build/release/sonoseg runs/lodo-scanner runs/pathology-lodo
# A finished part is not redone.
set -euo pipefail
[ $# -eq 3 ] || { sed -n '2,/^set /p' "$0" | sed '$d'; exit 2; }
BIN=$(realpath "$1") LODO=$(realpath "$2") OUT=$(realpath -m "$3")
cd "$(dirname "$0")/.."
# A step that fails says where its log is, instead of ending the loop without a word.
run() { local log=$1; shift; "$@" > "$log" 2>&1 || { echo "failed: $* (log: $log)" >&2; tail -5 "$log" >&2; exit 1; }; }
mkdir -p "$OUT"
declare -A TRAIN=([busi]=bus-bra [bus-bra]=busi)
declare -A SPLIT=([busi]=splits/busi-lesions.json [bus-bra]=splits/busbra.json)
declare -A MEMBERS=([b-crop]='"runs/lodo-pathology/pathology-crop-without-LEFT"'
                    [a-whole]='"runs/lodo-pathology/pathology-whole-without-LEFT"'
                    [f-mean]='"runs/lodo-pathology/pathology-crop-without-LEFT", "runs/lodo-pathology/pathology-whole-without-LEFT"')
for left in busi bus-bra; do
  kept=${TRAIN[$left]}
  for variant in b-crop a-whole f-mean; do
    dir=$OUT/without-$left-$variant
    mkdir -p "$dir"
    cat > "$dir/bundle.json" <<JSON
{
  "segmenter": "$LODO/without-$left/model.safetensors",
  "pathology": [${MEMBERS[$variant]//LEFT/$left}],
  "calibration": [
    {"path": "../shared/data/$kept", "split": "${SPLIT[$kept]}", "part": "validation"},
    {"path": "runs/windows/$kept", "split": "runs/windows/$kept/split.json", "part": "validation", "classes": ["normal"]}
  ],
  "presenceInputs": "map"
}
JSON
    [ -f "$dir/bundle/diagnosis.json" ] || run "$dir/fit.log" "$BIN" diagnosis fit "$dir/bundle.json" --out "$dir/bundle"
    [ -f "$dir/eval/predictions.csv" ] || run "$dir/eval.log" "$BIN" diagnosis evaluate --diagnosis "$dir/bundle" --segmenter "$LODO/without-$left/model.safetensors" \
      --data ../shared/data/$left --split ${SPLIT[$left]} --part test --name "without-$left ($variant)" --out "$dir/eval"
    echo "== without-$left, pathology $variant"
    sed -n '/Pathology/,/BI-RADS\|Lesion presence/p' "$dir/eval/diagnosis.md" | grep -E '^\|' | head -3 || true
  done
done
