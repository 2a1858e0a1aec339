#!/usr/bin/env python3
"""Writes the model-header seeds of fuzz/corpus that once crashed `segment` or grew without bound (issue 28,
item 7): each is fuzz/corpus/model-header.json (a valid U-Net header) with one value changed, and an ensemble
header whose second member has such a value. `sonoseg fuzz` replays every seed unmutated before its mutants,
so these stay refused. Usage: scripts/make-header-seeds.py fuzz/corpus"""
import copy
import json
import sys
from pathlib import Path


def write(folder, name, value):
    (folder / name).write_text(json.dumps(value, indent=1, sort_keys=True) + "\n")


def main(folder):
    folder = Path(folder)
    valid = json.loads((folder / "model-header.json").read_text())

    def changed(path, value):
        header = copy.deepcopy(valid)
        *parents, key = path
        target = header
        for p in parents:
            target = target[p]
        target[key] = value
        return header

    write(folder, "model-header-base-channels-0.json", changed(["unet", "baseChannels"], 0))   # precondition failure
    write(folder, "model-header-depth-99.json", changed(["unet", "depth"], 99))                # grew past 11 GB
    write(folder, "model-header-width-2pow40.json", changed(["preprocess", "width"], 2 ** 40))  # allocation abort
    # The members of an ensemble went unchecked: depth -1 in the second one was an illegal instruction.
    write(folder, "model-header-ensemble-bad-member.json", {
        "format": "sonoseg.ensemble/1", "recipe": "ensemble of a.safetensors, b.safetensors", "threshold": 0.5,
        "members": [valid, changed(["unet", "depth"], -1)]})


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus")
