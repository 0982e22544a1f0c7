"""Prints the side-by-side table of benches/peers/run.sh from its JSON outputs.

mnist-lab's reports are mnist-lab-ARCH-rROUND.json; each peer's lines for one net come in
round order. A ratio is taken within a round (the three ran minutes apart), and the table
gives each net's median s/epoch and median ratio over the rounds, then every round's ratios.
"""
import json
import os
import re
import statistics
import sys

out = sys.argv[1]
order = ["512-128", "512-256-128", "512-256-128-64-32"]
rank = lambda a: order.index(a) if a in order else 99

lab = {}  # arch -> {round: s/epoch}
gemm = {}  # (round, arch) -> GFLOP/s measured before the net
machine = None
for f in sorted(os.listdir(out)):
    m = re.fullmatch(r"mnist-lab-(.+)-r(\d+)\.json", f)
    if not m:
        continue
    rep = json.load(open(os.path.join(out, f)))
    machine = machine or rep
    for r in rep["results"]:
        lab.setdefault(r["arch"], {})[int(m.group(2))] = r["seconds_per_epoch"]
        gemm[(int(m.group(2)), r["arch"])] = rep["reference_gflops"]
if machine is None:
    sys.exit(f"no mnist-lab-ARCH-rROUND.json in {out}")

peers = {}  # (peer, arch) -> [s/epoch by round, from 1]
versions = {}
for name in ("keras-jax", "torch"):
    path = os.path.join(out, name + ".jsonl")
    if not os.path.exists(path):
        continue
    for line in open(path):
        r = json.loads(line)
        peers.setdefault((name, r["arch"]), []).append(r["seconds_per_epoch"])
        versions[name] = r["version"]

archs = sorted(lab, key=rank)
rounds = max(max(v) for v in lab.values())


def ratios(peer, arch):
    """mnist-lab over the peer, one per round that has both."""
    theirs = peers.get((peer, arch), [])
    return [lab[arch][k] / theirs[k - 1] for k in sorted(lab[arch]) if k - 1 < len(theirs)]


def median_or_dash(values, width, digits=2):
    return f"{statistics.median(values):{width}.{digits}f}" if values else f"{'-':>{width}}"


print(f"machine: {machine['cpu']} ({machine['threads']} threads); GEMM 128x784x512 "
      + ", ".join(f"{gemm[key]:.1f}" for key in sorted(gemm, key=lambda k: (k[0], rank(k[1]))))
      + " GFLOP/s (measured before each net)")
print("peers: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
print()
print(f"{'arch':<20} {'mnist-lab':>9} {'keras-jax':>9} {'torch':>9} {'lab/jax':>8} {'lab/torch':>9}")
for arch in archs:
    print(f"{arch:<20} {median_or_dash(list(lab[arch].values()), 9)} "
          f"{median_or_dash(peers.get(('keras-jax', arch), []), 9)} "
          f"{median_or_dash(peers.get(('torch', arch), []), 9)} "
          f"{median_or_dash(ratios('keras-jax', arch), 8)} "
          f"{median_or_dash(ratios('torch', arch), 9)}")
if rounds == 1:
    print("\nmedian s/epoch over epochs 2.. of each; lab/x below 1 means mnist-lab is faster")
else:
    print(f"\nmedians over {rounds} rounds of the median s/epoch over epochs 2.. of each, and of each "
          "round's ratio;\nlab/x below 1 means mnist-lab is faster. Each round's lab/jax and lab/torch:")
    for arch in archs:
        both = zip(ratios("keras-jax", arch), ratios("torch", arch))
        print(f"{arch:<20} " + "  ".join(f"{j:.2f}/{t:.2f}" for j, t in both))
