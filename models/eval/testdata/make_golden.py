#!/usr/bin/python3
"""Writes golden.json: inputs and scikit-learn's metrics for eval_test.go.

Run with the Debian scikit-learn:  /usr/bin/python3 make_golden.py
(apt-get install -y python3-sklearn). Top-k figures use numpy's stable sort
on the negated score (ties broken by index), computed here independently.
"""
import json, math
import numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score, brier_score_loss
from sklearn.calibration import calibration_curve
import sklearn

rng = np.random.default_rng(20261122)
cases = []

def topk(n, share):
    return max(1, min(n, math.ceil(share * n - 1e-9)))

def add(name, y, s):
    y = np.asarray(y, dtype=int); s = np.asarray(s, dtype=float)
    order = np.argsort(-s, kind="stable")
    prec, rec = {}, {}
    for share in (0.01, 0.05, 0.1, 0.25):
        k = topk(len(y), share)
        hits = int(y[order[:k]].sum())
        prec[str(share)] = hits / k
        rec[str(share)] = hits / int(y.sum())
    p = np.clip(s, 0, 1)
    pt, pp = calibration_curve(y, p, n_bins=10, strategy="uniform")
    cases.append(dict(name=name, y=y.tolist(), score=s.tolist(),
        auc=roc_auc_score(y, s), ap=average_precision_score(y, s),
        brier=brier_score_loss(y, p), precision_at=prec, recall_at=rec,
        calib_true=pt.tolist(), calib_pred=pp.tolist()))

# continuous scores, 10% positives, informative
n = 600
y = (rng.random(n) < 0.1).astype(int)
s = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.5 * y - 2)))
add("continuous", y, s)
# heavy ties: scores rounded to one decimal
y = (rng.random(n) < 0.2).astype(int)
s = np.round(np.clip(rng.beta(2, 5, size=n) + 0.2 * y, 0, 1), 1)
add("ties", y, s)
# rare positives, integer scores (like a count of rules tripped)
y = (rng.random(2000) < 0.02).astype(int)
s = rng.poisson(0.5 + 1.0 * y).astype(float)
add("rule_counts", y, s)

with open("golden.json", "w") as f:
    json.dump(dict(sklearn=sklearn.__version__, cases=cases), f)
