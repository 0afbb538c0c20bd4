"""Link discovery benchmark: precision and recall on perturbed copies of the real feeds.

    .venv/bin/python bench/link.py                      # Bristol + North Lincolnshire, seed 1
    .venv/bin/python bench/link.py --feeds bristol --limit 200 --seed 3
    .venv/bin/python bench/link.py --scale 450000       # time the matcher alone at national size

Steps:
 1. for each feed, bench/linkdata.py makes the left feed (the real records with synthetic
    places and identifiers), the right feed (a perturbed synthetic neighbour with distractors)
    and the true pairs;
 2. every left and right feed is ingested into one temporary store with the library API
    (Bristol as E06000023 with neighbour E06000024, North Lincolnshire as E06000013 with
    neighbour E06000012);
 3. `discover_links` runs over the whole store, `publish_links` writes the links graph;
 4. the published links between each left/right pair are compared with the truth: precision,
    recall (and recall counting the review rows a person would confirm), per kind and method,
    and the time taken. Links between the two real councils have no ground truth and are
    listed apart. Targets: precision >= 0.98, recall >= 0.90.

`--scale N` skips the store: it builds N synthetic service records over 150 authorities (each
with its own postcode districts, neighbours sharing a border district, some providers listed
by a neighbour too) and times candidate generation and scoring, to show that the work grows
with N, not N squared.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import linkdata  # noqa: E402  (bench/linkdata.py)
from localoffer.ingest import link as linking  # noqa: E402
from localoffer.ingest.pipeline import ingest  # noqa: E402

from localoffer import namespaces as ns  # noqa: E402
from localoffer.config import load_settings  # noqa: E402
from localoffer.store import open_store  # noqa: E402

BASE = "https://localoffer.bench/"
FEEDS = {
    "bristol": ("bristol-services-2024-12.json", "E06000023", "E06000024", "BS"),
    "north-lincs": ("north-lincolnshire-services-2024-12.json", "E06000013", "E06000012", "DN"),
}
TARGET_PRECISION, TARGET_RECALL = 0.98, 0.90


def truth_iris(truth: list[tuple[str, str, str]]) -> set[tuple[str, frozenset[str]]]:
    """The true pairs as (kind, {left IRI, right IRI})."""
    return {(kind, frozenset((ns.mint(BASE, kind, a), ns.mint(BASE, kind, b)))) for kind, a, b in truth}


def evaluate(report: linking.LinkReport, pairs: list[tuple[str, str]],
             truth: set[tuple[str, frozenset[str]]]) -> dict[str, Any]:
    """Precision and recall of the published links between each (left, right) authority pair."""
    wanted = {frozenset(p) for p in pairs}
    inside = lambda lk: frozenset((lk.left.authority, lk.right.authority)) in wanted  # noqa: E731
    found = [lk for lk in report.links if inside(lk)]
    got = {(lk.kind, lk.key) for lk in found}
    asked = {(lk.kind, lk.key) for lk in report.review if inside(lk)}
    out: dict[str, Any] = {"kinds": {}}
    for kind in (*linking.KINDS, "all"):
        t = {x for x in truth if kind in ("all", x[0])}
        g = {x for x in got if kind in ("all", x[0])}
        a = {x for x in asked if kind in ("all", x[0])}
        tp = len(t & g)
        out["kinds"][kind] = {
            "true_pairs": len(t), "links": len(g), "true_links": tp, "false_links": len(g) - tp,
            "precision": tp / len(g) if g else 1.0, "recall": tp / len(t) if t else 1.0,
            "recall_with_review": (tp + len(t & a)) / len(t) if t else 1.0,
            "review_rows": len(a), "review_true": len(t & a)}
    out["methods"] = dict(sorted(Counter(f"{lk.kind} {lk.method}" for lk in found).items()))
    out["false"] = [lk for lk in found if (lk.kind, lk.key) not in truth]
    out["missed"] = sorted(truth - got)
    out["other"] = [lk for lk in report.links if not inside(lk)]
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the pairs, ingest them, link, publish, evaluate."""
    work = Path(args.workdir or tempfile.mkdtemp(prefix="localoffer-linkbench-"))
    settings = load_settings({"store": str(work / "store"), "base_uri": BASE}, environ={})
    store = open_store(settings)
    truth: set[tuple[str, frozenset[str]]] = set()
    pairs, notes = [], {}
    started = time.perf_counter()
    for feed in args.feeds:
        name, left_code, right_code, area = FEEDS[feed]
        records = json.loads((ROOT / "samples" / name).read_text(encoding="utf-8"))
        data = linkdata.make_pair(records, seed=args.seed, area=area, limit=args.limit)
        left, right, _ = data.write(work / feed)
        ingest(store, settings, str(left), authority=left_code)
        ingest(store, settings, str(right), authority=right_code)
        truth |= truth_iris(data.truth)
        pairs.append((left_code, right_code))
        notes[feed] = data.notes
    ingested = time.perf_counter()
    report = linking.discover_links(store, settings, threshold=args.threshold,
                                    review_threshold=args.review_threshold)
    linked = time.perf_counter()
    triples = linking.publish_links(store, settings, report)
    published = time.perf_counter()
    linking.write_review(report, work / "review.csv")
    result = evaluate(report, pairs, truth)
    result.update(workdir=str(work), perturbations=notes, records=dict(report.records),
                  candidates=report.candidates, triples=triples, counts=report.counts(),
                  seconds={"ingest": ingested - started, "discover": linked - ingested,
                           "publish": published - linked})
    store.close()
    return result


