"""What a reader downloads: a built site served over localhost, every page loaded once in headless
Chromium (Playwright), bytes raw and gzipped and request counts, each as a ratio to a baseline
measured in the same run.

    python benchmarks/site_bytes.py [--site site] [--baseline OTHER_SITE] [--seed DIR] [--out F.json]

The server gzips text (html, css, js, json, svg, xml; level 6) for a client that accepts it and sends
`Cache-Control: max-age=600`, as GitHub Pages does; images, audio and the exporter's gzipped `.bin`
matrices go as they are. "raw" is the files' size, "gzip" what went over the wire.
- first view: the first page in a fresh browser (empty cache), no scrolling, until the network is
  idle: requests, bytes and the load event;
- whole article: one browser (one HTTP cache) reads every page once, scrolled so every figure
  mounts; no hovering (items fetched on hover are not counted);
- plotly: the shipped bundle against the full plotly.min.js of the Python plotly package, if installed;
- similarity: every matrix file the pages fetched, bytes per cell of the full matrices against the
  base64-of-the-full-matrix JSON the article shipped before issue 11 (recomputed from the same codes).

Baselines in the same run: `--baseline` (e.g. a build of the article before issue 11) and `--seed`
(the seed article's pages; searched under ../shared/reference/amumo-article by default, which holds
the seed's exported data only, so the result says it was not found).
"""

from __future__ import annotations

import argparse
import base64
import functools
import gzip
import http.server
import json
import mimetypes
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SUBPATH = "/article/"
GZIP_LEVEL = 6
TEXT = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".map", ".md"}
TARGET_GZIP = 1_200_000           # issue 11: the whole article, gzipped
SEED_DEFAULT = ROOT.parent / "shared" / "reference" / "amumo-article"


class _Log:
    """Requests the server answered: (path, file bytes, bytes sent)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[tuple[str, int, int]] = []

    def mark(self) -> int:
        with self.lock:
            return len(self.rows)

    def since(self, k: int) -> list[tuple[str, int, int]]:
        with self.lock:
            return list(self.rows[k:])


class _Handler(http.server.BaseHTTPRequestHandler):
    def __init__(self, *a, root: Path, log: _Log, **kw):
        self.root, self.log = root, log
        super().__init__(*a, **kw)

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if not path.startswith(SUBPATH):
            return self.send_error(404)
        rel = path[len(SUBPATH):]
        f = (self.root / rel).resolve()
        if f.is_dir():
            if not path.endswith("/"):
                self.send_response(301)
                self.send_header("Location", path + "/")
                self.end_headers()
                return None
            f = f / "index.html"
        if not f.is_file() or not f.is_relative_to(self.root.resolve()):
            return self.send_error(404)
        data = f.read_bytes()
        body, enc = data, None
        if f.suffix.lower() in TEXT and "gzip" in self.headers.get("Accept-Encoding", ""):
            body, enc = gzip.compress(data, GZIP_LEVEL, mtime=0), "gzip"
        self.send_response(200)
        self.send_header("Content-Type", mimetypes.guess_type(f.name)[0] or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        if enc:
            self.send_header("Content-Encoding", enc)
        self.end_headers()
        with self.log.lock:             # before the body: a client that has it finds it logged
            self.log.rows.append((rel, len(data), len(body)))
        self.wfile.write(body)
        return None


@contextmanager
def serve(root: Path):
    """Serve `root` at http://127.0.0.1:<port>/article/ with gzip; yield (base URL, request log)."""
    log = _Log()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, root=root, log=log))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}{SUBPATH}", log
    finally:
        httpd.shutdown()
        httpd.server_close()


def scroll_through(page, step: int = 400, pause_ms: int = 40) -> None:
    """Scroll the page top to bottom so lazy figures mount. Driven from here, one synchronous step at a
    time: an in-page async loop on setTimeout once never returned (Page.evaluate waited 15 minutes)."""
    h = page.evaluate("() => document.body.scrollHeight")
    for y in range(0, h, step):
        page.evaluate("y => window.scrollTo(0, y)", y)
        page.wait_for_timeout(pause_ms)


ALL_MOUNTED = """() => { const waiting = [...document.querySelectorAll('figure[data-figure]')]
    .filter(f => !['ready', 'error'].includes(f.dataset.mounted));
  if (waiting.length && !waiting[0].dataset.mounted) waiting[0].scrollIntoView({block: 'center'});
  return waiting.length === 0; }"""


def _pages(site: Path) -> list[str]:
    """Every page of a site, the home page first: ours from data/manifest.json, any other from its
    index.html files."""
    manifest = site / "data" / "manifest.json"
    if manifest.is_file():
        stems = [p.removesuffix(".md") for p in json.loads(manifest.read_text())["pages"]]
        return [""] + [f"{s}/" for s in stems if s != "index"]
    found = sorted(str(p.parent.relative_to(site)) for p in site.rglob("index.html"))
    return [""] + [f"{p}/" for p in found if p != "."]


