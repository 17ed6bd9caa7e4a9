"""`derive-reference`: regenerate the repository's compact copy of the seed article's exported data."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_FROM = Path("../shared/reference/amumo-article")
DEFAULT_OUT = Path("data/seed-article")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("derive-reference", help="regenerate data/seed-article from the seed's exported folders",
                       description="Pack the seed article's similarity matrices to float32, shrink its images to "
                                   "thumbnails, compress its audio to MP3, and write NOTICE.md and SOURCES.json "
                                   "(every original file's sha256, the stored precision and the largest error it "
                                   "causes). The folder is replaced only when everything succeeded.")
    p.add_argument("--from", dest="source", type=Path, default=DEFAULT_FROM,
                   help="the seed's exported_data folder (default: %(default)s)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the copy (default: %(default)s)")
    p.add_argument("--commit", help="commit of the source repository the folder was taken from, when known")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from exporters.reference_copy import derive

    record = derive(args.source, args.out, args.commit)
    total = sum(f["bytes"] for f in record["files"].values())
    worst = record["precision"]["measured_max"]
    print(f"derived {len(record['files'])} files, {total:,} bytes -> {args.out}")
    print("largest error of the stored precision: " + ", ".join(f"{k} {v:.3g}" for k, v in worst.items()))
    return 0
