# Reference for tests/stats.rs: the REML mixed model (seed, seed x A, seed x B random) that
# mnist-lab fits where seeds are shared but the cells are no complete grid.
# pip install statsmodels pandas scipy numpy
import numpy as np, pandas as pd, warnings
from scipy import stats
from statsmodels.regression.mixed_linear_model import MixedLM
# Data: 2 archs x 3 rates x 6 seeds with seed, seed x arch and seed x rate effects (printed as
# YM, the order of tests/stats.rs: arch, rate, seed), stored by the unit file as f32; cell
# (A0, B1) left out entirely (a nested design) and seed 5's (A1, B2) unit failed.
rng = np.random.default_rng(41)
S = 6
u_s, u_sa, u_sb = rng.normal(0, 0.01, S), rng.normal(0, 0.005, (S, 2)), rng.normal(0, 0.005, (S, 3))
YM = [round(0.10 + 0.006 * a + 0.004 * b + u_s[s] + u_sa[s, a] + u_sb[s, b] + rng.normal(0, 0.002), 4)
       for a in range(2) for b in range(3) for s in range(S)]
print("YM:", [float(v) for v in YM])
rows = []
for a in range(2):
    for b in range(3):
        for s in range(S):
            if (a, b) == (0, 1) or (a, b, s) == (1, 2, 5):
                continue
            y = float(np.float32(YM[(a * 3 + b) * S + s]))
            rows.append(dict(seed=s, A=a, B=b, cell=f"{a}{b}", y=y))
df = pd.DataFrame(rows)
print("units", len(df))

