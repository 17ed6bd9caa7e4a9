"""`inspect`: print the metrics table (distance, losses, retrieval) of models on a dataset; with
`--measures`, the table of every measure of docs/analysis.md "Geometry, cost, quadrants, honesty"."""

from __future__ import annotations

import argparse
import json

from exporters.commands import add_cache_argument, add_config_argument
from exporters.errors import UserError



def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="print the metrics table of models x a dataset",
                       description="Print modality distance, losses (symmetric InfoNCE, the seed article's "
                                   "reference loss, InfoLOOB) and R@1/R@5 both ways, before and after closing the gap.")
    add_config_argument(p)
    add_cache_argument(p)
    p.add_argument("--section", default="main",
                   help="section whose dataset and models are inspected (default: %(default)s)")
    p.add_argument("--dataset", help="dataset id from the configuration (default: the section's)")
    p.add_argument("--model", action="append", help="model id (repeatable; default: the section's models)")
    p.add_argument("--measures", action="store_true",
                   help="print every measure (geometry, where the gap lives, its cost, quadrants, honest "
                        "projections) instead of the metrics table")
    p.add_argument("--projections", default=None, metavar="LIST",
                   help="with --measures: projections whose honesty is measured, comma-separated, or 'none' "
                        "(default: PCA,UMAP,TSNE)")
    p.add_argument("--batch-size", type=int, default=50, help="loss batch size (default: %(default)s, as the seed article)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from exporters.analysis.metrics import format_table, gap_metrics
    from exporters.config import load_config
    from exporters.world import World

    config = load_config(args.config)
    if args.section not in config.sections:
        raise UserError(f"{args.config}: unknown section {args.section!r}; defined: {', '.join(config.sections)}")
    main = config.sections[args.section]
    if "dataset" not in main and not args.dataset:
        raise UserError(f"{args.config}: [sections.{args.section}] holds several datasets; name one with --dataset")
    dataset = args.dataset or main["dataset"]
    if dataset not in config.datasets:
        raise UserError(f"{args.config}: unknown dataset {dataset!r}; defined: {', '.join(config.datasets)}")
    models = args.model or list(main["models"])
    for m in models:
        if m not in config.models:
            raise UserError(f"{args.config}: unknown model {m!r}; defined: {', '.join(config.models)}")
    if args.projections is not None and not args.measures:
        raise UserError("--projections only applies to --measures; add --measures or leave it out")
    world = World(config, args.cache)
    if args.measures:
        return _measures(args, world, dataset, models)
    rows = {}
    for m in models:
        emb = world.embeddings(m, dataset)
        x, y = emb.pair()
        ds = world.dataset(dataset)
        a, b = emb.names[0], emb.names[1]
        rows[m] = gap_metrics(x, y, emb.logit_scale, args.batch_size, (ds.content_groups(a), ds.content_groups(b)))
    if args.json:
        print(json.dumps({"dataset": dataset, "models": rows}, indent=1, sort_keys=True))
    else:
        print(f"dataset {dataset} ({world.dataset(dataset).id}, {len(world.dataset(dataset))} pairs); "
              f"losses: mean over batches of {args.batch_size}, each model's own logit scale")
        print(format_table(rows))
    return 0


def _measures(args: argparse.Namespace, world, dataset: str, models: list[str]) -> int:
    from exporters.analysis.geometry import coordinates_defined
    from exporters.analysis.measures import format_measures, model_measures
    from exporters.analysis.projection import METHODS

    spec = "PCA,UMAP,TSNE" if args.projections is None else args.projections
    names = [] if spec.strip().lower() == "none" else [p.strip().upper() for p in spec.split(",")]
    for p in names:
        if p not in METHODS:
            raise UserError(f"--projections: unknown projection {p!r}; choose from {', '.join(METHODS)} or 'none'")
    ds = world.dataset(dataset)
    rows = {}
    for m in models:
        emb = world.embeddings(m, dataset)
        x, y = emb.pair()
        a, b = emb.names[0], emb.names[1]
        rows[m] = model_measures(x, y, emb.logit_scale, coordinates_defined(emb),
                                 (ds.content_groups(a), ds.content_groups(b)), args.batch_size, names)
    if args.json:
        print(json.dumps({"dataset": dataset, "models": rows}, indent=1, sort_keys=True))
    else:
        print(f"dataset {dataset} ({ds.id}, {len(ds)} pairs); x = {a}, y = {b}; "
              "definitions and sources: docs/analysis.md")
        print(format_measures(rows))
    return 0
