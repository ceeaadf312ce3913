#!/usr/bin/python3
"""Golden of models/boost: scikit-learn's HistGradientBoostingClassifier on
UCI adult, encoded and split exactly as adult_test.go does.

Run with Debian's python3-sklearn:
    /usr/bin/python3 models/boost/testdata/make_golden.py [/work/shared/datasets/uci-adult/adult.data]
Encoding: the 14 attributes in file order; a text column becomes the rank
of its value among the column's sorted distinct values ("?" missing); the
label is 1 for ">50K". Rows i % 5 == 0 (0-based, blank lines skipped) are
the test set. The model: 100 rounds, learning rate 0.1, 31 leaves, min leaf
20, no L2, 255 bins, no early stopping (what boost.Options{} trains).
Writes adult_expect.json beside this script.
"""
import json
import math
import os
import sys

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
path = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/datasets/uci-adult/adult.data"
recs = [[f.strip() for f in l.split(",")] for l in open(path) if l.strip()]
cols = list(zip(*recs))
X = np.empty((len(recs), 14))
for j in range(14):
    try:
        X[:, j] = [math.nan if v == "?" else float(v) for v in cols[j]]
    except ValueError:
        levels = sorted(set(v for v in cols[j] if v != "?"))
        rank = {v: k for k, v in enumerate(levels)}
        X[:, j] = [math.nan if v == "?" else rank[v] for v in cols[j]]
y = np.array([1 if v.startswith(">50K") else 0 for v in cols[14]])
test = np.arange(len(y)) % 5 == 0
m = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=20,
                                   l2_regularization=0, max_bins=255, early_stopping=False, random_state=0)
m.fit(X[~test], y[~test])
auc = roc_auc_score(y[test], m.predict_proba(X[test])[:, 1])
json.dump({"sklearn": sklearn.__version__, "model": repr(m), "train_rows": int((~test).sum()),
           "test_rows": int(test.sum()), "test_auc": auc}, open(os.path.join(HERE, "adult_expect.json"), "w"), indent=1)
print(auc)
