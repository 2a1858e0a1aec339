#!/usr/bin/env bash
# Does hiding burned-in calipers and text change the default U-Net's Dice on BUSI test images?
# Inpaints every BUSI test lesion image with an implicit model (`sonoseg implicit inpaint --auto`), evaluates the
# default U-Net on the originals and on the inpainted copies, and compares Dice image by image.
# Usage: scripts/caliper-study.sh IMPLICIT_MODEL [OUT]   (from the repository root, after `swift build -c release`)
set -euo pipefail
model=${1:?usage: scripts/caliper-study.sh IMPLICIT_MODEL [OUT]}
out=${2:-caliper-study}
S=.build/release/sonoseg
busi=../shared/data/busi
root=$busi/Dataset_BUSI_with_GT
clean=$out/busi-inpainted/Dataset_BUSI_with_GT
mkdir -p "$clean/benign" "$clean/malignant" "$out/inpaint"
ids=$(python3 -c "import json; print('\n'.join(json.load(open('splits/busi-lesions.json'))['test']))")
files=()
while IFS= read -r id; do files+=("$root/${id%% *}/$id.png"); done <<< "$ids"
$S implicit inpaint --auto "${files[@]}" --model "$model" --out "$out/inpaint" --threads 2
while IFS= read -r id; do
  class=${id%% *}
  cp "$out/inpaint/${id}_inpainted.png" "$clean/$class/$id.png"
  cp "$root/$class/$id"_mask*.png "$clean/$class/"
done <<< "$ids"
$S evaluate --data "$busi" --split splits/busi-lesions.json --part test --exclude normal --out "$out/original" > /dev/null
$S evaluate --data "$out/busi-inpainted" --part all --out "$out/inpainted" > /dev/null
python3 - "$out" <<'PY'
import csv, random, sys
out = sys.argv[1]
def dice(path):
    with open(path) as f: return {r["id"]: float(r["dice"]) for r in csv.DictReader(f)}
hidden = {}
with open(f"{out}/inpaint/annotations.csv") as f:
    for r in csv.DictReader(f): hidden[r["image"].rsplit(".", 1)[0]] = int(r["hidden_pixels"])
a, b = dice(f"{out}/original/metrics.csv"), dice(f"{out}/inpainted/metrics.csv")
def summary(name, ids):
    d = [b[i] - a[i] for i in ids]
    rng = random.Random(0); boots = sorted(sum(rng.choice(d) for _ in d) / len(d) for _ in range(2000))
    print(f"{name}: {len(ids)} images, Dice original {sum(a[i] for i in ids)/len(ids):.4f}, inpainted {sum(b[i] for i in ids)/len(ids):.4f}, "
          f"change {sum(d)/len(d):+.4f} (95% CI {boots[49]:+.4f} to {boots[1949]:+.4f}); better {sum(x > 0.005 for x in d)}, worse {sum(x < -0.005 for x in d)}")
common = sorted(set(a) & set(b))
summary("all test images", common)
marked = [i for i in common if hidden.get(i.split("/")[-1], 0) >= 1000]
if marked: summary("images with >= 1000 hidden pixels (calipers or text beyond the corner logo)", marked)
PY
