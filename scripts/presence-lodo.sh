#!/usr/bin/env bash
# Lesion presence under leave-one-dataset-out (issue 30; docs/results.md "Lesion presence, leave-one-dataset-out").
# For each direction, a diagnosis bundle is fitted on the training dataset's validation images only (its lesion
# images and the lesion-free windows cut from them: `sonoseg dataset windows`), with that direction's segmenter
# (`sonoseg cv … --leave-out dataset`) and presence classifier (recipes/diagnosis/presence-windows-without-*.json),
# and scored on the left-out dataset's test lesion images against all 133 BUSI normal images, which no
# network here trained on. Each direction is fitted twice: the classifier's logit alone, and with the map.
#
#   scripts/presence-lodo.sh SONOSEG LODO_RUN OUT      e.g. .build/release/sonoseg runs/lodo-scanner runs/presence-lodo
# Needs runs/windows/{busi,bus-bra} and runs/presence-without-{busi,bus-bra}. A finished part is not redone.
set -euo pipefail
BIN=$1 LODO=$2 OUT=$3
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
declare -A TRAIN=([busi]=bus-bra [bus-bra]=busi)
declare -A SPLIT=([busi]=splits/busi-lesions.json [bus-bra]=splits/busbra.json)
for left in busi bus-bra; do
  kept=${TRAIN[$left]}
  for inputs in classifier mapAndClassifier; do
    dir=$OUT/without-$left-$inputs
    mkdir -p "$dir"
    cat > "$dir/bundle.json" <<JSON
{
  "segmenter": "$LODO/without-$left/model.safetensors",
  "pathology": "models/diagnosis/pathology-1.safetensors",
  "presenceClassifier": "runs/presence-without-$left",
  "presenceInputs": "$inputs",
  "presenceSensitivity": 0.98,
  "calibration": [
    {"path": "../shared/data/$kept", "split": "${SPLIT[$kept]}", "part": "validation"},
    {"path": "runs/windows/$kept", "split": "runs/windows/$kept/split.json", "part": "validation", "classes": ["normal"]}
  ]
}
JSON
    cat > "$dir/images.json" <<JSON
[
  {"path": "../shared/data/$left", "split": "${SPLIT[$left]}", "part": "test"},
  {"path": "../shared/data/busi", "part": "all", "classes": ["normal"]}
]
JSON
    [ -f "$dir/bundle/diagnosis.json" ] || "$BIN" diagnosis fit "$dir/bundle.json" --out "$dir/bundle" > "$dir/fit.log" 2>&1
    [ -f "$dir/eval/diagnosis.md" ] || "$BIN" diagnosis evaluate --diagnosis "$dir/bundle" --segmenter "$LODO/without-$left/model.safetensors" \
      --images "$dir/images.json" --name "without-$left ($inputs)" --out "$dir/eval" > "$dir/eval.log" 2>&1
    echo "== without-$left, presence from: $inputs"
    grep -E 'presence: |threshold' "$dir/fit.log" | tail -2
    sed -n '/Lesion presence/,$p' "$dir/eval/diagnosis.md" | grep -E '^\|' | head -4
  done
done
