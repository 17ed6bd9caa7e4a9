"""The article generator: configuration -> figure data + page sources -> `mkdocs build --strict` -> site/.

Data flows one way: World (datasets, embeddings) -> figure exporters (exporters/figures) -> JSON under
data/ -> Jinja figure templates (templates/*.html.j2) placed by the page templates
(article/pages/*.md.j2) -> Markdown sources in a staging dir -> MkDocs (its Python API, no plugins
or hooks) into a temporary dir -> swapped into site/ in one rename. On any error the previous site/
is left as it was.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from exporters.errors import UserError
from exporters.figures import FIGURES
from exporters.figures._common import FigureContext, dumps, slug

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
ARTICLE = ROOT / "article"
MKDOCS_YML = ROOT / "mkdocs.yml"


def _plotly_js() -> Path:
    import plotly

    p = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not p.exists():
        raise UserError(f"{p}: plotly.min.js missing from the plotly package; reinstall plotly")
    return p


class _Pages:
    """The Jinja globals a page template uses: figure(), metrics(), has(), notes."""

    def __init__(self, ctx: FigureContext, env: jinja2.Environment):
        self.ctx, self.env = ctx, env
        self.cache: dict[tuple, Any] = {}
        self.errors: dict[str, str] = {}
        self.dom_ids: set[str] = set()
        self.figures: list[dict] = []
        self.page = ""

    def data(self, fid: str, section: str | None = None) -> dict | None:
        if fid not in FIGURES:
            raise UserError(f"page {self.page}: unknown figure {fid!r}; known: {', '.join(FIGURES)}")
        key = (fid, section)
        if key not in self.cache:
            kwargs = {} if section is None else {"section": section}
            try:
                self.cache[key] = FIGURES[fid].build(self.ctx, **kwargs)
            except UserError as exc:
                if section in (None, "main"):
                    raise
                # an optional section whose data is unusable: say so on the page and on stderr
                self.errors[f"{fid}:{section}"] = str(exc)
                print(f"warning: figure {fid} ({section}) left out: {exc}", file=sys.stderr)
                self.cache[key] = None
        return self.cache[key]

    def figure(self, fid: str, section: str | None = None, **opts: Any) -> Markup:
        data = self.data(fid, section)
        base = slug(f"{fid}-{section or 'default'}")
        dom_id, k = base, 2
        while dom_id in self.dom_ids:
            dom_id, k = f"{base}-{k}", k + 1
        self.dom_ids.add(dom_id)
        if data is None:
            html = self.env.get_template("absent.html.j2").render(
                fid=fid, section=section, error=self.errors.get(f"{fid}:{section}"))
        else:
            src = self.ctx.write_json(f"data/{base}.json", data)
            self.figures.append({"id": dom_id, "figure": fid, "page": self.page, "src": src})
            html = self.env.get_template(f"{FIGURES[fid].TEMPLATE}.html.j2").render(
                data=data, src=src, dom_id=dom_id, opts=opts, options_json=dumps(opts), fid=fid)
        # Markdown ends a raw HTML block at a blank line: keep the figure one block
        return Markup("\n".join(line for line in html.splitlines() if line.strip()) + "\n")

    def metrics(self, section: str = "main") -> dict:
        """{model id: {'label', 'open': {...}, 'closed': {...}}} of a section, for numbers in prose."""
        d = self.data("explorer", section)
        if d is None:
            return {}
        return {m["id"]: {"label": m["label"], **m["metrics"]} for m in d["models"]}

    def has(self, section: str) -> bool:
        return section in self.ctx.world.config.sections


def _fmt(v: Any, digits: int = 2) -> str:
    if v is None:
        return "n/a"
    return f"{float(v):.{digits}f}"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(TEMPLATES), str(ARTICLE / "pages")]),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["fmt"] = _fmt
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{100 * float(v):.0f}%"
    env.filters["tojson_attr"] = lambda v: dumps(v)
    return env


def export_world(world: Any, out_dir: Path, cache_dir: Path | None = None) -> dict:
    """Write page sources, figure data, item files and assets for `world` into `out_dir` (emptied)."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        # only ever replace a folder this exporter wrote (or an empty one): `--out` is user input
        if any(out_dir.iterdir()) and not (out_dir / "data" / "manifest.json").is_file():
            raise UserError(f"{out_dir}: exists and is not an export folder (no data/manifest.json); "
                            "choose a new or empty folder")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    ctx = FigureContext(world, out_dir, Path(cache_dir or getattr(world, "work_dir", ".cache")),
                        dict(getattr(world.config, "options", {}) or {}))
    env = _env()
    pages = _Pages(ctx, env)
    env.globals.update(figure=pages.figure, metrics=pages.metrics, has=pages.has, data=pages.data,
                       title=world.config.title, config=world.config)
    # assets: one JS, one CSS, plotly once
    (out_dir / "assets").mkdir()
    for f in sorted((ARTICLE / "assets").iterdir()):
        shutil.copyfile(f, out_dir / "assets" / f.name)
    shutil.copyfile(_plotly_js(), out_dir / "assets" / "plotly.min.js")
    written = []
    for src in sorted((ARTICLE / "pages").glob("*.md.j2")):
        pages.page = src.name
        pages.dom_ids = set()
        text = env.get_template(src.name).render()
        dst = out_dir / src.name[:-3]
        dst.write_text(text, encoding="utf-8")
        written.append(dst.name)
    summary = {"pages": written, "figures": pages.figures, "notes": pages.errors,
               "data_bytes": dict(sorted(ctx.written.items()))}
    ctx.write_json("data/manifest.json", {"pages": written, "figures": pages.figures, "notes": pages.errors})
    if hasattr(world, "provenance"):  # origin and checksum of every model's weights, per dataset
        ctx.write_json("data/provenance.json", {"embeddings": world.provenance()})
    return summary


