"""Compares a TensorBoard export with epochs.csv: every unit's scalars (train/test/validation
loss and accuracy, learning rate) at every epoch, exactly (both are float32), and the settings
text. Each folder's unit is the one its settings text names; every unit of epochs.csv must have
exactly one folder. Exits non-zero with the first difference. usage: check.py TB_DIR EPOCHS_CSV"""
import csv
import json
import os
import re
import struct
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

TAGS = {
    "train/loss": "train_loss",
    "train/accuracy": "train_acc",
    "test/loss": "test_loss",
    "test/accuracy": "test_acc",
    "validation/loss": "val_loss",
    "validation/accuracy": "val_acc",
    "learning_rate": "lr",
}


def f32(x):
    return struct.unpack("f", struct.pack("f", float(x)))[0]


def unit_of(tb_dir, folder):
    acc = EventAccumulator(os.path.join(tb_dir, folder), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    text = acc.Tensors("settings")[0].tensor_proto.string_val[0].decode()
    m = re.search(r'name: "((?:[^"\\]|\\.)*)"', text)
    if not m:
        sys.exit(f"{folder}: settings text names no unit: {text[:200]}")
    # The name as the settings text quotes it: JSON's escapes, UTF-8 kept.
    return json.loads('"' + m.group(1) + '"'), acc


def main(tb_dir, epochs_csv):
    rows = {}
    for r in csv.DictReader(open(epochs_csv)):
        # The unit's name: `unit` (older exports: `variant`).
        rows.setdefault(r.get("unit", r.get("variant")), []).append(r)
    checked = 0
    seen = set()
    folders = sorted(os.listdir(tb_dir))
    for folder in folders:
        unit, acc = unit_of(tb_dir, folder)
        if unit in seen:
            sys.exit(f"{unit}: two folders")
        seen.add(unit)
        if unit not in rows:
            sys.exit(f"{folder}: unit {unit!r} is not in epochs.csv")
        tags = acc.Tags()
        expected = rows[unit]
        for tag, column in TAGS.items():
            want = [(int(r["epoch"]), f32(r[column])) for r in expected if r[column] != ""]
            got = [(e.step, f32(e.value)) for e in acc.Scalars(tag)] if tag in tags["scalars"] else []
            if got != want:
                sys.exit(f"{unit}: {tag}: TensorBoard has {got}, epochs.csv {want}")
            checked += len(got)
    missing = set(rows) - seen
    if missing:
        sys.exit(f"units with no folder: {sorted(missing)}")
    print(f"ok: {len(folders)} units, {checked} scalars match epochs.csv")


if __name__ == "__main__":
    main(*sys.argv[1:3])
