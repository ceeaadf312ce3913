#!/usr/bin/python3
"""Make the scikit-learn goldens of models/forest.

Run with Debian's python3-sklearn (apt-get install -y python3-sklearn):
    /usr/bin/python3 models/forest/testdata/make_goldens.py
Writes, beside this script:
  tree_train.csv, tree_test.csv   integer features with few distinct values
  tree_proba.csv                  DecisionTreeClassifier(max_depth=6,
                                  min_samples_leaf=5) P(class 1) on tree_test
  forest_train.csv.gz, forest_test.csv.gz  make_classification, 5000 + 2000
                                  rows (gzip: CSV of 4-decimal values)
  forest_expect.json              RandomForestClassifier(100 trees) test AUC
                                  and impurity importances
Columns x0..x(p-1), then y. Everything is seeded, so a rerun gives the same
files with the same scikit-learn version (recorded in the JSON).
"""
import gzip
import io
import json
import os

import numpy as np
import sklearn
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.tree import DecisionTreeClassifier

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, X, y):
    p = X.shape[1]
    path = os.path.join(HERE, name)
    if name.endswith(".gz"):
        # mtime=0: a rerun gives the same bytes.
        fh = gzip.GzipFile(path, "wb", mtime=0)
        fh = io.TextIOWrapper(fh)
    else:
        fh = open(path, "w")
    with fh:
        fh.write(",".join([f"x{j}" for j in range(p)] + ["y"]) + "\n")
        for row, label in zip(X, y):
            fh.write(",".join(repr(float(v)) if not float(v).is_integer() else str(int(v)) for v in row))
            fh.write(f",{int(label)}\n")


def tree_golden():
    # Integer features with 3..12 distinct values, label from an irregular
    # logistic model, so that split gains rarely tie.
    rng = np.random.default_rng(20261122)
    n, levels = 5000, [3, 5, 7, 12, 4, 9]
    X = np.column_stack([rng.integers(0, k, n) for k in levels]).astype(float)
    z = (0.91 * X[:, 0] - 0.37 * X[:, 1] + 0.23 * X[:, 2] - 0.113 * X[:, 3]
         + 0.61 * (X[:, 4] == 2) + 0.05 * X[:, 5] * X[:, 0] - 0.4)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    tr, te = slice(0, 4000), slice(4000, n)
    clf = DecisionTreeClassifier(max_depth=6, min_samples_leaf=5, random_state=0)
    clf.fit(X[tr], y[tr])
    write("tree_train.csv", X[tr], y[tr])
    write("tree_test.csv", X[te], y[te])
    with open(os.path.join(HERE, "tree_proba.csv"), "w") as fh:
        fh.write("p\n")
        for p in clf.predict_proba(X[te])[:, 1]:
            fh.write(repr(float(p)) + "\n")


def forest_golden():
    X, y = make_classification(n_samples=7000, n_features=20, n_informative=6,
                               n_redundant=4, n_repeated=0, flip_y=0.05,
                               class_sep=0.8, random_state=7)
    X = np.round(X, 4)
    tr, te = slice(0, 5000), slice(5000, 7000)
    rf = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=2)
    rf.fit(X[tr], y[tr])
    auc = roc_auc_score(y[te], rf.predict_proba(X[te])[:, 1])
    write("forest_train.csv.gz", X[tr], y[tr])
    write("forest_test.csv.gz", X[te], y[te])
    imp = rf.feature_importances_
    with open(os.path.join(HERE, "forest_expect.json"), "w") as fh:
        json.dump({"sklearn": sklearn.__version__,
                   "model": "RandomForestClassifier(n_estimators=100, random_state=0)",
                   "test_auc": auc,
                   "importances": [float(v) for v in imp],
                   "top5": [int(j) for j in np.argsort(-imp)[:5]]}, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    tree_golden()
    forest_golden()
