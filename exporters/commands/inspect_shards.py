"""`inspect-shards`: the gap metrics of an `embed` output folder, streamed in bounded memory.

    python -m exporters inspect-shards --shards DIR [--json] [--sample 500 --sample-out sample.npz]

See docs/scale.md (exporters/scale/stream.py, knn.py, sample.py).
"""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect-shards", help="print the gap metrics of embedding shards (streaming)",
                       description="Stream over the shards of `embed`: modality distance, per-dimension gap, "
                                   "mean in-/cross-modal cosine, RMG, alignment, uniformity and R@k (faiss), "
                                   "in memory that does not grow with the number of items.")
    p.add_argument("--shards", required=True, nargs="+",
                   help="the --out folder of `python -m exporters embed` (several: read as one set, in order)")
    p.add_argument("--pair", help="two modalities, 'image,text' (default: the first two)")
    p.add_argument("--k", type=int, nargs="+", default=[1, 5, 10], help="R@k cut-offs (default: 1 5 10)")
    p.add_argument("--retrieval", choices=("auto", "exact", "approx", "off"), default="auto",
                   help="R@k: exact IndexFlatIP, approximate IVF-PQ with measured recall, auto by --index-budget-mb")
    p.add_argument("--index-budget-mb", type=float, default=2048, help="largest exact index (default %(default)s MB)")
    p.add_argument("--nprobe", type=int, default=32, help="approximate index: lists searched (default %(default)s)")
    p.add_argument("--recall-queries", type=int, default=1000,
                   help="approximate index: queries checked by brute force (default %(default)s)")
    p.add_argument("--uniformity-pairs", type=int, default=200_000,
                   help="sampled pairs for uniformity when all pairs are too many (default %(default)s)")
    p.add_argument("--exact-pairs", type=int, default=2_000_000,
                   help="uniformity over all pairs up to this many (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of every sample (default %(default)s)")
    p.add_argument("--sample", type=int, default=0, help="draw a stratified sample of this many items")
    p.add_argument("--sample-out", help="write the sample (.npz: arrays per modality, ids, strata)")
    p.add_argument("--allow-partial", action="store_true", help="read a folder whose embed run left slots unfinished")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from exporters.errors import UserError
    from exporters.scale.shards import ShardSet
    from exporters.scale.stream import stream_metrics

    ss = ShardSet(args.shards, allow_partial=args.allow_partial)
    if ss.n < 2:
        raise UserError(f"{args.shards}: {ss.n} embedded items; the metrics need at least two")
    a = b = None
    if args.pair:
        parts = [s.strip() for s in args.pair.split(",")]
        if len(parts) != 2:
            raise UserError(f"--pair {args.pair!r}: give two modalities, e.g. image,text")
        a, b = parts
    res = stream_metrics(ss, a, b, ks=args.k, retrieval=args.retrieval, uniformity_pairs=args.uniformity_pairs,
                         exact_pairs=args.exact_pairs, seed=args.seed,
                         index_budget=int(args.index_budget_mb * 1024 * 1024), nprobe=args.nprobe,
                         recall_queries=args.recall_queries)
    if args.sample:
        from exporters.scale.sample import stratified_sample, write_sample

        s = stratified_sample(ss, args.sample, args.seed)
        res["sample"] = {"size": len(s["ids"]), "seed": s["seed"], "allocation": s["allocation"],
                         "counts": s["counts"]}
        if args.sample_out:
            res["sample"]["path"] = str(write_sample(ss, s, args.sample_out))
    if args.json:
        res["gap"]["vector"] = [round(v, 10) for v in res["gap"]["vector"]]
        per_dim = res["gap"]["per_dimension"]
        for key in ("abs_gap", "share"):
            per_dim[key] = [round(v, 10) for v in per_dim[key]]
        print(json.dumps(res, indent=1, sort_keys=True))
        return 0
    print(format_report(ss, res))
    return 0


def format_report(ss, r: dict) -> str:
    a, b = r["pair"]
    c, g = r["cosine"], r["gap"]
    lines = [f"{ss.folder}: {r['n']} pairs ({a}, {b}), d = {r['dim']}, {r['shards']} shards"
             + (f", logit scale {ss.logit_scale:.1f}" if ss.logit_scale else ""),
             f"  modality distance ||mean({a}) - mean({b})||   {g['distance']:.6f}",
             f"  gap carried by the top dimensions              half in {g['per_dimension']['dims_for_half']}, "
             f"90 % in {g['per_dimension']['dims_for_90_percent']} of {r['dim']}; top: "
             + ", ".join(f"#{t['dim']} {t['gap']:+.4f}" for t in g["per_dimension"]["top"][:5]),
             f"  mean cosine: in-modal {a} {c['inmodal_x']:.6f}, in-modal {b} {c['inmodal_y']:.6f}, "
             f"cross-modal {c['crossmodal']:.6f}, matched pairs {c['matched']:.6f}",
             f"  RMG (Schrodi et al. 2025)                      {r['rmg']:.6f}",
             f"  alignment E||x - y||^2 (Wang & Isola 2020)     {r['alignment']:.6f}"]
    for name, u in r["uniformity"].items():
        how = (f"all {u['pairs']} pairs" if u["mode"] == "exact"
               else f"{u['pairs']} sampled pairs, seed {u['seed']}, stderr {u['stderr']:.1e}")
        lines.append(f"  uniformity {name:<10} (t = 2)                 {u['value']:.6f}  ({how})")
    ret = r.get("retrieval")
    if ret:
        idx = ret["index"]
        lines.append(f"  R@k ({ret['mode']}, {idx['type']}, {idx['bytes'] / 2**20:.1f} MB index):")
        for q, gname in ((a, b), (b, a)):
            tag = f"{q}2{gname}"
            cells = "  ".join(f"R@{k} {ret[f'{tag}@{k}']:.4f}" for k in ret["ks"])
            lines.append(f"    {q} -> {gname}: {cells}")
            meas = ret.get(f"{tag}_measured")
            if meas:
                k = max(ret["ks"])
                lines.append(f"      measured on {meas['queries']} exact queries: neighbour recall@{k} "
                             f"{meas[f'neighbour_recall@{k}']:.3f}, exact R@{k} {meas[f'exact@{k}']:.4f} "
                             f"± {meas[f'exact@{k}_stderr']:.4f} vs approximate {meas[f'approx@{k}']:.4f}")
    if "sample" in r:
        s = r["sample"]
        lines.append(f"  stratified sample: {s['size']} items, seed {s['seed']}, by stratum {s['allocation']}"
                     + (f" -> {s['path']}" if s.get("path") else ""))
    return "\n".join(lines)
