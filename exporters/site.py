"""The article generator: configuration -> figure data + page sources -> `mkdocs build --strict` -> site/.

Data flows one way: World (datasets, embeddings) -> figure exporters (exporters/figures) -> JSON under
data/ -> Jinja figure templates (templates/*.html.j2) placed by the page templates
(article/pages/*.md.j2) -> Markdown sources in a staging dir -> MkDocs (its Python API, no plugins
or hooks) into a new folder beside the site -> published by flipping one symbolic link.
`build --builder zensical` assembles the same staged pages with `zensical build --strict` instead
(its configuration is written into the staging folder). Templates, pages, assets and mkdocs.yml are
package data (exporters/resources.py).

Publishing (docs/configuration.md, "Where the site goes"): the site path `P` is a symbolic link
`P -> .P-builds/<build id>`; a build writes a complete new `.P-builds/<id>/` (with the marker file
`.clip-article-site.json`), then replaces the link with `os.replace` of a new link, which is atomic:
`P` is the old site or the new one at every instant, whatever kills the build. A lock
(`.P-builds/lock`, flock) admits one build per site at a time; under it, whatever else is in
`.P-builds/` was left by a killed build and is removed. `build` only ever replaces a path that is
absent, an empty folder, its own link, or a folder an older version of `build` wrote.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import importlib
import json
import os
import re
import secrets
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from exporters.errors import UserError
from exporters.figures import FIGURES
from exporters.figures._context import FigureContext
from exporters.figures._encoding import dumps, slug
from exporters.figures._prose import pair_name

BUILDERS = ("mkdocs", "zensical")   # what assembles the staged pages into the site (`build --builder`)


def _shipped(*parts: str) -> Path:
    """templates/, article/ and mkdocs.yml: package data (exporters/resources.py), read through
    importlib.resources, so an installed package works from any directory."""
    from exporters.resources import resource_path

    return resource_path(*parts)


PLOTLY_TOKEN = '"assets/plotly.min.js"'   # in article/views/_core.js; the build writes the content-hashed name there


def plotly_bundle() -> tuple[Path, str]:
    """The vendored plotly.js partial bundle (article/vendor/plotly, checked against the sha256 in
    its VENDOR.json) and its site name `assets/plotly-<sha8>.min.js`: a new bundle gets a new URL,
    so a host or browser may cache it for good."""
    vendor = _shipped("article", "vendor", "plotly")
    record = json.loads((vendor / "VENDOR.json").read_text(encoding="utf-8"))
    path = vendor / record["file"]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != record["sha256"]:
        raise UserError(f"{path}: sha256 {digest[:12]}... is not the {record['sha256'][:12]}... its VENDOR.json "
                        "records; restore it with python tools/plotly/vendor.py --update (or reinstall)")
    return path, f"assets/plotly-{digest[:8]}.min.js"


def figures_js() -> str:
    """assets/figures.js: article/views/_core.js, then every figure's view (article/views/<id>.js, in
    the order of their ids), then _boot.js, each under a comment naming its file. Every registered
    figure must have its view and every view its figure: a missing or stray file is an error here,
    not a blank figure in the reader's browser."""
    views = _shipped("article", "views")
    names = sorted(f.name[:-3] for f in views.glob("*.js") if not f.name.startswith("_"))
    missing, stray = sorted(set(FIGURES) - set(names)), sorted(set(names) - set(FIGURES))
    if missing or stray:
        raise UserError(f"{views}: " + "; ".join(
            ([f"no view for figure(s) {', '.join(missing)} (add <id>.js there)"] if missing else []) +
            ([f"view(s) {', '.join(stray)} without a figure module in exporters/figures"] if stray else [])))
    parts = []
    for name in ["_core", *names, "_boot"]:
        parts.append(f"/* ==== article/views/{name}.js ==== */\n" + _lean((views / f"{name}.js").read_text(encoding="utf-8")))
    return "\n".join(parts)


def _lean(js: str) -> str:
    """A view without what only its reader in the repository needs: comments on lines of their own (`//`
    lines and `/* ... */` blocks that start a line), blank lines and indentation; a fifth of figures.js
    gzipped. Code lines are kept whole (a `//` inside a line may be part of a string), so the views must
    not continue a string or template literal over a line break (tests/test_site.py checks)."""
    out, in_block = [], False
    for line in js.split("\n"):
        t = line.strip()
        if in_block:
            in_block = "*/" not in t
            continue
        if t.startswith("/*"):
            in_block = "*/" not in t
            continue
        if t and not t.startswith("//"):
            out.append(t)
    return "\n".join(out) + "\n"


