"""One module per CLI command, each with `register(subparsers)`."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_CONFIG = Path("configs/default.toml")


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """The `--config` option every command that reads a build configuration shares."""
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                        help="build configuration (default: %(default)s)")


def add_cache_argument(parser: argparse.ArgumentParser) -> None:
    """`--cache DIR`: the cache folder for this command (default: $EXPORTERS_CACHE, else
    <checkout>/.embeddings-cache; see exporters/cache.py)."""
    parser.add_argument("--cache", type=Path, default=None, metavar="DIR",
                        help="cache of embeddings, projections and generated images "
                             "(default: $EXPORTERS_CACHE, else .embeddings-cache/ in the checkout)")
