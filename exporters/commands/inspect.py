"""`inspect`: print the metrics table (distance, losses, retrieval) of models on a dataset."""

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
    p.add_argument("--dataset", help="dataset id from the configuration (default: the main section's)")
    p.add_argument("--model", action="append", help="model id (repeatable; default: the main section's models)")
    p.add_argument("--batch-size", type=int, default=50, help="loss batch size (default: %(default)s, as the seed article)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from exporters.analysis.metrics import format_table, gap_metrics
    from exporters.config import load_config
    from exporters.world import World

    config = load_config(args.config)
    main = config.sections["main"]
    dataset = args.dataset or main["dataset"]
    if dataset not in config.datasets:
        raise UserError(f"{args.config}: unknown dataset {dataset!r}; defined: {', '.join(config.datasets)}")
    models = args.model or list(main["models"])
    for m in models:
        if m not in config.models:
            raise UserError(f"{args.config}: unknown model {m!r}; defined: {', '.join(config.models)}")
    world = World(config, args.cache)
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