def _copy_assets(out_dir: Path) -> None:
    """article/assets/*, assets/figures.js (figures_js) and the plotly bundle under its hashed name,
    whose URL figures.js is given."""
    bundle, name = plotly_bundle()
    (out_dir / "assets").mkdir()
    for f in sorted(_shipped("article", "assets").iterdir()):
        shutil.copyfile(f, out_dir / "assets" / f.name)
    text = figures_js()
    if text.count(PLOTLY_TOKEN) != 1:
        raise UserError(f"article/views/_core.js: needs {PLOTLY_TOKEN} exactly once (where the build writes the "
                        f"plotly bundle's name); found {text.count(PLOTLY_TOKEN)}")
    (out_dir / "assets" / "figures.js").write_text(text.replace(PLOTLY_TOKEN, f'"{name}"'), encoding="utf-8")
    shutil.copyfile(bundle, out_dir / name)


class _NotYet(Exception):
    """A page asked for a figure the parallel worker has not finished: render it later."""


class _Pages:
    """The Jinja globals a page template uses: figure(), metrics(), has(), notes."""

    def __init__(self, ctx: FigureContext, env: jinja2.Environment):
        self.ctx, self.env = ctx, env
        self.cache: dict[tuple, Any] = {}
        self.errors: dict[str, str] = {}
        self.dom_ids: set[str] = set()
        self.figures: list[dict] = []
        self.page = ""
        self.offload = None     # exporters/parallel.py: a worker computing the heaviest figure
        self.defer = False      # True while pages that wait for the worker may be put off

    def data(self, fid: str, section: str | None = None) -> dict | None:
        if fid not in FIGURES:
            raise UserError(f"page {self.page}: unknown figure {fid!r}; known: {', '.join(FIGURES)}")
        key = (fid, section)
        if key not in self.cache and self.offload is not None and key in self.offload.keys:
            if self.defer and not self.offload.ready():
                raise _NotYet(key)          # render this page after the others (export_world)
            done, result = self.offload.take(key, self.ctx)
            if done:
                self.cache[key] = result
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
            mod = FIGURES[fid]
            if hasattr(mod, "TEMPLATE"):
                html = self.env.get_template(f"{mod.TEMPLATE}.html.j2").render(
                    data=data, src=src, dom_id=dom_id, opts=opts, options_json=dumps(opts), fid=fid)
            else:
                html = self.env.get_template("figure.html.j2").render(
                    shell=mod.describe(data, opts), src=src, dom_id=dom_id, options_json=dumps(opts), fid=fid)
        # Markdown ends a raw HTML block at a blank line: keep the figure one block
        return Markup("\n".join(line for line in html.splitlines() if line.strip()) + "\n")

    def facts(self, fid: str, section: str | None = None) -> dict | None:
        """What a page's prose may state about one figure: its module's facts(data), computed and
        unit-tested in Python (None when the figure is absent from this build)."""
        data = self.data(fid, section)
        if data is None:
            return None
        return FIGURES[fid].facts(data)

    def page_facts(self) -> dict:
        """The facts of the page being rendered that combine several figures:
        exporters/pages/<page>.py's facts(pages), given this object (its data(), facts() and has())."""
        stem = self.page.split(".", 1)[0]
        return importlib.import_module(f"exporters.pages.{stem}").facts(self)

    def metrics(self, section: str = "main") -> dict:
        """{model id: {'label', 'open': {...}, 'closed': {...}}} of a section, for numbers in prose."""
        d = self.data("explorer", section)
        if d is None:
            return {}
        return {m["id"]: {"label": m["label"], **m["metrics"]} for m in d["models"]}

    def has(self, section: str) -> bool:
        return section in self.ctx.world.config.sections


def _copies(config: Any) -> dict | None:
    """Facts of the repository's reference copy that this build reads (the data page states them)."""
    from exporters.reference_copy import copy_facts

    folders = [config.resolve(str(e.options["path"])) for e in config.datasets.values() if e.source == "reference_copy"]
    return copy_facts(folders) if folders else None


