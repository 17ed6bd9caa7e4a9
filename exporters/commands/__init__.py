"""One module per CLI command, each with `register(subparsers)`."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """The `--config` option every command that reads a build configuration shares; without it, the
    embedded default (configs/default.toml, shipped with the package: it works from any directory)."""
    from exporters.resources import default_config

    parser.add_argument("--config", type=Path, default=default_config(),
                        help="build configuration (default: the embedded default article, %(default)s)")


def add_cache_argument(parser: argparse.ArgumentParser) -> None:
    """`--cache DIR`: the cache folder for this command (default: $EXPORTERS_CACHE, else
    <checkout>/.embeddings-cache; see exporters/cache.py)."""
    parser.add_argument("--cache", type=Path, default=None, metavar="DIR",
                        help="cache of embeddings, projections and generated images "
                             "(default: $EXPORTERS_CACHE, else .embeddings-cache/ in the checkout)")
