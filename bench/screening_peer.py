"""The screening peer of issue #31: OpenSanctions' nomenklatura (logic-v1, threshold 0.70)
over the same entities and the same labelled queries that `idgate-eval screening --export DIR`
wrote, with a blocking index in front of it (name tokens, folded to ASCII, ranked by their
rarity; the 50 best candidates are scored), as yente screens.

usage: python bench/screening_peer.py DIR [THRESHOLD]
Prints one JSON object: per query set, recall (positives) or false positives (negatives),
and the median and 99th percentile time per query in ms.
"""

import json
import math
import re
import sys
import time
from collections import defaultdict

from followthemoney import model
from nomenklatura.matching import LogicV1
from normality import ascii_text

CANDIDATES = 50
# The query sets that hold every query once.
PRIMARY = {"un_untreated", "un_treated", "us_congress_pep", "negatives_global", "negatives_us"}


def iso(d):
    out = f"{d['year']:04d}"
    if d.get("month"):
        out += f"-{d['month']:02d}"
        if d.get("day"):
            out += f"-{d['day']:02d}"
    return out


def tokens(name):
    text = (ascii_text(name) or "").lower()
    return {t for t in re.split(r"[^a-z0-9]+", text) if len(t) > 1}


def person(id_, names, birth_dates, nationalities, gender):
    e = model.make_entity("Person")
    e.id = id_
    for n in names:
        e.add("name", n)
    for d in birth_dates:
        e.add("birthDate", iso(d))
    for c in nationalities:
        e.add("nationality", c.lower())
    if gender:
        e.add("gender", {"M": "male", "F": "female"}.get(gender, gender))
    return e


def main():
    folder = sys.argv[1]
    threshold = float(sys.argv[2]) if len(sys.argv) > 2 else 0.70
    started = time.perf_counter()
    entities = {}
    postings = defaultdict(set)
    with open(f"{folder}/entities.jsonl") as f:
        for line in f:
            r = json.loads(line)
            if r["kind"] != "person":
                continue
            e = person(r["id"], r["names"], r["birth_dates"], r["nationalities"], r.get("gender"))
            entities[r["id"]] = e
            for n in r["names"]:
                for t in tokens(n):
                    postings[t].add(r["id"])
    n = len(entities)
    idf = {t: math.log(n / len(ids)) for t, ids in postings.items()}
    index_s = time.perf_counter() - started
    config = LogicV1.default_config()
    sets = defaultdict(lambda: {"queries": 0, "found": 0, "any": 0, "ms": []})
    with open(f"{folder}/queries.jsonl") as f:
        queries = [json.loads(line) for line in f]
    for q in queries:
        s = sets[q["set"]]
        t0 = time.perf_counter()
        query = person("query", q["names"], [q["birth_date"]] if q["birth_date"] else [],
                       q["nationalities"], q.get("gender"))
        weight = defaultdict(float)
        for name in q["names"]:
            for t in tokens(name):
                for id_ in postings.get(t, ()):
                    weight[id_] += idf[t]
        best = sorted(weight, key=weight.get, reverse=True)[:CANDIDATES]
        matched = [id_ for id_ in best
                   if LogicV1.compare(query, entities[id_], config).score >= threshold]
        s["ms"].append((time.perf_counter() - t0) * 1000)
        s["queries"] += 1
        if matched:
            s["any"] += 1
        if q["expected"] and q["expected"] in matched:
            s["found"] += 1
    out = {"peer": "nomenklatura logic-v1", "threshold": threshold, "person_entities": n,
           "index_s": round(index_s, 2), "results": {}}
    # Every query once (the split of the treated set repeats some).
    pooled = sorted(t for name, s in sets.items()
                    if name in PRIMARY for t in s["ms"])
    out["all_queries"] = {"queries": len(pooled),
                          "median_ms": round(pooled[len(pooled) // 2], 3),
                          "p99_ms": round(pooled[min(len(pooled) - 1, int(len(pooled) * 0.99))], 3)}
    for name, s in sets.items():
        ms = sorted(s["ms"])
        row = {"queries": s["queries"],
               "median_ms": round(ms[len(ms) // 2], 2),
               "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2)}
        if name.startswith("negatives"):
            row["false_positives"] = s["any"]
            row["false_positive_rate"] = round(s["any"] / s["queries"], 3)
        else:
            row["recall"] = round(s["found"] / s["queries"], 3)
        out["results"][name] = row
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