def _fmt(v: Any, digits: int = 2) -> str:
    if v is None:
        return "n/a"
    return f"{float(v):.{digits}f}"


def _env() -> jinja2.Environment:
    search = [str(_shipped("templates")), str(_shipped("article", "pages"))]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(search),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["fmt"] = _fmt
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{100 * float(v):.0f}%"
    env.filters["tojson_attr"] = lambda v: dumps(v)
    env.filters["pair"] = pair_name     # a modality pair's key as written: image_text -> image–text
    env.filters["thousands"] = lambda v: f"{v:,}"
    return env


def export_world(world: Any, out_dir: Path, cache_dir: Path | None = None) -> dict:
    """Write page sources, figure data, item files and assets for `world` into `out_dir` (emptied)."""
    out_dir = Path(out_dir)
    try:
        if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
            raise UserError(f"{out_dir}: exists and is not an export folder (a file or a link); "
                            "choose a new or empty folder")
        if out_dir.exists():
            # only ever replace a folder this exporter wrote (or an empty one): `--out` is user input
            if any(out_dir.iterdir()) and not (out_dir / "data" / "manifest.json").is_file():
                raise UserError(f"{out_dir}: exists and is not an export folder (no data/manifest.json); "
                                "choose a new or empty folder")
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
    except OSError as exc:
        raise _fs_error(out_dir, exc, "choose a folder you can write to") from None
    ctx = FigureContext(world, out_dir, Path(cache_dir or getattr(world, "work_dir", None) or _cache_root()),
                        dict(getattr(world.config, "options", {}) or {}))
    env = _env()
    pages = _Pages(ctx, env)
    env.globals.update(figure=pages.figure, metrics=pages.metrics, has=pages.has, data=pages.data,
                       facts=pages.facts, page_facts=pages.page_facts,
                       title=world.config.title, config=world.config, copies=lambda: _copies(world.config))
    _copy_assets(out_dir)   # the article's JS and CSS, plotly once
    from exporters import parallel

    sources = sorted(_shipped("article", "pages").glob("*.md.j2"))
    pages.offload = parallel.start(world, out_dir, ctx.cache_dir)
    try:
        pages.defer, later = pages.offload is not None, []
        for src in sources:
            if not _render_page(env, pages, src, out_dir):
                later.append(src)
        pages.defer = False
        for src in later:               # the pages that wait for the worker, now that the rest is done
            _render_page(env, pages, src, out_dir)
    finally:
        if pages.offload is not None:
            pages.offload.close()
    order = {src.name: i for i, src in enumerate(sources)}
    pages.figures.sort(key=lambda f: order[f["page"]])   # as one process renders them: in page order
    written = [src.name[:-3] for src in sources]
    summary = {"pages": written, "figures": pages.figures, "notes": pages.errors,
               "data_bytes": dict(sorted(ctx.written.items()))}
    ctx.write_json("data/manifest.json", {"pages": written, "figures": pages.figures, "notes": pages.errors})
    if hasattr(world, "provenance"):  # origin and checksum of every model's weights, per dataset
        ctx.write_json("data/provenance.json", {"embeddings": world.provenance()})
    return summary


def _render_page(env: jinja2.Environment, pages: _Pages, src: Path, out_dir: Path) -> bool:
    """Render one page source into out_dir; False (nothing written) when it must wait for the worker."""
    pages.page, pages.dom_ids, before = src.name, set(), len(pages.figures)
    try:
        text = env.get_template(src.name).render()
    except _NotYet:
        del pages.figures[before:]
        return False
    (out_dir / src.name[:-3]).write_text(text, encoding="utf-8")
    return True


def _cache_root() -> Path:
    from exporters.cache import cache_root

    return cache_root()


def _fs_error(path: Path, exc: OSError, fix: str) -> UserError:
    """An OSError on a path the user chose, as one line naming it and the fix."""
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
    return UserError(f"{path}: {exc.strerror or type(exc).__name__}{where}; {fix}")