def fit(data, balanced=False):
    m = MixedLM.from_formula("y ~ 0 + C(cell)", data, groups="seed", re_formula="1",
                             vc_formula={"A": "0 + C(A)", "B": "0 + C(B)"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = m.fit(reml=True, method=["bfgs"], gtol=1e-12, maxiter=5000)
    return m, r

m, r = fit(df)
seed_var = float(r.cov_re.iloc[0, 0])
vcA, vcB = [float(v) for v in r.vcomp]
print("theta (seed, seed x A, seed x B, residual):", repr(seed_var), repr(vcA), repr(vcB), repr(float(r.scale)))
print("REML llf:", repr(float(r.llf)), "converged", r.converged)
# The optimum does not depend on the optimiser: lbfgs, nm and cg agree to 1e-4 (bfgs reaches
# the highest REML llf of the four, so it is the reference).
for meth in ["lbfgs", "nm", "cg"]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r2 = m.fit(reml=True, method=[meth], gtol=1e-12, maxiter=20000)
    print("  " + meth + ":", repr(float(r2.llf)), repr(float(r2.cov_re.iloc[0, 0])), *[repr(float(v)) for v in r2.vcomp], repr(float(r2.scale)))

# Everything below is numpy on statsmodels' variance components: V, GLS, Wald F (type II:
# each term given the terms that do not contain it) and Satterthwaite's df with the
# expected information (as mnist-lab: Fai & Cornelius over the hypothesis' eigen-directions).
n = len(df)
Zs = [pd.get_dummies(df.seed).values.astype(float),
      pd.get_dummies(df.seed.astype(str) + "_" + df.A.astype(str)).values.astype(float),
      pd.get_dummies(df.seed.astype(str) + "_" + df.B.astype(str)).values.astype(float),
      np.eye(n)]
theta = np.array([seed_var, vcA, vcB, r.scale])
y = df.y.values
def V(t): return sum(ti * Z @ Z.T for ti, Z in zip(t, Zs))
def cov_beta(X, t): return np.linalg.inv(X.T @ np.linalg.solve(V(t), X))
Vi = np.linalg.inv(V(theta))
Xfull = pd.get_dummies(df.cell).values.astype(float)
P = Vi - Vi @ Xfull @ np.linalg.inv(Xfull.T @ Vi @ Xfull) @ Xfull.T @ Vi
info = np.array([[0.5 * np.trace(P @ Zi @ Zi.T @ P @ Zj @ Zj.T) for Zj in Zs] for Zi in Zs])
A_cov = np.linalg.inv(info)
def satt(X, l):
    var = l @ cov_beta(X, theta) @ l
    g = []
    for k in range(4):
        h = theta[k] * 1e-5
        tp, tm = theta.copy(), theta.copy(); tp[k] += h; tm[k] -= h
        g.append((l @ cov_beta(X, tp) @ l - l @ cov_beta(X, tm) @ l) / (2 * h))
    g = np.array(g)
    return 2 * var ** 2 / (g @ A_cov @ g)
def wald(Xr, Xt):
    X = np.hstack([Xr, Xt])
    C = cov_beta(X, theta)
    beta = C @ X.T @ Vi @ y
    q = Xt.shape[1]
    idx = list(range(X.shape[1] - q, X.shape[1]))
    M = C[np.ix_(idx, idx)]
    d, U = np.linalg.eigh(M)
    F = sum((U[:, j] @ beta[idx]) ** 2 / d[j] for j in range(q)) / q
    nus = []
    for j in range(q):
        l = np.zeros(X.shape[1]); l[idx] = U[:, j]
        nus.append(satt(X, l))
    if q == 1: ddf = nus[0]
    elif any(v <= 2 for v in nus): ddf = 2.0
    else:
        E = sum(v / (v - 2) for v in nus); ddf = 2 * E / (E - q)
    return F, q, ddf, stats.f.sf(F, q, ddf)
one = np.ones((n, 1))
A1 = (df.A.values == 1).astype(float)[:, None]
B = np.stack([(df.B.values == 1), (df.B.values == 2)], 1).astype(float)
AB = A1 * B
AB = AB[:, [1]]  # (A1,B1) is aliased with B1 once (A0,B1) is missing: one df left
for name, Xr, Xt in [("widths", np.hstack([one, B]), A1), ("dropout", np.hstack([one, A1]), B),
                     ("widths x dropout", np.hstack([one, A1, B]), AB)]:
    F, q, ddf, p = wald(Xr, Xt)
    print(name, "F", repr(float(F)), "df", q, "ddf", repr(float(ddf)), "p", repr(float(p)))
cells = sorted(df.cell.unique())
# LS-means of the rates estimable here (B0, B2: averaged over both archs), with Satterthwaite df.
Cb = cov_beta(Xfull, theta); beta = Cb @ Xfull.T @ Vi @ y
for b in [0, 2]:
    l = np.zeros(len(cells)); l[cells.index(f"0{b}")] = 0.5; l[cells.index(f"1{b}")] = 0.5
    est, se, dfl = l @ beta, np.sqrt(l @ Cb @ l), satt(Xfull, l)
    # statsmodels' own estimate and SE of the same contrast
    sm_est = float(l @ r.fe_params.values); sm_se = float(np.sqrt(l @ r.cov_params().values[:len(cells), :len(cells)] @ l))
    h = stats.t.ppf(0.975, dfl) * se
    print("LS-mean B", b, repr(float(est)), "se", repr(float(se)), "df", repr(float(dfl)), "ci", repr(float(est - h)), repr(float(est + h)), "| statsmodels", repr(sm_est), repr(sm_se))
# The complete grid (all 36 units): AnovaRM's F, which the mixed model must reproduce with
# Satterthwaite's df equal to the strata's ((seeds - 1) x term df) when no component is 0.
from statsmodels.stats.anova import AnovaRM
full = pd.DataFrame([dict(seed=s, A=a, B=b, y=float(np.float32(YM[(a * 3 + b) * S + s])))
                     for a in range(2) for b in range(3) for s in range(S)])
print(AnovaRM(full, "y", "seed", within=["A", "B"]).fit().anova_table.to_string(float_format=lambda v: repr(float(v))))
full["cell"] = full.A.astype(str) + full.B.astype(str)
_, rf = fit(full)
print("complete grid theta:", repr(float(rf.cov_re.iloc[0, 0])), *[repr(float(v)) for v in rf.vcomp], repr(float(rf.scale)))
