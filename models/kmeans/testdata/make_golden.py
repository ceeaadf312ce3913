#!/usr/bin/python3
"""Writes golden.json: data sets and scikit-learn's k-means of them, for
TestAgainstSklearn in kmeans_test.go.

Run with the Debian scikit-learn:  cd models/kmeans/testdata && /usr/bin/python3 make_golden.py
(apt-get install -y python3-sklearn). Each data set is standardised with
StandardScaler (population deviation, as kmeans.Fit does) and clustered by
sklearn.cluster.KMeans with many starts; the golden holds the raw rows, the
labels, the inertia in standardised units and the silhouette score.
"""
import json
import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(20261122)
cases = []


def add(name, X, k):
    Z = StandardScaler().fit_transform(X)
    km = KMeans(n_clusters=k, n_init=50, random_state=0, tol=1e-10, max_iter=1000).fit(Z)
    cases.append(dict(name=name, k=k, rows=X.tolist(), labels=km.labels_.tolist(),
                      inertia=float(km.inertia_), silhouette=float(silhouette_score(Z, km.labels_))))


# three blobs in 2-D with different spreads and scales
centres = np.array([[0, 0], [4, 1], [1, 5]])
X = np.vstack([rng.normal(c, s, size=(n, 2)) for c, s, n in zip(centres, (0.6, 0.9, 0.7), (120, 90, 60))])
X[:, 1] *= 50  # a column in other units: standardising matters
add("blobs3", X, 3)
# four blobs in 5-D, two of them close
centres = rng.normal(0, 3, size=(4, 5))
centres[3] = centres[2] + 1.5
X = np.vstack([rng.normal(c, 1, size=(100, 5)) for c in centres])
add("blobs4_close", X, 4)

with open("golden.json", "w") as f:
    json.dump(dict(sklearn=sklearn.__version__, cases=cases), f)