def _sum(rows: list[tuple[str, int, int]]) -> dict:
    return {"requests": len(rows), "bytes_raw": sum(r[1] for r in rows), "bytes_gzip": sum(r[2] for r in rows)}


def _kind(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    if name.startswith("plotly") and name.endswith(".js"):
        return "plotly"
    if rel.endswith(".bin") and rel.startswith("data/large/") and "/tiles/" not in rel:
        return "figure data"     # the large page's scatter coordinates (FigureContext.write_points)
    if rel.endswith(".bin"):
        return "matrices"
    if rel.startswith("data/") and rel.endswith(".json"):
        return "figure data"
    if rel.endswith((".html", "/")) or rel == "":
        return "pages"
    if rel.startswith("assets/") and rel.endswith((".js", ".css")):
        return "scripts and styles"
    return "other (images, fonts, icons)"


def measure_site(site: Path, chromium=None) -> dict:
    """First view and whole article of one built site (see the module docstring)."""
    from playwright.sync_api import sync_playwright

    site = Path(site).resolve()
    if not (site / "index.html").is_file():
        raise SystemExit(f"{site}: no index.html; build the site first (make site)")
    pages = _pages(site)
    with serve(site) as (base, log), sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = b.new_context(viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            k = log.mark()
            t0 = time.perf_counter()
            page.goto(base, wait_until="load")
            load_s = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd / 1000")
            page.wait_for_load_state("networkidle")
            first = {"page": base, **_sum(log.since(k)), "load_event_s": round(load_s, 3),
                     "network_idle_s": round(time.perf_counter() - t0, 3)}
            ctx.close()
            ctx = b.new_context(viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            k = log.mark()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            per_page = {}
            for path in pages:
                k0 = log.mark()
                page.goto(base + path, wait_until="load")
                scroll_through(page)
                page.wait_for_function(ALL_MOUNTED, timeout=180_000, polling=250)
                page.wait_for_load_state("networkidle")
                per_page[path or "/"] = _sum(log.since(k0))
            rows = log.since(k)
            ctx.close()
        finally:
            b.close()
    kinds: dict[str, dict] = {}
    for r in rows:
        kinds.setdefault(_kind(r[0]), []).append(r)
    whole = {"pages": len(pages), **_sum(rows), "by_kind": {k: _sum(v) for k, v in sorted(kinds.items())},
             "per_page": per_page, "page_errors": errors}
    return {"site": str(site), "first_view": first, "whole_article": whole,
            "similarity": _similarity(site, [r[0] for r in rows]), "_rows": rows}


def _similarity(site: Path, fetched: list[str]) -> dict | None:
    """Bytes per cell of every matrix file fetched, against base64 of the full matrix gzipped (the
    encoding before issue 11, rebuilt from the same uint8 codes), and the largest stated error."""
    from exporters.figures._encoding import dequantize

    metas: dict[str, dict] = {}

    def walk(v):
        if isinstance(v, dict):
            if isinstance(v.get("src"), str) and v["src"].endswith(".bin") and str(v.get("encoding")).startswith("u8"):
                metas[v["src"]] = v
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for rel in fetched:
        if rel.startswith("data/") and rel.endswith(".json"):
            walk(json.loads((site / rel).read_text(encoding="utf-8")))
    got = [metas[r] for r in dict.fromkeys(fetched) if r in metas]
    if not got:
        return None
    cells = wire = before = 0
    err = 0.0
    for m in got:
        values = dequantize(m, site)
        full = np.rint((values - m["offset"]) / m["scale"]).astype(np.uint8).tobytes()   # the same codes
        old = json.dumps({"b64": base64.b64encode(full).decode()}, separators=(",", ":")).encode()
        cells += values.size
        wire += (site / m["src"]).stat().st_size
        before += len(gzip.compress(old, GZIP_LEVEL, mtime=0))
        err = max(err, m["max_abs_error"])
    return {"files": len(got), "cells": cells, "bytes": wire, "bytes_per_cell": round(wire / cells, 4),
            "before_bytes_per_cell": round(before / cells, 4), "ratio": round(wire / before, 3),
            "max_abs_error": err}


def _plotly(site: Path) -> dict:
    """The shipped bundle against the Python package's full plotly.min.js, both gzipped here."""
    (shipped,) = (site / "assets").glob("plotly*.js")
    out = {"file": shipped.name, "bytes_raw": shipped.stat().st_size,
           "bytes_gzip": len(gzip.compress(shipped.read_bytes(), GZIP_LEVEL, mtime=0))}
    try:
        import plotly

        full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        data = full.read_bytes()
        out.update(full_bytes_raw=len(data), full_bytes_gzip=len(gzip.compress(data, GZIP_LEVEL, mtime=0)))
        out["ratio_gzip"] = round(out["bytes_gzip"] / out["full_bytes_gzip"], 3)
    except (ImportError, OSError):
        out["full"] = "the plotly Python package is not installed: no full bundle to compare with"
    return out


def _seed_site(seed: Path) -> Path | None:
    """A built seed article (an index.html) under `seed`, if there is one."""
    if (seed / "index.html").is_file():
        return seed
    hits = sorted(seed.glob("*/index.html")) if seed.is_dir() else []
    return hits[0].parent if hits else None


def measure(site: Path | None = None, baseline: Path | None = None, seed: Path | None = None) -> dict:
    """Issue 11's byte figures for `site` (default: the published site/), with ratios to `baseline`
    (another build, e.g. before issue 11) and to the seed article's pages where they exist."""
    site = Path(site or ROOT / "site")
    res = measure_site(site)
    res.pop("_rows")
    res["plotly"] = _plotly(site)
    res["gzip_level"] = GZIP_LEVEL
    w = res["whole_article"]
    res["target"] = {"whole_article_gzip_max": TARGET_GZIP, "met": w["bytes_gzip"] <= TARGET_GZIP,
                     "similarity_bytes_per_cell_max": 0.5,
                     "similarity_met": bool(res["similarity"]) and res["similarity"]["bytes_per_cell"] <= 0.5}
    others = {}
    if baseline:
        others["baseline"] = measure_site(Path(baseline))
    seed_dir = Path(seed or SEED_DEFAULT)
    seed_site = _seed_site(seed_dir)
    if seed_site:
        others["seed"] = measure_site(seed_site)
    else:
        res["seed"] = {"found": False, "searched": str(seed_dir),
                       "note": "no built seed article there (it holds the seed's exported data only)"}
    for name, o in others.items():
        o.pop("_rows")
        res[name] = o
        res[f"ratio_to_{name}"] = {
            "whole_gzip": round(w["bytes_gzip"] / o["whole_article"]["bytes_gzip"], 3),
            "whole_raw": round(w["bytes_raw"] / o["whole_article"]["bytes_raw"], 3),
            "first_view_gzip": round(res["first_view"]["bytes_gzip"] / o["first_view"]["bytes_gzip"], 3),
            "first_view_requests": round(res["first_view"]["requests"] / o["first_view"]["requests"], 3)}
    return res


def _mb(v: int) -> str:
    return f"{v / 1e6:.2f} MB"


def report(res: dict) -> None:
    fv, w = res["first_view"], res["whole_article"]
    print(f"site {res['site']} (gzip level {res['gzip_level']})")
    print(f"first view    {_mb(fv['bytes_gzip'])} gzip / {_mb(fv['bytes_raw'])} raw in {fv['requests']} requests, "
          f"load event {fv['load_event_s']:.2f} s")
    print(f"whole article {_mb(w['bytes_gzip'])} gzip / {_mb(w['bytes_raw'])} raw in {w['requests']} requests over "
          f"{w['pages']} pages; target {_mb(res['target']['whole_article_gzip_max'])}: "
          f"{'met' if res['target']['met'] else 'NOT met'} ({w['bytes_gzip'] / res['target']['whole_article_gzip_max']:.2f})")
    for k, v in w["by_kind"].items():
        print(f"    {k:28s} {_mb(v['bytes_gzip'])} gzip in {v['requests']} requests")
    pl = res["plotly"]
    if "ratio_gzip" in pl:
        print(f"plotly        {pl['file']} {_mb(pl['bytes_gzip'])} gzip against the full bundle "
              f"{_mb(pl['full_bytes_gzip'])}: ratio {pl['ratio_gzip']:.3f}")
    s = res["similarity"]
    if s:
        print(f"similarity    {s['bytes_per_cell']:.3f} B/cell on the wire over {s['files']} matrices ({s['cells']} cells) "
              f"against {s['before_bytes_per_cell']:.3f} before: ratio {s['ratio']:.3f}; max error {s['max_abs_error']}")
    for name in ("baseline", "seed"):
        if f"ratio_to_{name}" in res:
            o, r = res[name], res[f"ratio_to_{name}"]
            print(f"{name:13s} whole {_mb(o['whole_article']['bytes_gzip'])} gzip / {_mb(o['whole_article']['bytes_raw'])} raw, "
                  f"first view {_mb(o['first_view']['bytes_gzip'])} in {o['first_view']['requests']} requests, "
                  f"load {o['first_view']['load_event_s']:.2f} s; ratios whole gzip {r['whole_gzip']:.3f}, raw "
                  f"{r['whole_raw']:.3f}, first view {r['first_view_gzip']:.3f}")
    if "seed" in res and not res["seed"].get("whole_article"):
        print(f"seed          not measured: {res['seed']['note']} ({res['seed']['searched']})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", type=Path, default=ROOT / "site")
    ap.add_argument("--baseline", type=Path, default=None, help="another build to compare with (same run)")
    ap.add_argument("--seed", type=Path, default=None, help="folder with the seed article's built pages")
    ap.add_argument("--out", type=Path, default=None, help="also write the result as JSON")
    a = ap.parse_args(argv)
    res = measure(a.site, a.baseline, a.seed)
    report(res)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