def export(config_path: Path, out_dir: Path, cache: Path | None = None) -> dict:
    """Figure data + page sources for the build configuration at `config_path`, into `out_dir`."""
    from exporters.config import load_config
    from exporters.world import World

    cfg = load_config(config_path)
    root = Path(cache) if cache else _cache_root()
    return export_world(World(cfg, work_dir=root), out_dir, root)


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
        cfg = mk_load(config_file=str(_shipped("mkdocs.yml")), docs_dir=str(docs_dir), site_dir=str(site_dir),
                      strict=True, site_name=site_name)
        mk_build(cfg)
    except (Abort, MkDocsException) as exc:
        raise UserError(f"mkdocs build --strict failed: {exc}; {'; '.join(counter.messages)}") from None
    finally:
        log.removeHandler(counter)
    if counter.messages:
        raise UserError(f"mkdocs build --strict warned: {'; '.join(counter.messages)}")


ZENSICAL_CONFIG = "mkdocs.yml"   # Zensical reads MkDocs' format; written into the staging folder only


def zensical_config(stage: Path, docs_dir: Path, site_dir: Path, site_name: str) -> Path:
    """Write the configuration `zensical build` needs into `stage`: the shipped mkdocs.yml (its `!ENV`
    tags resolved now) with site_name, docs_dir and site_dir set. Zensical's CLI takes only a config
    file and requires both folders inside the config file's folder; the user's mkdocs.yml is never
    touched. Zensical's own cache (`.cache/`) lands in `stage` too and goes with it."""
    import yaml
    from mkdocs.utils.yaml import yaml_load

    shipped = _shipped("mkdocs.yml")
    with open(shipped, encoding="utf-8") as f:
        cfg = {k: v for k, v in yaml_load(f).items() if v is not None}
    theme = cfg.get("theme")
    if isinstance(theme, dict) and theme.get("custom_dir"):
        # the overrides are copies of mkdocs-material partials (article/overrides, kept equal to the
        # installed material's by tests/test_a11y.py); Zensical's theme has partials of its own (its
        # search dialog is named already), which a material copy would replace with markup its styles
        # and scripts do not expect (the material search form shows as stray icons in the header)
        theme = {k: v for k, v in theme.items() if k != "custom_dir"}
        cfg["theme"] = theme
    cfg.update(site_name=site_name, docs_dir=os.path.relpath(docs_dir, stage),
               site_dir=os.path.relpath(site_dir, stage))
    path = stage / ZENSICAL_CONFIG
    path.write_text("# written by clip-article for `zensical build` from " + str(shipped) + "\n"
                    + yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def zensical_build(docs_dir: Path, site_dir: Path, site_name: str) -> None:
    """`zensical build --strict` of `docs_dir` into `site_dir` (a subprocess of this interpreter); the
    configuration goes into the folder that holds `docs_dir`, which must also hold `site_dir`."""
    import importlib.util
    import subprocess

    if importlib.util.find_spec("zensical") is None:
        raise UserError("--builder zensical needs the zensical package; install it with "
                        "pip install 'clip-latent-article[zensical]' (or pip install zensical)")
    docs, out = Path(os.path.abspath(docs_dir)), Path(os.path.abspath(site_dir))
    stage = docs.parent                 # Zensical wants both folders inside the config file's folder
    if not out.is_relative_to(stage) or out == stage:
        raise UserError(f"{site_dir}: the site must be built inside {stage}, beside {docs_dir.name}/")
    config = zensical_config(stage, docs, out, site_name)
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "zensical", "build", "--strict", "--config-file", str(config)],
                          cwd=stage, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode != 0 or not (site_dir / "index.html").is_file():
        raise UserError(f"zensical build --strict failed: {_summary(proc.stdout + proc.stderr, proc.returncode)}")


def _summary(output: str, returncode: int, limit: int = 2000) -> str:
    """Zensical's report as one line: its messages without colours or frames, and of a Python
    traceback only its last line."""
    lines, tail = [], output.rstrip().splitlines()[-1:] if "Traceback" in output else []
    for line in re.sub(r"\x1b\[[0-9;]*m", "", output).splitlines():
        if line.startswith("Traceback"):
            break
        text = " ".join(re.sub(r"[\u2500-\u257f]+", " ", line).split())   # box-drawing frames
        if text and text != "Build started":
            lines.append(text)
    text = "; ".join(lines + tail) or f"exit status {returncode}, no output"
    return text if len(text) <= limit else text[:limit] + " ..."


