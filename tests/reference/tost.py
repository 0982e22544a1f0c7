# Reference for tests/stats.rs: the equivalence test (TOST) of a paired difference.
import numpy as np
from statsmodels.stats.weightstats import ttost_paired
a = np.array([0.1000, 0.1020, 0.1010, 0.1030, 0.1000, 0.1015])
b = np.array([0.1005, 0.1018, 0.1022, 0.1027, 0.1011, 0.1013])
for m in (0.002, 0.0005):
    p, lo, up = ttost_paired(a, b, -m, m)
    print(m, repr(p))
