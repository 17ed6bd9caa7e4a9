"""`embed`: L2-normalised float32 embedding shards of a pair manifest, in one process or on Ray Data.

    python -m exporters embed --manifest pairs.parquet --out shards/ \\
        --arch ShapesViT-T-32 --checkpoint models/clip.safetensors [--engine ray --workers 2]

See docs/scale.md (exporters/scale/).
"""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("embed", help="embed a pair manifest into shards (local, or Ray Data)",
                       description="Embed every item of a pair manifest (Parquet or CSV: id, image, caption, "
                                   "optional image:<name>/text:<name> columns and a stratum) with an open_clip "
                                   "model into L2-normalised float32 shards under content-hash keys, plus a run "
                                   "record. Unreadable images and empty captions are recorded and skipped. A rerun "
                                   "does only the missing shards. See docs/scale.md.")
    p.add_argument("--manifest", required=True, help="pair manifest (.parquet, .csv or .tsv)")
    p.add_argument("--out", required=True, help="output folder (shards, index.json, runs/)")
    w = p.add_argument_group("model (named explicitly: never a silent random model)")
    w.add_argument("--arch", help="open_clip architecture, e.g. ViT-B-32 or ShapesViT-T-32")
    w.add_argument("--checkpoint", help="local checkpoint file (.safetensors/.pt)")
    w.add_argument("--pretrained", help="open_clip pretrained tag, e.g. laion2b_s34b_b79k")
    w.add_argument("--random-init", action="store_true", help="an untrained model, seeded (asked for by name)")
    w.add_argument("--config", help="or: a build configuration ...")
    w.add_argument("--model", help="... and the id of one of its open_clip [models.<id>] tables")
    e = p.add_argument_group("engine")
    e.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: this process (default); ray: Ray Data actor pool (pip install '.[scale]')")
    e.add_argument("--workers", type=int, default=1, help="encoder actors (ray; default %(default)s)")
    e.add_argument("--gpus", type=float, default=0, help="GPUs per encoder actor (default %(default)s: CPU)")
    e.add_argument("--cpus-per-worker", type=float, default=1, help="CPUs per actor (default %(default)s)")
    e.add_argument("--threads", type=int, default=None, help="torch threads per worker (default: its CPUs)")
    e.add_argument("--address", help="join a running Ray cluster (default: start one on this machine)")
    p.add_argument("--shard-size", type=int, default=1000, help="rows per shard (default %(default)s)")
    p.add_argument("--stratum-column", help="manifest column the figures' stratified sample is drawn by "
                                            "(default: 'stratum' when present)")
    p.add_argument("--rehash", action="store_true",
                   help="ignore finished-slot records: read and hash every file again (content check)")
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="embeddings cache (default: $EXPORTERS_CACHE, else .embeddings-cache/ in the checkout)")
    p.add_argument("--json", action="store_true", help="print the run record as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from exporters.scale.run import embed_job, model_spec

    spec = model_spec(args.arch, args.pretrained, args.checkpoint, args.random_init, args.config, args.model)
    rec = embed_job(args.manifest, args.out, spec, engine=args.engine, workers=args.workers, gpus=args.gpus,
                    cpus_per_worker=args.cpus_per_worker, shard_size=args.shard_size, cache=args.cache,
                    address=args.address, rehash=args.rehash, stratum_column=args.stratum_column,
                    threads=args.threads)
    if args.json:
        print(json.dumps(rec, indent=1, sort_keys=True))
        return 0
    it, sh, tp = rec["items"], rec["shards"], rec["throughput"]
    rate = f"{tp['rows_per_second']:.1f} items/s" if tp["rows_per_second"] else "nothing to encode"
    print(f"embed ({rec['engine']}, {rec['workers']} worker{'s' if rec['workers'] != 1 else ''}): "
          f"{it['embedded_total']} of {it['rows']} items embedded, {it['failed_total']} failed; "
          f"shards: {sh['total']} ({sh['already_done']} already done, {sh['written']} written, "
          f"{sh['reused']} reused, {sh['failed']} failed); this run: {it['rows_this_run']} items, {rate}")
    if it["failed_total"]:
        first = rec["failures"][0]
        print(f"  failures by item are in {rec['record_path']} (first: {first['id']}, {first['modality']}: "
              f"{first['reason']})")
    print(f"  record: {rec['record_path']}")
    if sh["failed"]:
        print(f"error: {sh['failed']} shards failed after retries (slots {sh['failed_slots'][:10]}); "
              "rerun embed to do them", file=sys.stderr)
        return 1
    return 0
