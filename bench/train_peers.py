#!/usr/bin/python3
"""Peers of bench/train.sh: scikit-learn's random forest and
HistGradientBoosting, xgboost's random-forest mode and hist booster, and the
common evaluator for every tool's predictions.

  train_peers.py sklearn TRAIN.csv TEST.csv PRED_OUT [TREES] [JOBS]
      fit RandomForestClassifier(TREES=100, n_jobs=JOBS=2, random_state=1)
      on TRAIN (numeric CSV, header, column 'label'; empty cells missing,
      imputed by the training median since scikit-learn 1.2 forests reject
      NaN), write P(class 1) of TEST rows to PRED_OUT, print one JSON line.
  train_peers.py xgbrf TRAIN.csv TEST.csv PRED_OUT [TREES] [JOBS]
      xgboost's XGBRFClassifier(n_estimators=TREES, tree_method="hist",
      n_jobs=JOBS, random_state=1), its other parameters xgboost's
      defaults (subsample 0.8, colsample_bynode 0.8, max_depth 6); NaN native.
  train_peers.py hgb TRAIN.csv TEST.csv PRED_OUT [TREES] [JOBS]
      HistGradientBoostingClassifier(max_iter=TREES, early_stopping=False,
      random_state=1), otherwise defaults (what boost.Options{} trains:
      learning rate 0.1, 31 leaves, min leaf 20, 255 bins); NaN native;
      threads from OMP_NUM_THREADS (train.sh sets JOBS).
  train_peers.py xgb TRAIN.csv TEST.csv PRED_OUT [TREES] [JOBS]
      XGBClassifier(n_estimators=TREES, tree_method="hist", learning_rate=0.1,
      grow_policy="lossguide", max_leaves=31, max_depth=0, n_jobs=JOBS,
      random_state=1): the same shape of trees as HistGradientBoosting.
  train_peers.py eval TEST.csv PRED...
      print one JSON line per prediction file: ROC AUC (sklearn) and
      precision at 5% (share of positives among the top 5% of scores).
Runs under Debian's /usr/bin/python3 with python3-sklearn.
"""
import json
import sys
import time

import numpy as np


def load(path):
    with open(path) as fh:
        head = fh.readline().strip().split(",")
    data = np.genfromtxt(path, delimiter=",", skip_header=1, missing_values="", filling_values=np.nan)
    if data.ndim == 1:
        data = data.reshape(1, -1)
    li = head.index("label")
    y = data[:, li].astype(int)
    X = np.delete(data, li, axis=1)
    return X, y


def sklearn_main(train, test, out, trees=100, jobs=2):
    from sklearn.ensemble import RandomForestClassifier
    X, y = load(train)
    Xt, _ = load(test)
    med = np.nanmedian(X, axis=0)
    med = np.where(np.isnan(med), 0, med)
    X = np.where(np.isnan(X), med, X)
    Xt = np.where(np.isnan(Xt), med, Xt)
    rf = RandomForestClassifier(n_estimators=int(trees), n_jobs=int(jobs), random_state=1)
    t0, c0 = time.perf_counter(), time.process_time()
    rf.fit(X, y)
    fit, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    p = rf.predict_proba(Xt)[:, 1]
    pred = time.perf_counter() - t0
    np.savetxt(out, p, fmt="%.17g")
    print(json.dumps({"tool": "sklearn", "fit_seconds": fit, "fit_cpu_seconds": fit_cpu, "predict_seconds": pred}))


def fit_native(tool, train, test, out, trees=100, jobs=2):
    """Peers that take NaN as missing: xgbrf, hgb, xgb."""
    X, y = load(train)
    Xt, _ = load(test)
    trees, jobs = int(trees), int(jobs)
    if tool == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier
        m = HistGradientBoostingClassifier(max_iter=trees, early_stopping=False, random_state=1)
    else:
        import xgboost
        if tool == "xgbrf":
            m = xgboost.XGBRFClassifier(n_estimators=trees, tree_method="hist", n_jobs=jobs, random_state=1)
        else:
            m = xgboost.XGBClassifier(n_estimators=trees, tree_method="hist", learning_rate=0.1, grow_policy="lossguide",
                                      max_leaves=31, max_depth=0, n_jobs=jobs, random_state=1)
    t0, c0 = time.perf_counter(), time.process_time()
    m.fit(X, y)
    fit, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    p = m.predict_proba(Xt)[:, 1]
    pred = time.perf_counter() - t0
    np.savetxt(out, p, fmt="%.17g")
    print(json.dumps({"tool": tool, "fit_seconds": fit, "fit_cpu_seconds": fit_cpu, "predict_seconds": pred}))


def eval_main(test, preds):
    from sklearn.metrics import roc_auc_score
    _, y = load(test)
    k = max(1, int(round(0.05 * len(y))))
    for path in preds:
        p = np.loadtxt(path)
        top = np.argsort(-p, kind="stable")[:k]
        print(json.dumps({"pred": path, "auc": roc_auc_score(y, p), "precision_at_5pct": float(y[top].mean())}))


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "sklearn":
        sklearn_main(*sys.argv[2:])
    elif len(sys.argv) >= 5 and sys.argv[1] in ("xgbrf", "hgb", "xgb"):
        fit_native(*sys.argv[1:])
    elif len(sys.argv) >= 4 and sys.argv[1] == "eval":
        eval_main(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