def _assemble(builder: str, docs_dir: Path, site_dir: Path, site_name: str) -> None:
    if builder == "mkdocs":
        mkdocs_build(docs_dir, site_dir, site_name)
    elif builder == "zensical":
        zensical_build(docs_dir, site_dir, site_name)
    else:
        raise UserError(f"unknown site builder {builder!r}; use one of {', '.join(BUILDERS)}")


MARKER = ".clip-article-site.json"   # written into every site `build` makes: how it knows its own
_LEGACY = ("index.html", "data/manifest.json", "assets/figures.js")   # a site of a version before the marker
_RENAME_EXCHANGE, _RENAME_NOREPLACE = 2, 1


def builds_dir(site: Path) -> Path:
    """Where the builds of `site` live: `.<name>-builds/` beside it."""
    return site.parent / f".{site.name}-builds"


def _site_state(site: Path, builds: Path) -> str:
    """What is at the site path: 'absent', 'link' (ours), 'empty' or 'folder' (a site `build` wrote);
    anything else is refused with one line."""
    why = (f"`build` only replaces a folder it wrote (it holds {MARKER}) or an empty one; "
           "choose another --site, or move it away yourself")
    if site.is_symlink():
        target = os.readlink(site)
        full = os.path.normpath(os.path.join(site.parent, target))
        if os.path.dirname(full) == os.path.normpath(builds):
            return "link"
        raise UserError(f"{site}: is a symbolic link to {target}, not to a site `build` made in {builds.name}/; {why}")
    if not site.exists():
        return "absent"
    if not site.is_dir():
        raise UserError(f"{site}: exists and is a file, not a site; {why}")
    if not any(site.iterdir()):
        return "empty"
    if (site / MARKER).is_file() or all((site / f).is_file() for f in _LEGACY):
        return "folder"
    raise UserError(f"{site}: exists, is not empty and holds no {MARKER}; {why}")