def show(result: dict[str, Any], verbose: bool) -> bool:
    """Print the figures; True when the targets are met."""
    print(f"records: {result['records']}")
    print(f"candidate pairs scored: {result['candidates']}; links graph: {result['triples']} triples")
    print(f"{'kind':<13}{'truth':>7}{'links':>7}{'false':>7}{'precision':>11}{'recall':>8}"
          f"{'+review':>9}{'review rows':>13}")
    for kind, k in result["kinds"].items():
        print(f"{kind:<13}{k['true_pairs']:>7}{k['links']:>7}{k['false_links']:>7}{k['precision']:>11.4f}"
              f"{k['recall']:>8.4f}{k['recall_with_review']:>9.4f}{k['review_rows']:>13}")
    print("links per method:", json.dumps(result["methods"]))
    print("all counts:", json.dumps(result["counts"]))
    print(f"links between the real councils (no ground truth): {len(result['other'])}")
    for lk in result["other"][:10]:
        print(f"   {lk.kind} {lk.confidence:.2f} {lk.method}: {lk.left.name!r} ~ {lk.right.name!r}")
    s = result["seconds"]
    print(f"time: ingest {s['ingest']:.1f} s, discover_links {s['discover']:.2f} s, "
          f"publish_links {s['publish']:.2f} s")
    if verbose:
        for lk in result["false"][:40]:
            print(f"FALSE {lk.kind} {lk.confidence:.2f} {lk.left.name!r} {sorted(lk.left.postcodes)} ~ "
                  f"{lk.right.name!r} {sorted(lk.right.postcodes)} {lk.evidence}")
        print(f"missed: {len(result['missed'])} (details in {result['workdir']})")
    total = result["kinds"]["all"]
    ok = total["precision"] >= TARGET_PRECISION and total["recall"] >= TARGET_RECALL
    print(f"targets precision >= {TARGET_PRECISION}, recall >= {TARGET_RECALL}: "
          f"{'met' if ok else 'NOT met'} ({total['precision']:.4f}, {total['recall']:.4f})")
    return ok


