#!/usr/bin/python3
"""Check that a simulated drop has the signal the project needs.

    /usr/bin/python3 bench/sim_check.py DROP [TRUTH]

Computes a dozen plain features per household from the drop's CSV files
(independently of the Go code), trains scikit-learn's random forest on the
snapshot at end-12 months (label: identified in the next 6 months, not
monitored at the snapshot) and evaluates on end-6 months, against simple rule
screens and the simulator's ground truth (the attainable ceiling).
Needs: apt-get install python3-sklearn. No pandas.
"""
import csv
import datetime as dt
import os
import sys
from collections import defaultdict

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score, average_precision_score

LINE = 8000.0
RURAL = 21691.0


def rows(drop, name):
    with open(os.path.join(drop, name + ".csv"), encoding="utf-8-sig") as f:
        yield from csv.DictReader(f)


def month_end(y, m):
    if m == 12:
        return dt.date(y, 12, 31)
    return dt.date(y, m + 1, 1) - dt.timedelta(days=1)


def add_months(d, k):
    y, m = divmod(d.year * 12 + d.month - 1 + k, 12)
    return month_end(y, m + 1)


def D(s):
    return dt.date.fromisoformat(s) if s else None


def main():
    drop = sys.argv[1]
    truth = sys.argv[2] if len(sys.argv) > 2 else drop + ".truth.csv"
    hh = {r["household_id"]: r for r in rows(drop, "households")}
    ids = sorted(hh)
    ix = {h: i for i, h in enumerate(ids)}
    persons = defaultdict(list)
    p2h = {}
    for r in rows(drop, "persons"):
        persons[r["household_id"]].append(r)
        p2h[r["person_id"]] = r["household_id"]
    income = defaultdict(dict)
    last = None
    for r in rows(drop, "income_records"):
        y, m = map(int, r["period"].split("-"))
        net = sum(float(r[k]) for k in ("wage_income", "business_income", "property_income", "transfer_income")) - float(r["production_cost"])
        income[r["household_id"]][(y, m)] = (net, float(r["wage_income"]), float(r["business_income"]))
        last = max(last or (y, m), (y, m))
    end = month_end(*last)
    claims = defaultdict(list)
    for r in rows(drop, "medical_claims"):
        claims[p2h[r["person_id"]]].append((D(r["service_date"]), float(r["out_of_pocket"]), r["inpatient"] == "true"))
    si = defaultdict(set)
    for r in rows(drop, "social_insurance"):
        y, m = map(int, r["period"].split("-"))
        si[r["person_id"]].add((y, m))
    unemp = defaultdict(list)
    for r in rows(drop, "unemployment"):
        unemp[p2h[r["person_id"]]].append(D(r["registered_date"]))
    edu = defaultdict(list)
    for r in rows(drop, "education"):
        if r["level"] != "compulsory":
            edu[p2h[r["person_id"]]].append((D(r["term_start"]), float(r["fees"]) - float(r["subsidy"])))
    dis = []
    loss = defaultdict(list)
    for r in rows(drop, "disasters"):
        if r["household_id"]:
            loss[r["household_id"]].append((D(r["start_date"]), float(r["loss_amount"])))
        else:
            dis.append((r["region_code"], D(r["start_date"]), int(r["severity"])))
    assets = defaultdict(int)
    for r in rows(drop, "assets"):
        if r["kind"] in ("vehicle", "property", "business", "public_payroll"):
            assets[r["household_id"]] += 1
    events = defaultdict(list)
    for r in rows(drop, "monitoring_events"):
        events[r["household_id"]].append((D(r["identified_date"]), D(r["eliminated_date"])))
    tp = {}
    with open(truth) as f:
        for r in csv.DictReader(f):
            tp[(r["household_id"], r["as_of"])] = float(r["p_identified_6m"])

    def months_back(d, k):  # (y, m) of the k-th month back from d's month (0 = d's month)
        y, m = divmod(d.year * 12 + d.month - 1 - k, 12)
        return (y, m + 1)

    def snapshot(asof):
        X, y, eligible, rule, tr = [], [], [], [], []
        for h in ids:
            mon = any(i <= asof and (e is None or e > asof) for i, e in events[h])
            if mon:
                continue
            pos = any(asof < i <= add_months(asof, 6) for i, _ in events[h])
            living = [p for p in persons[h] if not p["deceased_date"] or D(p["deceased_date"]) > asof]
            n = max(1, len(living))
            labor = sum(p["labor_capacity"] in ("full", "weak") for p in living)
            inc = income[h]
            net12 = sum(inc.get(months_back(asof, k), (0, 0, 0))[0] for k in range(12))
            net_prev = sum(inc.get(months_back(asof, k), (0, 0, 0))[0] for k in range(12, 24))
            wage3 = sum(inc.get(months_back(asof, k), (0, 0, 0))[1] for k in range(3))
            wage_prev3 = sum(inc.get(months_back(asof, k), (0, 0, 0))[1] for k in range(3, 6))
            oop12 = sum(o for d, o, _ in claims[h] if add_months(asof, -12) < d <= asof)
            oop3 = sum(o for d, o, _ in claims[h] if add_months(asof, -3) < d <= asof)
            inp3 = sum(1 for d, _, ip in claims[h] if ip and add_months(asof, -3) < d <= asof)
            stop = 0
            for p in living:
                s = si[p["person_id"]]
                before = sum(months_back(asof, k) in s for k in range(2, 8))
                after = sum(months_back(asof, k) in s for k in range(0, 2))
                if before == 6 and after == 0:
                    stop = 1
            un6 = sum(1 for d in unemp[h] if add_months(asof, -6) < d <= asof)
            rc = hh[h]["region_code"]
            sev = min([s for code, d, s in dis if rc.startswith(code) and add_months(asof, -6) < d <= asof] or [5])
            ls = sum(a for d, a in loss[h] if add_months(asof, -6) < d <= asof)
            edu12 = sum(c for d, c in edu[h] if add_months(asof, -12) < d <= add_months(asof, 3))
            died = sum(1 for p in persons[h] if p["deceased_date"] and add_months(asof, -6) < D(p["deceased_date"]) <= asof)
            chronic = sum(p["chronic_disease"] == "true" for p in living)
            escaped = hh[h]["poverty_status"] == "escaped"
            pc = net12 / n
            x = [pc, net12 / max(net_prev, 1.0), wage3 - wage_prev3, oop12, oop3, inp3, stop, un6, sev, ls, edu12, died,
                 labor, n, chronic, escaped, hh[h]["housing_safe"] == "false", hh[h]["water_safe"] == "false", assets[h]]
            share = 0.5 if escaped else 1.0
            r = [pc < LINE, LINE <= pc < 1.5 * LINE, net12 < 0.7 * net_prev, oop12 > share * RURAL, stop or un6 > 0,
                 labor == 0, sev <= 2, edu12 > 0.3 * max(net12, 1), hh[h]["housing_safe"] == "false"]
            X.append(x)
            y.append(int(pos))
            rule.append(sum(r))
            tr.append(tp.get((h, asof.isoformat()), np.nan))
            eligible.append(h)
        return np.array(X, float), np.array(y), np.array(rule, float), np.array(tr)

    test_at = add_months(end, -6)
    train_at = [add_months(end, -12), add_months(end, -9)]
    Xs, ys = [], []
    for a in train_at:
        X, y, _, _ = snapshot(a)
        Xs.append(X)
        ys.append(y)
    X, y = np.vstack(Xs), np.concatenate(ys)
    Xt, yt, rt, tt = snapshot(test_at)
    rf = RandomForestClassifier(n_estimators=300, min_samples_leaf=20, n_jobs=2, random_state=1, class_weight="balanced_subsample")
    rf.fit(X, y)
    p = rf.predict_proba(Xt)[:, 1]

    def prec_at(score, share):
        k = max(1, int(len(score) * share))
        o = np.argsort(-score, kind="stable")[:k]
        return yt[o].mean()

    print(f"train as-of {', '.join(str(a) for a in train_at)}: {len(y)} rows, positive rate {y.mean():.4f}")
    print(f"test as-of {test_at}: {len(yt)} eligible, positives {yt.sum()} ({yt.mean():.4f} per 6 months)")
    for name, s in (("forest", p), ("rules (count)", rt), ("truth", tt)):
        print(f"{name:14s} AUC {roc_auc_score(yt, s):.3f}  PR-AUC {average_precision_score(yt, s):.3f}  "
              f"P@1% {prec_at(s, 0.01):.3f}  P@5% {prec_at(s, 0.05):.3f}")
    print(f"mean truth {np.nanmean(tt):.4f} vs realised {yt.mean():.4f}")


if __name__ == "__main__":
    main()
