"""Helpers for the browser tests: a static server for a built site (under a sub-path, like GitHub
Pages) and a headless Debian Chromium driven by Playwright. No browser is ever downloaded."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SUBPATH = "/project-sub/path/"


def have_browser() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def translate_path(self, path: str) -> str:
        # only the sub-path is served, like a project page on GitHub Pages
        if not path.startswith(SUBPATH):
            return str(Path(self.directory) / "__outside_subpath__")
        return super().translate_path("/" + path[len(SUBPATH):])


@contextmanager
def serve(site_dir: Path, port: int = 0):
    """Serve `site_dir` at http://127.0.0.1:<port>/project-sub/path/ in a thread (a free port by
    default; a given one for a site built with that address as its site_url)."""
    handler = functools.partial(_Handler, directory=str(site_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}{SUBPATH}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


class PageWatch:
    """A page that records console errors, page errors, failed requests and bytes received."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.responses: list[tuple[str, int]] = []
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"requestfailed: {r.url}"))
        page.on("response", self._resp)

    def _resp(self, r) -> None:
        if r.status >= 400:
            self.errors.append(f"HTTP {r.status}: {r.url}")
        try:
            body = r.body()
            self.responses.append((r.url, len(body)))
        except Exception:  # noqa: BLE001 - redirects and aborted requests have no body
            self.responses.append((r.url, 0))

    def wait_figures(self, timeout: float = 60000) -> None:
        """Scroll through the page so every lazy figure mounts, then wait until all are ready."""
        # one synchronous step at a time from here: an in-page async loop on setTimeout once never returned
        h = self.page.evaluate("() => document.body.scrollHeight")
        for y in range(0, h, 400):
            self.page.evaluate("y => window.scrollTo(0, y)", y)
            self.page.wait_for_timeout(60)
        # figures grow as they mount, so the page gets longer than it was when the scroll began:
        # keep bringing the first figure that has not mounted into view until none is left
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(
                """() => { const waiting = [...document.querySelectorAll('figure[data-figure]')]
                       .filter(f => !['ready', 'error'].includes(f.dataset.mounted));
                   if (waiting.length && !waiting[0].dataset.mounted) waiting[0].scrollIntoView({block: 'center'});
                   return waiting.length === 0; }""",
                timeout=timeout, polling=250)
        except PlaywrightTimeout:
            # name the page and the figures that never became ready, so a failure says where to look
            waiting = self.page.eval_on_selector_all(
                "figure[data-figure]",
                "fs => fs.filter(f => f.dataset.mounted !== 'ready').map(f => f.id + '=' + (f.dataset.mounted || 'unmounted'))")
            raise AssertionError(f"{self.page.url}: figures not ready after {timeout / 1000:.0f} s: {waiting}; "
                                 f"errors: {self.errors[:5]}") from None


def axe_violations(page, options: dict | None = None, context: str | None = None) -> list[str]:
    """Run axe-core (vendored by axe-playwright-python, offline) on the page as it is now, or only inside
    the element `context` (a CSS selector: one figure); one line per failing element:
    'rule (impact) target: message'. Scroll first (PageWatch.wait_figures) so every figure has mounted."""
    from axe_playwright_python.sync_playwright import Axe

    res = Axe().run(page, context=context, options={"resultTypes": ["violations"], **(options or {})}).response
    out = []
    for v in res["violations"]:
        for n in v["nodes"]:
            msgs = [c["message"] for c in n.get("any", []) + n.get("all", []) + n.get("none", [])]
            out.append(f"{v['id']} ({v['impact']}) {' '.join(map(str, n['target']))}: {'; '.join(msgs)[:300]}")
    return out


# ---- a small synthetic build: hostile captions, three modalities, molecules, augmentations ------
HOSTILE = [
    "<script>alert(1)</script> a dog on a sofa",
    "<img src=x onerror=alert(1)> a red square",
    "\"double\" & 'single' quotes & ampersands",
    "naïve café — 日本語のキャプション 🐕 dog",
    "**not bold** _not italic_ `not code` <b>not bold</b>",
    "a hot dog with mustard &amp; &lt;entity&gt;",
]
WORDS = ["dog", "cat", "car", "tree", "boat", "house", "bird", "horse"]


def _unit(a):
    import numpy as np

    return a / np.linalg.norm(a, axis=1, keepdims=True)


def _write_folder(root: Path, name: str, texts: list[str], models: dict[str, list], audio: bool = False) -> Path:
    """A folder in the reference layout: prompts.txt, images/<i>.jpg, similarities/<model>.csv."""
    import wave

    import numpy as np
    from PIL import Image

    d = root / name
    (d / "images").mkdir(parents=True)
    (d / "similarities").mkdir()
    (d / "prompts.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    for i in range(len(texts)):
        hue = (37 * i) % 256
        Image.new("RGB", (48, 48), (hue, 255 - hue, (i * 91) % 256)).save(d / "images" / f"{i}.jpg", quality=80)
    if audio:
        (d / "audios").mkdir()
        for i in range(len(texts)):
            with wave.open(str(d / "audios" / f"{i}.wav"), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                t = np.arange(800) / 8000
                w.writeframes((3000 * np.sin(2 * np.pi * (220 + 20 * i) * t)).astype("<i2").tobytes())
    for model, blocks in models.items():
        e = np.vstack(blocks)
        s = e @ e.T
        s = (s + s.T) / 2
        np.fill_diagonal(s, 1.0)
        np.savetxt(d / "similarities" / f"{model}.csv", s, delimiter=",", fmt="%.17g")
    return d


def _embeddings(n: int, mods: int, gap: float, seed: int, dim: int = 16):
    import numpy as np

    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, dim))
    out = []
    for m in range(mods):
        offset = np.zeros(dim)
        offset[m] = gap
        out.append(_unit(base + 0.6 * rng.normal(size=(n, dim)) + offset * 3))
    return out


