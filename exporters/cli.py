"""Command line: `python -m exporters <command>` (also installed as `clip-article`).

Every command lives in `exporters/commands/<name>.py` with a `register(subparsers)` function, so a
new command is one new module. User errors print one line and exit 2; nothing else is caught.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from exporters import __version__, commands
from exporters.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clip-article",
        description="Compute embeddings, analyses and figures of CLIP-like models and build the article.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"exporters.commands.{info.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
