"""Reference numbers for tests/stats.rs (paired tests, Tukey, blocked and type II ANOVA,
least-squares means, power). SciPy 1.17.1, statsmodels 0.15.0, pandas, numpy:
    pip install scipy statsmodels pandas && python3 tests/reference/stats_24.py
Every number the Rust tests assert is printed here, in the order the tests use them."""
import itertools
import numpy as np, pandas as pd
from scipy import stats
from statsmodels.formula.api import ols
import statsmodels.api as sm
from statsmodels.stats.power import TTestPower
from statsmodels.stats.multicomp import pairwise_tukeyhsd

np.set_printoptions(precision=15)
repr = lambda v: "%r" % float(v) if np.ndim(v) == 0 else "%r" % (np.asarray(v).tolist(),)
# --- paired t and sign-flip permutation
a = np.array([0.0512, 0.0538, 0.0497, 0.0561, 0.0525, 0.0544])
b = np.array([0.0531, 0.0549, 0.0522, 0.0570, 0.0551, 0.0548])
r = stats.ttest_rel(a, b)
ci = r.confidence_interval(0.95)
print("paired t", repr(r.statistic), "df", r.df, "p", repr(r.pvalue), "ci", repr(ci.low), repr(ci.high))
perm = stats.permutation_test((a - b,), np.mean, permutation_type="samples", n_resamples=np.inf,
                              alternative="two-sided")
print("sign-flip p", repr(perm.pvalue))
d2 = np.array([0.3, -0.1, 0.5, 0.2, 0.4, -0.2, 0.6, 0.1, 0.35])
perm2 = stats.permutation_test((d2,), np.mean, permutation_type="samples", n_resamples=np.inf)
print("sign-flip p (9)", repr(perm2.pvalue))

# --- studentized range
for q, k, df in [(3.5, 3, 10), (2.0, 4, 5), (4.2, 6, 30)]:
    print("ptukey", q, k, df, repr(stats.studentized_range.cdf(q, k, df)))
print("qtukey 0.95 3 10", repr(stats.studentized_range.ppf(0.95, 3, 10)))

# --- power (paired t = one-sample t on the differences)
tp = TTestPower()
print("power d=0.8 n=5", repr(tp.power(effect_size=0.8, nobs=5, alpha=0.05)))
print("effect n=5 power .8", repr(tp.solve_power(effect_size=None, nobs=5, alpha=0.05, power=0.8)))
print("nobs d=0.5 power .8", repr(tp.solve_power(effect_size=0.5, nobs=None, alpha=0.05, power=0.8)))

# --- one-way Tukey HSD (no shared seeds: no block)
g = np.repeat(["Every", "First", "Last"], 4)
y1 = np.array([0.101, 0.097, 0.104, 0.099, 0.108, 0.112, 0.106, 0.110, 0.100, 0.103, 0.098, 0.102])
t = pairwise_tukeyhsd(y1, g)
print(t.summary())
print("tukey meandiffs", repr(t.meandiffs), "\nconfint", repr(t.confint), "\np", repr(t.pvalues))

# --- 2x3 grid over 3 shared seeds: seed-blocked ANOVA (type II), LS-means
A = ["512-128", "512-256-128"]; B = ["Every", "First", "Last"]; seeds = [1, 2, 3]
y = [0.100, 0.104, 0.097,  0.108, 0.113, 0.105,  0.101, 0.107, 0.099,
     0.112, 0.118, 0.109,  0.115, 0.121, 0.110,  0.113, 0.116, 0.108]
rows = []
k = 0
for la in A:
    for lb in B:
        for s in seeds:
            rows.append(dict(A=la, B=lb, seed=s, y=y[k])); k += 1
df = pd.DataFrame(rows)
def report(df, label):
    m = ols("y ~ C(seed) + C(A) + C(B) + C(A):C(B)", data=df).fit()
    print(label, "\n", sm.stats.anova_lm(m, typ=2).to_string(float_format=lambda v: "%r" % float(v)))
    # LS-means of B: average the design rows over every A level and every seed.
    from patsy import dmatrix, dmatrices
    di = dmatrices("y ~ C(seed) + C(A) + C(B) + C(A):C(B)", df)[1].design_info
    for lb in B:
        grid = pd.DataFrame([dict(A=la, B=lb, seed=s) for la in A for s in seeds])
        X = np.asarray(dmatrix(di, grid))
        L = X.mean(axis=0)
        est = L @ m.params.values
        se = np.sqrt(L @ m.cov_params().values @ L)
        tq = stats.t.ppf(0.975, m.df_resid)
        print(label, "lsmean B", lb, repr(est), "se", repr(se), "ci", repr(est - tq * se), repr(est + tq * se))
    # Tukey between B's LS-means from the model
    Ls = []
    for lb in B:
        grid = pd.DataFrame([dict(A=la, B=lb, seed=s) for la in A for s in seeds])
        Ls.append(np.asarray(dmatrix(di, grid)).mean(axis=0))
    qc = stats.studentized_range.ppf(0.95, 3, m.df_resid)
    for i, j in itertools.combinations(range(3), 2):
        L = Ls[i] - Ls[j]
        est = L @ m.params.values
        se = np.sqrt(L @ m.cov_params().values @ L)
        q = abs(est) / se * np.sqrt(2)
        print(label, "tukey", B[i], B[j], repr(est), "ci", repr(est - qc / np.sqrt(2) * se),
              repr(est + qc / np.sqrt(2) * se), "p", repr(stats.studentized_range.sf(q, 3, m.df_resid)))
report(df, "balanced")
# One unit failed: (512-256-128, First, seed 2) missing.
report(df.drop(index=13).reset_index(drop=True), "one missing")

# --- tests/stats.rs's GRID (2 depths x 3 placements x 2 dropouts, 2 shared seeds): blocked
Y = [0.10, 0.12, 0.08, 0.09, 0.11, 0.10, 0.07, 0.08, 0.09, 0.11, 0.06, 0.05, 0.13, 0.12, 0.10, 0.12,
     0.12, 0.14, 0.09, 0.10, 0.10, 0.09, 0.08, 0.07]
rows = []; k = 0
for la in ["2", "3"]:
    for lb in ["Every", "First", "Last"]:
        for ld in ["0.2", "0.5"]:
            for s in [1, 2]:
                rows.append(dict(A=la, B=lb, D=ld, seed=s, y=Y[k])); k += 1
m = ols("y ~ C(seed) + C(A) + C(B) + C(D) + C(A):C(B) + C(A):C(D) + C(B):C(D)", data=pd.DataFrame(rows)).fit()
print("GRID blocked\n", sm.stats.anova_lm(m, typ=2).to_string(float_format=lambda v: "%r" % float(v)))
