"""Prints the side-by-side table of benches/peers/run.sh from its JSON outputs."""
import json
import os
import sys

out = sys.argv[1]
reports = [json.load(open(os.path.join(out, f)))
           for f in sorted(os.listdir(out)) if f.startswith("mnist-lab-") and f.endswith(".json")]
order = ["512-128", "512-256-128", "512-256-128-64-32"]
rank = lambda a: order.index(a) if a in order else 99
reports.sort(key=lambda rep: rank(rep["results"][0]["arch"]) if rep["results"] else 99)
lab = dict(reports[0])
lab["results"] = sorted((r for rep in reports for r in rep["results"]),
                        key=lambda r: rank(r["arch"]))
gemm = [rep["reference_gflops"] for rep in reports]
peers = {}
versions = {}
for name in ("keras-jax", "torch"):
    path = os.path.join(out, name + ".jsonl")
    if not os.path.exists(path):
        continue
    for line in open(path):
        r = json.loads(line)
        peers[(name, r["arch"])] = r["seconds_per_epoch"]
        versions[name] = r["version"]

print(f"machine: {lab['cpu']} ({lab['threads']} threads); GEMM 128x784x512 "
      + ", ".join(f"{g:.1f}" for g in gemm) + " GFLOP/s (measured before each net)")
print("peers: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
print()
head = f"{'arch':<20} {'mnist-lab':>9} {'keras-jax':>9} {'torch':>9} {'lab/jax':>8} {'lab/torch':>9}"
print(head)
for r in lab["results"]:
    arch, s = r["arch"], r["seconds_per_epoch"]
    jax, torch = peers.get(("keras-jax", arch)), peers.get(("torch", arch))
    fmt = lambda v: f"{v:9.2f}" if v else f"{'-':>9}"
    ratio = lambda v: f"{s / v:8.2f}" if v else f"{'-':>8}"
    print(f"{arch:<20} {s:9.2f} {fmt(jax)} {fmt(torch)} {ratio(jax)} {ratio(torch):>9}")
print("\nmedian s/epoch over epochs 2.. of each; lab/x below 1 means mnist-lab is faster")
