#!/usr/bin/env bash
# Lesion presence under leave-one-dataset-out (issue 30; docs/results.md "Lesion presence, leave-one-dataset-out").
# For each direction, a diagnosis bundle is fitted on the training dataset's validation images only (its lesion
# images and the lesion-free windows cut from them: `sonoseg dataset windows`), with that direction's segmenter
# (`sonoseg cv … --leave-out dataset`) and presence classifier (recipes/diagnosis/presence-windows-without-*.json),
# and scored on the left-out dataset's test lesion images against all 133 BUSI normal images, which no
# network here trained on (eval/), and on the left-out dataset's test lesion-free windows (eval-windows/: the
# left-out scanner's own normal tissue; in the without-bus-bra direction the BUSI normals come from the training
# scanner). Each direction is fitted twice: the classifier's logit alone, and with the map.
#
#   scripts/presence-lodo.sh SONOSEG LODO_RUN OUT [CLASSIFIERS]
#     e.g. .build/release/sonoseg runs/lodo-scanner runs/presence-lodo
#          .build/release/sonoseg runs/lodo-scanner runs/presence-lodo-candidates runs/presence-candidates-without
# CLASSIFIERS is the presence classifiers' folder without its "-busi"/"-bus-bra" (default runs/presence-without:
# the windows networks); with it given, only the two variants of the rule are fitted (map alone reads no network).
# Needs runs/windows/{busi,bus-bra} and the classifiers. A finished part is not redone.
set -euo pipefail
[ $# -eq 3 ] || [ $# -eq 4 ] || { sed -n '2,/^set /p' "$0" | sed '$d'; exit 2; }
BIN=$(realpath "$1") LODO=$(realpath "$2") OUT=$(realpath -m "$3") CLASSIFIERS=$(realpath -m "${4:-runs/presence-without}")
INPUTS="classifier mapAndClassifier"; [ $# -eq 4 ] || INPUTS="$INPUTS map"
cd "$(dirname "$0")/.."
# A step that fails says where its log is, instead of ending the loop without a word.
run() { local log=$1; shift; "$@" > "$log" 2>&1 || { echo "failed: $* (log: $log)" >&2; tail -5 "$log" >&2; exit 1; }; }
mkdir -p "$OUT"
declare -A TRAIN=([busi]=bus-bra [bus-bra]=busi)
declare -A SPLIT=([busi]=splits/busi-lesions.json [bus-bra]=splits/busbra.json)
for left in busi bus-bra; do
  kept=${TRAIN[$left]}
  # map (the segmenter's four features alone) was added after the first direction's figures had been read: it is
  # reported beside the two variants of the selection rule, not chosen by it.
  for inputs in $INPUTS; do
    dir=$OUT/without-$left-$inputs
    mkdir -p "$dir"
    cat > "$dir/bundle.json" <<JSON
{
  "segmenter": "$LODO/without-$left/model.safetensors",
  "pathology": "models/diagnosis/pathology-1.safetensors",
  "presenceClassifier": "$CLASSIFIERS-$left",
  "presenceInputs": "$inputs",
  "presenceSensitivity": 0.98,
  "calibration": [
    {"path": "../shared/data/$kept", "split": "${SPLIT[$kept]}", "part": "validation"},
    {"path": "runs/windows/$kept", "split": "runs/windows/$kept/split.json", "part": "validation", "classes": ["normal"]}
  ]
}
JSON
    cat > "$dir/images.json" <<JSON
{"images": [
  {"path": "../shared/data/$left", "split": "${SPLIT[$left]}", "part": "test"},
  {"path": "../shared/data/busi", "part": "all", "classes": ["normal"]}
]}
JSON
    [ -f "$dir/bundle/diagnosis.json" ] || run "$dir/fit.log" "$BIN" diagnosis fit "$dir/bundle.json" --out "$dir/bundle"
    [ -f "$dir/eval/predictions.csv" ] || run "$dir/eval.log" "$BIN" diagnosis evaluate --diagnosis "$dir/bundle" --segmenter "$LODO/without-$left/model.safetensors" \
      --images "$dir/images.json" --name "without-$left ($inputs)" --out "$dir/eval"
    cat > "$dir/windows.json" <<JSON
{"images": [{"path": "runs/windows/$left", "split": "runs/windows/$left/split.json", "part": "test", "classes": ["normal"]}]}
JSON
    [ -f "$dir/eval-windows/predictions.csv" ] || run "$dir/eval-windows.log" "$BIN" diagnosis evaluate --diagnosis "$dir/bundle" \
      --segmenter "$LODO/without-$left/model.safetensors" --images "$dir/windows.json" --name "without-$left ($inputs), lesion-free windows" --out "$dir/eval-windows"
    echo "== without-$left, presence from: $inputs"
    awk -F, -v t="$(grep -o '"threshold" : [0-9.e-]*' "$dir/bundle/diagnosis.json" | head -1 | awk '{print $3}')" \
      'NR > 1 { n++; if ($5 < t) free++ } END { printf "left-out lesion-free windows: %d of %d called lesion-free (specificity %.3f)\n", free, n, free / n }' \
      "$dir/eval-windows/predictions.csv"
    grep -E 'presence: |threshold' "$dir/fit.log" | tail -2 || true
    sed -n '/Lesion presence/,$p' "$dir/eval/diagnosis.md" | grep -E '^\|' | head -4 || true
  done
done
