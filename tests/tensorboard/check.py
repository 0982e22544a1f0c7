"""Compares a TensorBoard export with epochs.csv: every unit's scalars (train/test/validation
loss and accuracy, learning rate) at every epoch, exactly (both are float32), and the settings
text. Exits non-zero with the first difference. usage: check.py TB_DIR EPOCHS_CSV MAPPING_CSV"""
import csv
import os
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


def main(tb_dir, epochs_csv, mapping_csv):
    rows = {}
    for r in csv.DictReader(open(epochs_csv)):
        rows.setdefault(r["variant"], []).append(r)
    mapping = list(csv.DictReader(open(mapping_csv)))
    checked = 0
    for m in mapping:
        unit, folder = m["unit"], m["dir"]
        acc = EventAccumulator(os.path.join(tb_dir, folder), size_guidance={"scalars": 0, "tensors": 0})
        acc.Reload()
        tags = acc.Tags()
        expected = rows[unit]
        for tag, column in TAGS.items():
            want = [(int(r["epoch"]), f32(r[column])) for r in expected if r[column] != ""]
            got = [(e.step, f32(e.value)) for e in acc.Scalars(tag)] if tag in tags["scalars"] else []
            if got != want:
                sys.exit(f"{unit}: {tag}: TensorBoard has {got}, epochs.csv {want}")
            checked += len(got)
        text = acc.Tensors("settings")[0].tensor_proto.string_val[0].decode()
        if f'name: "{unit}"' not in text:
            sys.exit(f"{unit}: settings text does not name the unit: {text[:200]}")
    print(f"ok: {len(mapping)} units, {checked} scalars match epochs.csv")


if __name__ == "__main__":
    main(*sys.argv[1:4])
