# Reference for tests/stats.rs: each effect against its own seed x effect error.
# pip install statsmodels pandas scipy pingouin
import numpy as np, pandas as pd, pingouin as pg
from scipy import stats
from statsmodels.stats.anova import AnovaRM
rng = np.random.default_rng(7)
S = 8
seed = rng.normal(0, 0.02, S)
# 2x2: cells (A0,B0) (A0,B1) (A1,B0) (A1,B1); the B0->B1 differences under A1 vary 3x more
rows = []
for s in range(S):
    base = 0.10 + seed[s]
    for a in range(2):
        for b in range(2):
            noise = rng.normal(0, 0.004 if a == 0 else 0.012) if b == 1 else rng.normal(0, 0.002)
            y = base + 0.006 * a + 0.008 * b + noise
            rows.append(dict(seed=s, A=a, B=b, y=round(y, 4)))
df = pd.DataFrame(rows)
print("Y22 (A, B, seed order):", [r.y for r in df.sort_values(["A", "B", "seed"]).itertuples()])
print(AnovaRM(df, "y", "seed", within=["A", "B"]).fit().anova_table.to_string(float_format=lambda v: repr(float(v))))
# LS-means of A: per-seed means over B, t-interval over seeds
for a in range(2):
    m = df[df.A == a].groupby("seed").y.mean().values
    h = stats.sem(m) * stats.t.ppf(0.975, S - 1)
    print("A", a, repr(m.mean()), repr(m.mean() - h), repr(m.mean() + h))
# 2x3 over 6 seeds: Greenhouse-Geisser for the 2-df terms
S3 = 6
rows = []
for s in range(S3):
    base = 0.10 + rng.normal(0, 0.02)
    for a in range(2):
        for b in range(3):
            y = base + 0.004 * a + 0.003 * b + rng.normal(0, 0.002 * (1 + 2 * (b == 2)))
            rows.append(dict(seed=s, A=a, B=b, y=round(y, 4)))
d3 = pd.DataFrame(rows)
print("Y23 (A, B, seed order):", [r.y for r in d3.sort_values(["A", "B", "seed"]).itertuples()])
print(AnovaRM(d3, "y", "seed", within=["A", "B"]).fit().anova_table.to_string(float_format=lambda v: repr(float(v))))
print(pg.rm_anova(d3, dv="y", within=["A", "B"], subject="seed", correction=True).to_string(float_format=lambda v: repr(float(v))))
# Tukey of B (3 levels) against the seed x B error: SE of a difference sqrt(2 MS / (S * cells per level))
t = pg.rm_anova(d3, dv="y", within=["A", "B"], subject="seed", correction=True)
bm = d3.groupby(["seed", "B"]).y.mean().unstack()
resid = bm.values - bm.values.mean(1, keepdims=True) - bm.values.mean(0, keepdims=True) + bm.values.mean()
ss_err = 2 * (resid ** 2).sum()    # 2 cells (levels of A) per level of B
dfe = (S3 - 1) * 2
ms = ss_err / dfe
se = np.sqrt(2 * ms / (S3 * 2))
qc = stats.studentized_range.ppf(0.95, 3, dfe)
means = bm.values.mean(0)
for i in range(3):
    for j in range(i + 1, 3):
        diff = means[i] - means[j]
        q = abs(diff) / se * np.sqrt(2)
        print("tukey B", i, j, repr(diff), repr(diff - qc / np.sqrt(2) * se), repr(diff + qc / np.sqrt(2) * se), repr(stats.studentized_range.sf(q, 3, dfe)))
