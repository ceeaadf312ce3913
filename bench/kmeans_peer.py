#!/usr/bin/python3
"""scikit-learn peer for bench/kmeans.sh.

make:  write a seeded blob data set to CSV (header x0..x{d-1}).
fit:   standardise (StandardScaler, population sd, as models/kmeans does)
       and fit KMeans(k-means++, n_init, lloyd); print one JSON line with
       the fit time (scaling + fit, seconds) and inertia.
"""
import argparse, json, sys, time
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("cmd", choices=["make", "fit"])
ap.add_argument("--csv", required=True)
ap.add_argument("--n", type=int, default=100000)
ap.add_argument("--d", type=int, default=20)
ap.add_argument("--k", type=int, default=8)
ap.add_argument("--n-init", type=int, default=4)
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()

if a.cmd == "make":
    from sklearn.datasets import make_blobs
    # Overlapping blobs of unequal spread, so that seeding matters.
    rng = np.random.default_rng(a.seed)
    X, _ = make_blobs(n_samples=a.n, n_features=a.d, centers=a.k,
                      cluster_std=rng.uniform(1.5, 5.0, size=a.k),
                      center_box=(-6, 6), random_state=a.seed)
    X[:, 0] = np.exp(X[:, 0] / 5)  # one skewed column, like money
    np.savetxt(a.csv, X, delimiter=",", fmt="%.6f",
               header=",".join(f"x{j}" for j in range(a.d)), comments="")
    sys.exit(0)

from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler
import sklearn
X = np.loadtxt(a.csv, delimiter=",", skiprows=1)
t0 = time.perf_counter()
Z = StandardScaler().fit_transform(X)
km = KMeans(n_clusters=a.k, init="k-means++", n_init=a.n_init, algorithm="lloyd",
            random_state=a.seed).fit(Z)
t = time.perf_counter() - t0
print(json.dumps({"tool": "sklearn " + sklearn.__version__, "seconds": t,
                  "inertia": float(km.inertia_), "iterations": int(km.n_iter_)}))
