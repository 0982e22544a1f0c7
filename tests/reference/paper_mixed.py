# Reference for tests/stats.rs: statsmodels' MixedLM on the committed paper-2019-seeds units
# (results/paper-2019-seeds/units.csv, test loss as the unit file's f32), with mnist-lab's
# fixed terms (depth, BN+Dropout, the optimiser/lr/dropout block, depth x BN+Dropout,
# depth x dropout) and random seed, seed x depth, seed x BN+Dropout, seed x optimiser.
# Three optimisers; Nelder-Mead reaches the highest REML llf (the others stop short at the
# boundary where seed x depth is 0), so its components are the reference.
# pip install statsmodels pandas numpy
import pandas as pd, numpy as np, warnings
from statsmodels.regression.mixed_linear_model import MixedLM
u = pd.read_csv("results/paper-2019-seeds/units.csv")
v = u.variant.str.split(" ", expand=True)
u["depth"] = v[0]; u["opt"] = v[1]; u["place"] = v[2]
u["y"] = u.test_loss.astype(np.float32).astype(float)
# fixed as mnist-lab's: depth, BN+Dropout, optimizer(=lr=dropout), depth x BN+Dropout, depth x dropout(=opt)
m = MixedLM.from_formula("y ~ C(depth) * C(place) + C(depth):C(opt) + C(opt)", u, groups="seed", re_formula="1",
    vc_formula={"depth": "0 + C(depth)", "place": "0 + C(place)", "opt": "0 + C(opt)"})
for meth in ["bfgs", "lbfgs", "nm"]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = m.fit(reml=True, method=[meth], maxiter=20000)
    print(meth, "llf", r.llf, "seed", float(r.cov_re.iloc[0,0]), "vc", [float(x) for x in r.vcomp], "resid", r.scale)
