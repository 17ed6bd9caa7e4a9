"""`export` (configuration -> figure data and page sources) and `build` (export + the site)."""

from __future__ import annotations

import argparse
from pathlib import Path

from exporters.commands import add_cache_argument, add_config_argument

BUILDERS = ("mkdocs", "zensical")   # exporters.site.BUILDERS, without importing the figure modules for --help



def register(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("export", help="compute figure data and page sources from a configuration",
                       description="Embed (cached), analyse and write figure JSON, thumbnails and page "
                                   "sources into a staging folder that mkdocs can assemble.")
    add_config_argument(e)
    add_cache_argument(e)
    e.add_argument("--out", type=Path, default=Path("build/docs"), help="staging folder (default: %(default)s)")
    e.set_defaults(func=run_export)

    b = sub.add_parser("build", help="export, then assemble the site with mkdocs",
                       description="Export the figure data and pages, run `mkdocs build --strict` (or "
                                   "`zensical build --strict`) into a new folder beside the site and "
                                   "publish it by flipping the site's "
                                   "symbolic link (SITE -> .SITE-builds/<id>); on any error the previous "
                                   "site is left as it was. Only a path that is absent, empty or a site "
                                   "`build` wrote is replaced; one build per site at a time.")
    add_config_argument(b)
    add_cache_argument(b)
    b.add_argument("--site", type=Path, default=Path("site"), help="output path (default: %(default)s)")
    b.add_argument("--builder", choices=BUILDERS, default="mkdocs",
                   help="what assembles the pages: mkdocs (MkDocs + mkdocs-material) or zensical "
                        "(`zensical build`; pip install zensical) (default: %(default)s)")
    b.add_argument("--force", action="store_true",
                   help="rebuild even when the published site was built from the same inputs (config, "
                        "data, models, templates, pages, assets, code, libraries: exporters/fingerprint.py)")
    b.set_defaults(func=run_build)


def run_export(args: argparse.Namespace) -> int:
    from exporters.site import export

    export(args.config, args.out, args.cache)
    print(f"exported {args.config} -> {args.out}")
    return 0


def run_build(args: argparse.Namespace) -> int:
    from exporters.site import rebuild

    out, inputs, built = rebuild(args.config, args.site, args.cache, args.builder, args.force)
    if built:
        print(f"built {args.config} -> {out} ({args.builder})")
    else:
        print(f"up to date: {out} was built from these inputs (sha256 {inputs['sha256'][:12]}); "
              "nothing rebuilt (--force rebuilds)")
    return 0
