"""One module per CLI command, each with `register(subparsers)`."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_CONFIG = Path("configs/default.toml")


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """The `--config` option every command that reads a build configuration shares."""
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                        help="build configuration (default: %(default)s)")