def export(config_path: Path, out_dir: Path) -> dict:
    """Figure data + page sources for the build configuration at `config_path`, into `out_dir`."""
    from exporters.config import load_config
    from exporters.world import World

    cfg = load_config(config_path)
    return export_world(World(cfg, work_dir=ROOT / ".cache"), out_dir, ROOT / ".cache")


def mkdocs_build(docs_dir: Path, site_dir: Path, site_name: str) -> None:
    """`mkdocs build --strict` of `docs_dir` into `site_dir` through MkDocs' Python API."""
    import logging

    from mkdocs.commands.build import build as mk_build
    from mkdocs.config import load_config as mk_load
    from mkdocs.exceptions import Abort, MkDocsException

    class _Count(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.WARNING)
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    counter = _Count()
    log = logging.getLogger("mkdocs")
    log.addHandler(counter)
    try:
        cfg = mk_load(config_file=str(MKDOCS_YML), docs_dir=str(docs_dir), site_dir=str(site_dir),
                      strict=True, site_name=site_name)
        mk_build(cfg)
    except (Abort, MkDocsException) as exc:
        raise UserError(f"mkdocs build --strict failed: {exc}; {'; '.join(counter.messages)}") from None
    finally:
        log.removeHandler(counter)
    if counter.messages:
        raise UserError(f"mkdocs build --strict warned: {'; '.join(counter.messages)}")


def build_world(world: Any, site_dir: Path = Path("site"), cache_dir: Path | None = None) -> Path:
    """Export + mkdocs into a temporary dir beside site_dir, then swap it in (all or nothing)."""
    site_dir = Path(site_dir).resolve()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=site_dir.parent))
    try:
        docs, out = work / "docs", work / "site"
        export_world(world, docs, cache_dir)
        # mkdocs-material writes site_name unescaped into some attributes: give it a plain version
        # (the page itself shows the configured title, escaped, as its heading)
        mkdocs_build(docs, out, re.sub(r"[<>\"'&`]", "", world.config.title).strip() or "Article")
        old = work / "old"
        if site_dir.exists():
            site_dir.rename(old)
        out.rename(site_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return site_dir


def build(config_path: Path, site_dir: Path = Path("site")) -> Path:
    """Build the article of `config_path` into `site_dir` (replaced only when everything succeeded)."""
    from exporters.config import load_config
    from exporters.world import World

    cfg = load_config(config_path)
    return build_world(World(cfg, work_dir=ROOT / ".cache"), site_dir, ROOT / ".cache")