# -- national scale: the matcher alone ---------------------------------------------------------
def scale(n: int, authorities: int = 150, seed: int = 1) -> None:
    """Time candidate generation, scoring and assignment on *n* synthetic service records."""
    import generate  # bench/generate.py: its vocabulary makes realistic, repetitive names

    rng = random.Random(seed)
    areas = generate._PC_AREAS
    per = max(1, n // authorities)
    codes = generate.gss_codes(authorities)
    records: list[linking.Record] = []
    truth: set[frozenset[str]] = set()
    for k, code in enumerate(codes):
        area = areas[k % len(areas)]
        first = 1 + (k // len(areas)) * 5           # five districts of its own, one shared
        districts = [f"{area}{d}" for d in range(first, first + 6)]
        for i in range(per):
            name = (f"{rng.choice(generate._SVC_A)} {rng.choice(generate._SVC_B)} "
                    f"{rng.choice(generate._SVC_C)}")
            if rng.random() < 0.5:
                name = f"{rng.choice(generate._ORG_A)} {name}"
            if rng.random() < 0.7:   # most real names carry a place or a proper name
                name = f"{rng.choice(generate._PLACES_C)}{rng.choice(generate._PLACES_B)} {name}"
            pc = f"{rng.choice(districts)} {rng.randint(0, 9)}{rng.choice('ABDEFGHJ')}{rng.choice('LNPQRS')}"
            rec = linking.Record(f"{BASE}id/service/{code}-{i}", "service", code, "g", name=name,
                                 postcodes={pc})
            records.append(rec)
            neighbour = k + len(areas)                 # the authority sharing its border district
            if neighbour < len(codes) and rng.random() < 0.05:
                copy = linking.Record(f"{BASE}id/service/{codes[neighbour]}-from-{code}-{i}", "service",
                                      codes[neighbour], "g", name=linkdata.perturb_name(rng, name),
                                      postcodes={pc})
                records.append(copy)
                truth.add(frozenset((rec.iri, copy.iri)))
    for r in records:
        r.prepare()
    started, cpu = time.perf_counter(), time.process_time()
    ctx = linking.make_context(records)
    pairs = linking.candidate_pairs(records, frozenset())
    blocked = time.perf_counter()
    cands = []
    for i, j in pairs:
        a, b = sorted((records[i], records[j]), key=lambda r: (r.authority, r.iri))
        conf, ev = linking.score(a, b, ctx)
        if conf >= linking.REVIEW_THRESHOLD:
            cands.append(linking.Link("service", a, b, conf, "name+postcode", ev))
    scored = time.perf_counter()
    accepted, review = linking.assign([], cands, linking.THRESHOLD)
    done, cpu = time.perf_counter(), time.process_time() - cpu
    got = {lk.key for lk in accepted}
    tp = len(got & truth)
    print(f"{len(records)} service records in {authorities} authorities, {len(truth)} listed by a "
          f"neighbour too (perturbed names, same postcode)")
    print(f"candidate pairs {len(pairs)} ({len(pairs) / len(records):.2f} per record): blocking "
          f"{blocked - started:.1f} s, scoring {scored - blocked:.1f} s, assignment {done - scored:.1f} s "
          f"(wall clock; {cpu:.1f} s of CPU in all)")
    print(f"links {len(got)}, precision {tp / max(1, len(got)):.4f}, recall {tp / max(1, len(truth)):.4f}, "
          f"review rows {len(review)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", nargs="+", choices=sorted(FEEDS), default=sorted(FEEDS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=int, help="use only the first N records of each feed")
    ap.add_argument("--threshold", type=float, default=linking.THRESHOLD)
    ap.add_argument("--review-threshold", type=float, default=linking.REVIEW_THRESHOLD)
    ap.add_argument("--workdir", help="keep the feeds, store and review.csv here")
    ap.add_argument("--scale", type=int, help="time the matcher alone on N synthetic services")
    ap.add_argument("-v", "--verbose", action="store_true", help="list false links")
    args = ap.parse_args(argv)
    if args.scale:
        scale(args.scale, seed=args.seed)
        return 0
    return 0 if show(run(args), args.verbose) else 1


if __name__ == "__main__":
    sys.exit(main())