def write_synthetic(root: Path) -> Path:
    """Write the synthetic datasets and a configuration; return the configuration path."""
    n = 24
    texts = [HOSTILE[i] if i < len(HOSTILE) else f"a {WORDS[i % len(WORDS)]} number {i}" for i in range(n)]
    _write_folder(root, "main", texts, {"ModelA": _embeddings(n, 2, 1.0, 1), "ModelB": _embeddings(n, 2, 0.2, 2)})
    aug_texts = ["the same caption <i>for</i> every version"] * 12
    _write_folder(root, "aug_rot", aug_texts, {"ModelA": _embeddings(12, 2, 1.0, 3), "ModelB": _embeddings(12, 2, 0.2, 4)})
    _write_folder(root, "aug_noise", aug_texts, {"ModelA": _embeddings(12, 2, 1.0, 5), "ModelB": _embeddings(12, 2, 0.2, 6)})
    tri = [f"{WORDS[i % 4]} sound <u>{i}</u>" for i in range(12)]
    _write_folder(root, "triplet", tri, {"ModelA": _embeddings(12, 3, 1.0, 7)}, audio=True)
    smiles = ["CCO", "c1ccccc1", "CC(=O)O", "C1CCCCC1", "CCN(CC)CC", "O=C=O", "CC(C)O", "c1ccncc1", "CCCl", "C#N"]
    _write_folder(root, "CLOOM_mols", smiles, {"ModelA": _embeddings(10, 2, 0.5, 8)})
    cfg = root / "synthetic.toml"
    cfg.write_text("""
title = "Synthetic test article <script>alert('title')</script>"
[options]
projections = ["PCA", "TSNE"]
[datasets.main]
source = "reference"
path = "main"
[datasets.aug_rot]
source = "reference"
path = "aug_rot"
[datasets.aug_noise]
source = "reference"
path = "aug_noise"
[datasets.triplet]
source = "reference"
path = "triplet"
[datasets.mols]
source = "reference"
path = "CLOOM_mols"
[models.ModelA]
source = "reference"
label = "Model A <b>&</b>"
logit_scale = 50
[models.ModelB]
source = "reference"
label = "Model B"
logit_scale = 30
[sections.main]
dataset = "main"
models = ["ModelA", "ModelB"]
[sections.subset]
dataset = "main"
substring = "dog"
models = ["ModelA", "ModelB"]
[sections.augmentations]
datasets = { rotation = "aug_rot", noise = "aug_noise" }
models = ["ModelA", "ModelB"]
[sections.triplet]
dataset = "triplet"
models = ["ModelA"]
[sections.molecules]
dataset = "mols"
models = ["ModelA"]
""", encoding="utf-8")
    return cfg


_BUILT: dict[str, Path] = {}


def synthetic_site(tmp_root: Path) -> tuple[Path, Path]:
    """(config path, built site dir) of the synthetic article, built once per test session."""
    if "site" not in _BUILT:
        from exporters.site import build

        cfg = write_synthetic(tmp_root / "data")
        _BUILT["cfg"] = cfg
        _BUILT["site"] = build(cfg, tmp_root / "site")
    return _BUILT["cfg"], _BUILT["site"]


def _nav_pages() -> list[str]:
    """Every page of the article in the order of mkdocs.yml's nav, as URL paths ("" for index.md)."""
    text = (Path(__file__).resolve().parent.parent / "mkdocs.yml").read_text(encoding="utf-8")
    nav = re.split(r"\n\S", text.split("\nnav:\n", 1)[1], maxsplit=1)[0] if "\nnav:\n" in text else ""
    names = re.findall(r"^\s+- [^:\n]+: (\S+)\.md$", nav, re.M)
    return ["" if n == "index" else f"{n}/" for n in names]


PAGES = _nav_pages()   # the tests that visit every page read them here, so a new page is visited too


REFERENCE_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "reference.toml"
REFERENCE_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "amumo-article"


# -- the smallest build: one reference model on 8 pairs (fault battery, rebuild tests) ---------------
TINY = """
title = "Tiny"
[options]
projections = ["PCA"]
[datasets.main]
source = "reference"
path = "main"
[models.A]
source = "reference"
logit_scale = 30
[sections.main]
dataset = "main"
models = ["A"]
"""


def tiny(root: Path, text: str = TINY, n: int = 8) -> Path:
    """An 8-pair reference dataset and a one-model configuration in `root`; returns the config path."""
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "main").exists():
        _write_folder(root, "main", [f"a thing number {i}" for i in range(n)], {"A": _embeddings(n, 2, 1.0, 1)})
    cfg = root / "tiny.toml"
    cfg.write_text(text)
    return cfg
