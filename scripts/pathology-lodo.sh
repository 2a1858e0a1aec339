#!/usr/bin/env bash
# Benign/malignant under leave-one-dataset-out (issue 30; docs/results.md "Pathology, leave-one-dataset-out").
# For each direction, the pathology classifiers trained without the left-out dataset
# (recipes/diagnosis/lodo/pathology-{crop,whole}-without-*.json, in runs/lodo-pathology/), lesion windows from
# that direction's segmenter (`classify evaluate --crop-from`), scored on the left-out dataset's test lesion images.
# Three variants: (b) lesion window, (a) whole image, (f) the mean of their probabilities. A temperature does not
# change an AUC, so none is fitted; (f)'s AUC is computed from the two predictions.csv files.
#
#   scripts/pathology-lodo.sh SONOSEG LODO_RUN OUT      e.g. .build/release/sonoseg runs/lodo-scanner runs/pathology-lodo
# A finished part is not redone.
set -euo pipefail
[ $# -eq 3 ] || { sed -n '2,/^set /p' "$0" | sed '$d'; exit 2; }
BIN=$(realpath "$1") LODO=$(realpath "$2") OUT=$(realpath -m "$3")
cd "$(dirname "$0")/.."
run() { local log=$1; shift; "$@" > "$log" 2>&1 || { echo "failed: $* (log: $log)" >&2; tail -5 "$log" >&2; exit 1; }; }
declare -A SPLIT=([busi]=splits/busi-lesions.json [bus-bra]=splits/busbra.json)
mkdir -p "$OUT"
for left in busi bus-bra; do
  for v in crop whole; do
    dir=$OUT/without-$left-$v
    [ -f "$dir/predictions.csv" ] || run "$OUT/without-$left-$v.log" "$BIN" classify evaluate \
      --model runs/lodo-pathology/pathology-$v-without-$left --data ../shared/data/$left --split ${SPLIT[$left]} --part test \
      --exclude normal --crop-from "$LODO/without-$left/model.safetensors" --name "pathology-$v-without-$left" --out "$dir"
    echo "== without-$left, $v"
    grep -E '^\|' "$dir/classification.md" | head -3 || true
  done
  python3 - "$OUT/without-$left-crop/predictions.csv" "$OUT/without-$left-whole/predictions.csv" <<'PY'
import csv, sys, random
def read(path):
    rows = list(csv.DictReader(open(path)))
    col = "p_malignant"
    return {r["id"]: (float(r[col]), r["true_class"] == "malignant") for r in rows}
a, b = read(sys.argv[1]), read(sys.argv[2])
ids = sorted(set(a) & set(b))
pairs = [((a[i][0] + b[i][0]) / 2, a[i][1]) for i in ids]
def auc(ps):
    pos = [p for p, y in ps if y]; neg = [p for p, y in ps if not y]
    return sum((p > q) + 0.5 * (p == q) for p in pos for q in neg) / (len(pos) * len(neg))
rng = random.Random(0)
boot = sorted(auc([rng.choice(pairs) for _ in pairs]) for _ in range(1000))
print(f"== mean of the two (f): AUC {auc(pairs):.3f} (95% CI {boot[25]:.3f}-{boot[974]:.3f}) on {len(ids)} images")
PY
done