def _renameat2(src: Path, dst: Path, flags: int) -> bool:
    """Linux renameat2(2) (RENAME_EXCHANGE / RENAME_NOREPLACE); False where the system has none."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(-100, os.fsencode(src), -100, os.fsencode(dst), flags) == 0:   # AT_FDCWD
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(dst))


@contextlib.contextmanager
def _build_lock(site: Path, builds: Path):
    """One build per site at a time: an flock on `.<name>-builds/lock` (released when the process ends)."""
    path = builds / "lock"
    try:
        f = open(path, "a+")
    except OSError as exc:
        raise _fs_error(builds, exc, "choose a --site in a folder you can write to") from None
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip()
            raise UserError(f"{site}: another build into this site is running ({holder or 'it holds ' + str(path)}); "
                            "wait for it to finish") from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()                # no stale holder named after we are done
    finally:
        f.close()                       # closing releases the lock


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _clean(site: Path, builds: Path, keep: str | None) -> None:
    """Under the lock: everything in `builds` but the lock and the published build was left by a
    killed build. Also the `.build-XXXXXXXX` staging folders older versions left beside the site."""
    for entry in builds.iterdir():
        if entry.name not in ("lock", keep):
            _remove(entry)
    for entry in site.parent.glob(".build-*"):
        if re.fullmatch(r"\.build-[a-z0-9_]{8}", entry.name) and entry.is_dir() and not entry.is_symlink() \
                and {c.name for c in entry.iterdir()} <= {"docs", "site", "old"}:
            shutil.rmtree(entry, ignore_errors=True)


def _published(site: Path, builds: Path) -> str | None:
    """The build id `site` links to, if it is our link."""
    if site.is_symlink():
        full = os.path.normpath(os.path.join(site.parent, os.readlink(site)))
        if os.path.dirname(full) == os.path.normpath(builds):
            return os.path.basename(full)
    return None


def _publish(site: Path, builds: Path, final: Path) -> None:
    """Make `site` show `final`: one atomic rename of a new symbolic link over the old one."""
    state = _site_state(site, builds)   # again: the path may have changed while the build ran
    link = builds / "publish.tmp"
    _remove(link)
    os.symlink(os.path.relpath(final, site.parent), link)
    if state == "absent":
        if not _renameat2(link, site, _RENAME_NOREPLACE):
            os.replace(link, site)
    elif state == "link":
        os.replace(link, site)
    elif state == "empty":
        os.rmdir(site)                  # nothing was published there
        os.replace(link, site)
    else:                               # a real folder from an older build: migrated once
        if _renameat2(link, site, _RENAME_EXCHANGE):
            shutil.rmtree(link)         # `link` now names the old folder
        else:                           # no atomic exchange here: a short moment without a site
            old = builds / f"previous-{final.name}"
            os.rename(site, old)
            os.replace(link, site)
            shutil.rmtree(old, ignore_errors=True)


def build_world(world: Any, site_dir: Path = Path("site"), cache_dir: Path | None = None,
                builder: str = "mkdocs", inputs: dict | None = None, force: bool = False) -> Path:
    """Export + `builder` (mkdocs or zensical) into a new build folder beside `site_dir`, then publish
    it (all or nothing). `inputs` (exporters/fingerprint.py) is recorded in the site's marker; when the
    published site already records the same, nothing is rebuilt unless `force`."""
    return _build_world(world, site_dir, cache_dir, builder, inputs, force)[0]


def _marker_inputs(folder: Path) -> dict | None:
    """The inputs fingerprint a published build recorded in its marker, if it is readable."""
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8")).get("inputs")
    except (OSError, ValueError, AttributeError):
        return None


def _build_world(world: Any, site_dir: Path, cache_dir: Path | None, builder: str, inputs: dict | None,
                 force: bool) -> tuple[Path, bool]:
    """build_world, and whether it built (False: the published site already shows `inputs`)."""
    if builder not in BUILDERS:
        raise UserError(f"unknown site builder {builder!r}; use one of {', '.join(BUILDERS)}")
    site = Path(os.path.abspath(site_dir))
    builds = builds_dir(site)
    _site_state(site, builds)           # refuse before writing anything
    try:
        builds.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fs_error(site.parent, exc, "choose a --site in a folder you can write to") from None
    with _build_lock(site, builds):
        _site_state(site, builds)       # again, now that no other build can change it
        before = _published(site, builds)
        try:
            _clean(site, builds, before)
        except OSError as exc:
            raise _fs_error(builds, exc, "remove it by hand") from None
        if inputs and not force and before and (_marker_inputs(builds / before) or {}).get("sha256") == \
                inputs["sha256"] and (builds / before / "index.html").is_file():
            return site, False
        build_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        stage, final = builds / f"staging-{build_id}", builds / build_id
        published = False
        try:
            docs, out = stage / "docs", stage / "site"
            export_world(world, docs, cache_dir)
            # mkdocs-material writes site_name unescaped into some attributes: give it a plain version
            # (the page itself shows the configured title, escaped, as its heading)
            _assemble(builder, docs, out, re.sub(r"[<>\"'&`]", "", world.config.title).strip() or "Article")
            try:
                marker = {"generator": "clip-article", **({"inputs": inputs} if inputs else {})}
                (out / MARKER).write_text(json.dumps(marker, sort_keys=True) + "\n")
                out.rename(final)
                _publish(site, builds, final)
            except OSError as exc:
                raise _fs_error(site, exc, "nothing was published; check the path and build again") from None
            published = True
        finally:
            _remove(stage)
            if not published:
                _remove(final)
        old = _published(site, builds)
        if before and before != old:
            _remove(builds / before)
    return site, True


def build(config_path: Path, site_dir: Path = Path("site"), cache: Path | None = None,
          builder: str = "mkdocs", force: bool = False) -> Path:
    """Build the article of `config_path` into `site_dir` (replaced only when everything succeeded)
    with `builder`: "mkdocs" (MkDocs + mkdocs-material) or "zensical"; a no-op when the published
    site was built from the same inputs (exporters/fingerprint.py) unless `force`."""
    return rebuild(config_path, site_dir, cache, builder, force)[0]


def rebuild(config_path: Path, site_dir: Path = Path("site"), cache: Path | None = None,
            builder: str = "mkdocs", force: bool = False) -> tuple[Path, dict, bool]:
    """build, returning (site, the inputs fingerprint, whether anything was built)."""
    from exporters.config import load_config
    from exporters.fingerprint import fingerprint
    from exporters.world import World

    cfg = load_config(config_path)
    inputs = fingerprint(cfg, builder)
    root = Path(cache) if cache else _cache_root()
    site, built = _build_world(World(cfg, work_dir=root), site_dir, root, builder, inputs, force)
    return site, inputs, built
