"""Fault battery of issue 9 ("Nothing silent, nothing lost").

Every case feeds the real program a fault and classifies what it did:
  good   - a bad input gives exit 2 and one `error:` line naming the item (or a good input works);
  poor   - it refused, but with a muddled message (several lines, the item or the fix not named);
  silent - exit 0 with a wrong or destroyed result;
  crash  - a traceback or another exit code.
Each test asserts `good`; the table of all verdicts is written to tests/artifacts/fault-table.md.

Builds run `python -m exporters` in a subprocess on an 8-pair reference dataset (about 5 s each), so
the module is marked `build` (not in `make check`'s fast lane).
"""

from __future__ import annotations

import collections
import fcntl
import functools
import http.server
import io
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from browser_support import TINY, _embeddings, _write_folder, tiny
from conftest import ROOT
from exporters.errors import UserError

pytestmark = pytest.mark.build

# -- verdicts -----------------------------------------------------------------------------------------
VERDICTS: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
CLASSES = ["1 data loss (--site)", "2 weights key", "3 atomic swap / lock", "4 image modes",
           "5 traceback vs sentence", "6 wrong fix", "7 cache / dtype"]


def record(cls: int, verdict: str) -> str:
    VERDICTS[CLASSES[cls - 1]][verdict] += 1
    return verdict


@pytest.fixture(scope="module", autouse=True)
def _fault_table():
    yield
    rows = ["| fault class | tried | good | poor | silent | crash |", "|---|---|---|---|---|---|"]
    for c in CLASSES:
        v = VERDICTS.get(c, collections.Counter())
        rows.append(f"| {c} | {sum(v.values())} | {v['good']} | {v['poor']} | {v['silent']} | {v['crash']} |")
    table = "\n".join(rows) + "\n"
    out = ROOT / "tests" / "artifacts"
    out.mkdir(exist_ok=True)
    (out / "fault-table.md").write_text(table)
    print("\n" + table)


def cli(*args: str, cwd: Path = ROOT, env: dict | None = None, user: bool = False,
        timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m exporters ARGS`; `user=True` runs it as an unprivileged user when we are root."""
    e = dict(os.environ, EXPORTERS_PROGRESS="0", PYTHONDONTWRITEBYTECODE="1", **(env or {}))
    e.pop("COVERAGE_PROCESS_START", None)
    return subprocess.run([sys.executable, "-m", "exporters", *args], cwd=cwd, env=e, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=_demote if user and os.geteuid() == 0 else None)


def _demote() -> None:  # pragma: no cover - runs in the child
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def verdict(p: subprocess.CompletedProcess, *, error: bool, names: tuple[str, ...] = (),
            check=lambda: True) -> str:
    err = p.stderr.strip()
    if "Traceback" in err or p.returncode not in (0, 2):
        return "crash"
    if error:
        if p.returncode == 0:
            return "silent"
        lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("warning:")]
        one = len(lines) == 1 and lines[0].startswith("error: ") and all(n in lines[0] for n in names)
        return "good" if one else "poor"
    if p.returncode != 0:
        return "poor"
    return "good" if check() else "silent"


def expect(cls: int, v: str, p: subprocess.CompletedProcess | None = None) -> None:
    record(cls, v)
    assert v == "good", f"verdict {v}" + (f": rc={p.returncode}\n{p.stderr[-3000:]}" if p is not None else "")


# -- the smallest build ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world_tmp():
    """A world-readable scratch folder (pytest's own are 0700: an unprivileged child cannot enter)."""
    d = Path(tempfile.mkdtemp(prefix="faults-"))
    d.chmod(0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


MARKER = ".clip-article-site.json"


def site_id(site: Path) -> str | None:
    """The build id of a complete site at `site` (the name of the build folder its link points at; the
    marker holds no id, so that the same inputs give byte-identical sites), or None when it is not one."""
    try:
        json.loads((site / MARKER).read_text())
        if (site / "index.html").is_file() and (site / "data" / "manifest.json").is_file():
            return Path(os.readlink(site)).name
    except (OSError, ValueError):
        return None
    return None


# == 1. data loss: `build --site` only replaces what it wrote ======================================
def test_site_over_a_regular_file_is_refused(tmp_path):
    cfg = tiny(tmp_path / "d")
    target = tmp_path / "thesis.txt"
    target.write_text("three years of work")
    p = cli("build", "--config", str(cfg), "--site", str(target))
    v = verdict(p, error=True, names=(str(target),))
    if target.read_text() != "three years of work" and v == "good":
        v = "silent"
    expect(1, v, p)


def test_site_over_a_folder_of_user_files_is_refused(tmp_path):
    cfg = tiny(tmp_path / "d")
    target = tmp_path / "book"
    (target / "sub").mkdir(parents=True)
    (target / "notes.txt").write_text("notes")
    (target / "sub" / "chapter1.tex").write_text("\\chapter{One}")
    p = cli("build", "--config", str(cfg), "--site", str(target))
    v = verdict(p, error=True, names=(str(target), MARKER))
    if not ((target / "notes.txt").is_file() and (target / "sub" / "chapter1.tex").is_file()):
        v = "silent"
    expect(1, v, p)


def test_site_symlink_to_a_user_folder_is_refused(tmp_path):
    cfg = tiny(tmp_path / "d")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("notes")
    (tmp_path / "site").symlink_to(mine)
    p = cli("build", "--config", str(cfg), "--site", str(tmp_path / "site"))
    v = verdict(p, error=True, names=(str(tmp_path / "site"),))
    if not (mine / "notes.txt").is_file() or os.readlink(tmp_path / "site") != str(mine):
        v = "silent"
    expect(1, v, p)


def test_site_new_empty_own_and_older_build_are_replaced(tmp_path):
    cfg = tiny(tmp_path / "d")
    # nonexistent, then its own build again
    site = tmp_path / "out" / "site"
    p = cli("build", "--config", str(cfg), "--site", str(site))
    first = site_id(site)
    expect(1, verdict(p, error=False, check=lambda: first is not None), p)
    p = cli("build", "--config", str(cfg), "--site", str(site), "--force")   # unchanged inputs: forced
    expect(1, verdict(p, error=False, check=lambda: site_id(site) not in (None, first)), p)
    # an empty folder
    empty = tmp_path / "empty"
    empty.mkdir()
    p = cli("build", "--config", str(cfg), "--site", str(empty))
    expect(1, verdict(p, error=False, check=lambda: site_id(empty) is not None), p)
    # a real folder written by an older version of `build` (no marker, no symlink): migrated once
    older = tmp_path / "older"
    shutil.copytree(site, older)
    (older / MARKER).unlink()
    p = cli("build", "--config", str(cfg), "--site", str(older))
    expect(1, verdict(p, error=False, check=lambda: older.is_symlink() and site_id(older) is not None), p)


# == 2. a misspelt or missing weights key is not a random model ====================================
OC = TINY.replace('[models.A]\nsource = "reference"\nlogit_scale = 30',
                  '[models.A]\nsource = "open_clip"\narch = "ShapesViT-T-32"\n{weights}')


@pytest.mark.parametrize("weights, names", [
    ('chekpoint = "../models/clip.safetensors"', ("chekpoint", "checkpoint")),
    ('pretrain = "openai"', ("pretrain", "pretrained")),
    ("", ("[models.A]", "random_init")),
    ('random_init = "yes"', ("random_init", "true")),
    ('random_init = true\ncheckpoint = "x.safetensors"', ("random_init", "checkpoint")),
])
def test_open_clip_weights_must_be_named(tmp_path, weights, names):
    cfg = tiny(tmp_path / "d", OC.format(weights=weights))
    p = cli("inspect", "--config", str(cfg))
    expect(2, verdict(p, error=True, names=names), p)


def test_random_init_is_asked_for_by_name(tmp_path):
    cfg = tiny(tmp_path / "d", OC.format(weights="random_init = true"))
    p = cli("inspect", "--config", str(cfg), "--json")
    expect(2, verdict(p, error=False, check=lambda: "A" in json.loads(p.stdout)["models"]), p)


def test_shipped_configs_name_their_weights():
    from exporters.config import load_config

    for cfg in sorted((ROOT / "configs").glob("*.toml")):
        for m in load_config(cfg).models.values():
            if m.source == "open_clip":
                assert {"pretrained", "checkpoint", "random_init"} & set(m.options), (cfg.name, m.id)


# == 3. the published folder is the old site or the new one at every instant ========================
def test_killed_builds_never_leave_a_broken_site(tmp_path):
    cfg = tiny(tmp_path / "d")
    site = tmp_path / "site"
    t0 = time.monotonic()
    p = cli("build", "--config", str(cfg), "--site", str(site))
    duration = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    seen: list[str | None] = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            seen.append(site_id(site))

    w = threading.Thread(target=watch, daemon=True)
    w.start()
    rng = random.Random(9)
    ids = {site_id(site)}
    killed = 0
    env = dict(os.environ, EXPORTERS_PROGRESS="0")
    try:
        for _ in range(6):
            child = subprocess.Popen([sys.executable, "-m", "exporters", "build", "--config", str(cfg), "--site",
                                      str(site), "--force"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            try:
                child.wait(rng.uniform(0.3, 1.05) * duration)
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGKILL)
                killed += 1
            child.wait()
            now = site_id(site)
            assert now is not None
            ids.add(now)
    finally:
        stop.set()
        w.join()
    broken = sum(1 for s in seen if s is None)
    print(f"{killed} of 6 builds killed, {len(ids) - 1} published, {len(seen)} looks at the site, {broken} broken")
    v = "good" if broken == 0 and seen else "silent"
    # the next build cleans up what killed builds left
    p = cli("build", "--config", str(cfg), "--site", str(site))
    builds = tmp_path / ".site-builds"
    left = sorted(x.name for x in builds.iterdir()) if builds.is_dir() else []
    if p.returncode != 0 or len([x for x in left if x != "lock"]) != 1 or list(tmp_path.glob(".build-*")):
        v = "poor" if v == "good" else v
    expect(3, v, p)


def test_a_second_concurrent_build_is_refused(tmp_path):
    cfg = tiny(tmp_path / "d")
    site = tmp_path / "site"
    assert cli("build", "--config", str(cfg), "--site", str(site)).returncode == 0
    before = site_id(site)
    lock = tmp_path / ".site-builds" / "lock"
    lock.parent.mkdir(exist_ok=True)
    with open(lock, "a+") as f:  # another process (this one) is building into the same folder
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        p = cli("build", "--config", str(cfg), "--site", str(site))
    v = verdict(p, error=True, names=(str(site), "another build"))
    if site_id(site) != before:
        v = "silent"
    expect(3, v, p)


def test_stale_staging_from_killed_builds_is_removed(tmp_path):
    cfg = tiny(tmp_path / "d")
    site = tmp_path / "site"
    assert cli("build", "--config", str(cfg), "--site", str(site)).returncode == 0
    stale = tmp_path / ".site-builds" / "staging-dead"
    (stale / "docs").mkdir(parents=True)
    old_style = tmp_path / ".build-k3j4h5g6"   # what the previous version's killed builds left
    (old_style / "docs").mkdir(parents=True)
    user = tmp_path / ".build-notes"           # not ours: kept
    user.mkdir()
    (user / "todo.txt").write_text("x")
    p = cli("build", "--config", str(cfg), "--site", str(site))
    v = verdict(p, error=False, check=lambda: not stale.exists() and not old_style.exists()
                and (user / "todo.txt").is_file())
    expect(3, v, p)


def test_static_server_follows_the_published_site(tmp_path):
    cfg = tiny(tmp_path / "d", TINY.replace('title = "Tiny"', 'title = "First build"'))
    site = tmp_path / "site"
    assert cli("build", "--config", str(cfg), "--site", str(site)).returncode == 0
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        first_id = site_id(site)
        first = urllib.request.urlopen(url + "index.html").read().decode()
        json.loads(urllib.request.urlopen(url + MARKER).read())
        tiny(tmp_path / "d", TINY.replace('title = "Tiny"', 'title = "Second build"'))
        assert cli("build", "--config", str(cfg), "--site", str(site)).returncode == 0
        second = urllib.request.urlopen(url + "index.html").read().decode()
    finally:
        httpd.shutdown()
        httpd.server_close()
    ok = "First build" in first and "Second build" in second and first_id != site_id(site) is not None
    expect(3, "good" if ok else "silent")


# == 4. images of every mode reach the model and the thumbnails with their content ==================
W, H = 64, 32


def two_tone(a, b, mode="RGB") -> np.ndarray:
    """(H, W[, c]) array: left half `a`, right half `b`."""
    shape = (H, W) if np.isscalar(a) else (H, W, len(a))
    arr = np.zeros(shape, np.float64)
    arr[:, : W // 2] = a
    arr[:, W // 2:] = b
    return arr


def png16(arr: np.ndarray) -> bytes:
    """A 16-bit PNG (gray or RGB) written by hand: Pillow cannot write 16-bit RGB."""
    h, w = arr.shape[:2]
    color = 0 if arr.ndim == 2 else 2
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def image_cases(d: Path) -> dict[str, tuple[Path, np.ndarray, int]]:
    """{case: (file, intended RGB content (H, W, 3), tolerance)} for every mode Pillow reads."""
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    gray = two_tone(60, 200)
    rgb8 = two_tone((200, 30, 90), (10, 140, 250))
    g3 = np.repeat(gray[..., None], 3, 2)
    # 16-bit gray PNG (Pillow: I;16)
    (d / "gray16.png").write_bytes(png16((gray * 257).astype(np.uint16)))
    out["16-bit gray PNG"] = (d / "gray16.png", g3, 0)
    # 16-bit RGB PNG
    (d / "rgb16.png").write_bytes(png16((rgb8 * 257).astype(np.uint16)))
    out["16-bit RGB PNG"] = (d / "rgb16.png", rgb8, 0)
    # 16-bit gray TIFF (I;16) and 32-bit int gray TIFF (mode I) holding 16-bit values
    Image.fromarray((gray * 257).astype(np.uint16)).save(d / "gray16.tif")
    out["16-bit gray TIFF"] = (d / "gray16.tif", g3, 0)
    Image.fromarray((gray * 257).astype(np.int32), "I").save(d / "int32.tif")
    out["mode I TIFF"] = (d / "int32.tif", g3, 0)
    # float TIFF (mode F), values in [0, 1]
    Image.fromarray((gray / 255.0).astype(np.float32), "F").save(d / "float.tif")
    out["float TIFF (F)"] = (d / "float.tif", g3, 0)
    # palette with a transparent entry: left transparent (black in the palette), right red
    pal = Image.new("P", (W, H))
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    pal.paste(1, (W // 2, 0, W, H))
    pal.save(d / "palette.png", transparency=0)
    out["palette + transparency"] = (d / "palette.png", two_tone((255, 255, 255), (255, 0, 0)), 0)
    # gray + alpha: left transparent black, right opaque gray 100
    la = np.zeros((H, W, 2), np.uint8)
    la[:, W // 2:] = (100, 255)
    Image.fromarray(la, "LA").save(d / "la.png")
    out["LA"] = (d / "la.png", two_tone((255, 255, 255), (100, 100, 100)), 0)
    # RGBA, half transparent on the left: 50 % blue over white
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[:, : W // 2] = (0, 0, 255, 128)
    rgba[:, W // 2:] = (0, 200, 0, 255)
    Image.fromarray(rgba, "RGBA").save(d / "rgba.png")
    half = round(255 * 127 / 255)
    out["RGBA"] = (d / "rgba.png", two_tone((half, half, 255), (0, 200, 0)), 1)
    # CMYK JPEG: red and 50 % black
    cmyk = Image.new("CMYK", (W, H), (0, 255, 255, 0))
    cmyk.paste((0, 0, 0, 128), (W // 2, 0, W, H))
    cmyk.save(d / "cmyk.jpg", quality=95)
    out["CMYK JPEG"] = (d / "cmyk.jpg", two_tone((255, 0, 0), (127, 127, 127)), 6)
    # EXIF orientation 6 (rotate 90 degrees clockwise to display): stored sideways
    up = Image.fromarray(rgb8.astype(np.uint8))
    stored = up.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(d / "exif6.jpg", quality=95, exif=exif)
    out["EXIF-rotated JPEG"] = (d / "exif6.jpg", rgb8, 6)
    # plain 8-bit ones, for the record
    Image.fromarray(gray.astype(np.uint8), "L").save(d / "gray8.png")
    out["8-bit gray PNG"] = (d / "gray8.png", g3, 0)
    Image.fromarray(gray.astype(np.uint8), "L").convert("1", dither=Image.Dither.NONE).save(d / "bilevel.png")
    out["1-bit PNG"] = (d / "bilevel.png", np.where(g3 > 127, 255, 0), 0)
    return out


def close(got: np.ndarray, want: np.ndarray, tol: int) -> bool:
    """Compare the two halves away from their border (JPEG rings there)."""
    if got.shape != want.shape:
        return False
    m = 4
    for sl in (np.s_[m:-m, m: W // 2 - m], np.s_[m:-m, W // 2 + m: -m]):
        if np.abs(got[sl].astype(int) - want[sl].astype(int)).max() > tol:
            return False
    return True


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return image_cases(tmp_path_factory.mktemp("modes"))


CASES = ["16-bit gray PNG", "16-bit RGB PNG", "16-bit gray TIFF", "mode I TIFF", "float TIFF (F)", "palette + transparency", "LA",
         "RGBA", "CMYK JPEG", "EXIF-rotated JPEG", "8-bit gray PNG", "1-bit PNG"]


@pytest.mark.parametrize("case", CASES)
def test_load_rgb_keeps_the_content(images, case):
    path, want, tol = images[case]
    try:
        from exporters.images import load_rgb

        im = load_rgb(path)
        v = "good" if im.mode == "RGB" and close(np.asarray(im), want, tol) else "silent"
    except ImportError:
        with Image.open(path) as im:  # what the exporters did before exporters.images existed
            v = "good" if close(np.asarray(im.convert("RGB")), want, tol) else "silent"
    expect(4, v)


@pytest.mark.parametrize("case", CASES)
def test_thumbnails_keep_the_content(images, case, tmp_path):
    from exporters.figures._context import FigureContext

    path, want, tol = images[case]
    ctx = FigureContext(None, tmp_path, tmp_path)
    rel = ctx.item_file(str(path), "image", "modes", 0)
    with Image.open(tmp_path / rel) as th:
        got = np.asarray(th.convert("RGB"))
    expect(4, "good" if close(got, want, tol + 8) else "silent")


def test_images_reach_the_model_with_their_content(images, tmp_path):
    """A tiny open_clip model sees each file exactly as its intended 8-bit RGB content."""
    from exporters.pairs import Modality, PairedDataset
    from exporters.sources.openclip import OpenClipSource

    files, refs = [], []
    for i, case in enumerate(CASES):
        path, want, tol = images[case]
        if path.suffix == ".jpg":  # lossy files: the reference is the file's own decoded pixels, upright
            with Image.open(path) as im:
                want = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
        ref = tmp_path / f"ref{i}.png"
        Image.fromarray(want.astype(np.uint8)).save(ref)
        files += [str(path), str(ref)]
    n = len(files)
    ds = PairedDataset("modes_v1", tuple(f"i{k}" for k in range(n)),
                       (Modality("image", "image", "Image", tuple(files)),
                        Modality("text", "text", "Text", ("a circle",) * n)))
    try:
        src = OpenClipSource("ShapesViT-T-32", random_init=True)
    except TypeError:
        src = OpenClipSource("ShapesViT-T-32")
    e = src.embed(ds, tmp_path / "cache").blocks["image"]
    for i, case in enumerate(CASES):
        expect(4, "good" if np.allclose(e[2 * i], e[2 * i + 1], atol=1e-6) else "silent")


def test_augmentation_series_starts_from_the_content(images, tmp_path):
    from exporters.datasets.augment import augmentation_dataset

    path, want, _ = images["16-bit gray PNG"]
    ds = augmentation_dataset(path, "a gray square", "rotation", tmp_path, steps=4)
    with Image.open(ds.modality("image").items[0]) as im:
        expect(4, "good" if close(np.asarray(im.convert("RGB")), want, 0) else "silent")


# == 5. a sentence where a traceback was ===========================================================
def test_site_and_out_under_a_regular_file(tmp_path):
    cfg = tiny(tmp_path / "d")
    f = tmp_path / "afile"
    f.write_text("x")
    p = cli("build", "--config", str(cfg), "--site", str(f / "site"))
    expect(5, verdict(p, error=True, names=(str(f),)), p)
    p = cli("export", "--config", str(cfg), "--out", str(f / "out"))
    expect(5, verdict(p, error=True, names=(str(f),)), p)


def run_readonly(args: list[str], ro: list[Path], env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m exporters ARGS` with the folders `ro` read-only: chmod for a normal user; for root
    (whom permissions do not stop) a read-only bind mount in a private mount namespace."""
    if os.geteuid() != 0:
        for d in ro:
            d.chmod(0o555)
        try:
            return cli(*args, env=env)
        finally:
            for d in ro:
                d.chmod(0o755)
    if not shutil.which("unshare"):
        pytest.skip("root without unshare(1): no way to make a folder read-only for this test")
    mounts = " && ".join(f"mount --bind '{d}' '{d}' && mount -o remount,bind,ro '{d}'" for d in ro)
    e = dict(os.environ, EXPORTERS_PROGRESS="0", PYTHONDONTWRITEBYTECODE="1", **(env or {}))
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", f'{mounts} && exec "$@"', "sh",
                        sys.executable, "-m", "exporters", *args], cwd=ROOT, env=e, capture_output=True, text=True)
    if p.stderr.startswith(("mount:", "unshare:")):
        pytest.skip(f"cannot make a read-only bind mount here: {p.stderr.strip()}")
    return p


def test_unwritable_site_folder(tmp_path):
    cfg = tiny(tmp_path / "d")
    locked = tmp_path / "locked"
    locked.mkdir()
    p = run_readonly(["build", "--config", str(cfg), "--site", str(locked / "site")], [locked])
    expect(5, verdict(p, error=True, names=(str(locked),)), p)
    # a place no user may write, root included
    p = cli("build", "--config", str(cfg), "--site", "/sys/clip-article-site")
    expect(5, verdict(p, error=True, names=("/sys",)), p)


def test_unwritable_cache_is_said_not_fatal(tmp_path):
    cfg = tiny(tmp_path / "d")
    cache = tmp_path / "cache"
    cache.mkdir()
    site = tmp_path / "site"
    p = run_readonly(["build", "--config", str(cfg), "--site", str(site), "--cache", str(cache)], [cache])
    v = verdict(p, error=False, check=lambda: site_id(site) is not None and "warning: cannot store" in p.stderr)
    expect(5, v, p)


class _Meddling:
    """A world whose export, half-way, lets someone put a folder of their own at the site path."""

    def __init__(self, world, site: Path, what: str):
        self._w, self._site, self._what = world, site, what

    def __getattr__(self, name):
        return getattr(self._w, name)

    def section(self, role):
        if self._what == "folder" and not (self._site / "mine.txt").exists():
            if self._site.is_symlink():
                self._site.unlink()
            self._site.mkdir(exist_ok=True)
            (self._site / "mine.txt").write_text("mine")
        elif self._what == "rename" and self._site.exists():
            self._site.rename(self._site.with_name("moved-away"))
        return self._w.section(role)


@pytest.mark.parametrize("what", ["folder", "rename"])
def test_site_changed_by_someone_else_during_the_build(tmp_path, what):
    from exporters.config import load_config
    from exporters.site import build_world
    from exporters.world import World

    cfg = tiny(tmp_path / "d")
    site = tmp_path / "site"
    assert cli("build", "--config", str(cfg), "--site", str(site)).returncode == 0
    world = _Meddling(World(load_config(cfg), tmp_path / "cache"), site, what)
    try:
        build_world(world, site, tmp_path / "cache")
        if what == "folder":
            v = "good" if (site / "mine.txt").is_file() else "silent"  # replaced the user's folder?
        else:
            v = "good" if site_id(site) else "silent"
    except UserError as exc:
        v = "good" if str(site) in str(exc) and "\n" not in str(exc) else "poor"
        if what == "folder" and not (site / "mine.txt").is_file():
            v = "silent"
    except Exception:  # noqa: BLE001
        v = "crash"
    expect(5, v)


def _cached(d: Path):
    from exporters.cache import cached_arrays

    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(4.0)}

    arrays, _ = cached_arrays({"what": "fault-test"}, compute, d)
    return arrays, calls


def test_cache_files_are_readable_by_others(tmp_path):
    d = tmp_path / "c"
    _cached(d)
    modes = {p.name: p.stat().st_mode & 0o777 for p in d.iterdir()}
    want = 0o666 & ~_umask()
    expect(5, "good" if modes and all(m == want for m in modes.values()) else "poor")


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_unreadable_cache_entry_is_said_and_recomputed(tmp_path, capfd):
    from exporters.cache import cache_key

    d = tmp_path / "c"
    d.mkdir()
    key = cache_key({"what": "fault-test"})
    (d / f"{key}.npz").write_bytes(b"PK\x03\x04 half a file")      # corrupt
    try:
        arrays, calls = _cached(d)
        err = capfd.readouterr().err
        v = "good" if calls and np.array_equal(arrays["x"], np.arange(4.0)) and "warning:" in err else "silent"
    except UserError as exc:
        v = "good" if str(d) in str(exc) else "poor"
    except Exception:  # noqa: BLE001
        v = "crash"
    expect(5, v)
    (d / f"{key}.npz").unlink()
    (d / f"{key}.npz").mkdir()                                      # unreadable for everyone, root included
    try:
        arrays, calls = _cached(d)
        err = capfd.readouterr().err
        v = "good" if calls and np.array_equal(arrays["x"], np.arange(4.0)) and "warning:" in err else "silent"
    except UserError as exc:
        v = "good" if str(d) in str(exc) else "poor"
    except Exception:  # noqa: BLE001
        v = "crash"
    expect(5, v)


def test_cache_entry_of_another_user(world_tmp):
    """An entry written 0600 by someone else: the unprivileged reader says so and recomputes."""
    d = world_tmp / "shared-cache"
    d.mkdir()
    d.chmod(0o777)
    code = ("import numpy as np\nfrom exporters.cache import cached_arrays\n"
            "a, hit = cached_arrays({'what': 'fault-test'}, lambda: {'x': np.arange(4.0)}, __import__('pathlib').Path(%r))\n"
            "print(hit, a['x'].tolist())\n" % str(d))
    env = dict(os.environ, HOME=str(d), PYTHONDONTWRITEBYTECODE="1")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)
    if os.geteuid() != 0:
        pytest.skip("needs root to write as one user and read as another")
    if not os.access(sys.executable, os.X_OK, effective_ids=False) or any(
            (q.stat().st_mode & 0o005) != 0o005 for q in Path(os.path.realpath(sys.executable)).parents
            if q != Path("/")):
        pytest.skip("the interpreter is not reachable for an unprivileged user (e.g. under /root)")
    for p in d.iterdir():
        p.chmod(0o600)
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                       preexec_fn=_demote)
    if "Traceback" in p.stderr:
        v = "crash"
    elif p.returncode == 0 and "[0.0, 1.0, 2.0, 3.0]" in p.stdout:
        v = "good" if "warning:" in p.stderr else "silent"
    else:
        v = "poor"
    expect(5, v, p)


@pytest.mark.parametrize("models, names", [
    ("[]", ("[sections.main]", "models")),
    ('"A"', ("[sections.main]", "list")),
    ("[1]", ("[sections.main]", "1")),
])
def test_section_models_must_be_a_list_of_ids(tmp_path, models, names):
    cfg = tiny(tmp_path / "d", TINY.replace('models = ["A"]', f"models = {models}"))
    p = cli("build", "--config", str(cfg), "--site", str(tmp_path / "site"))
    expect(5, verdict(p, error=True, names=names), p)


def test_augmentations_datasets_must_be_a_table(tmp_path):
    cfg = tiny(tmp_path / "d", TINY + '[sections.augmentations]\ndatasets = "main"\nmodels = ["A"]\n')
    p = cli("inspect", "--config", str(cfg))
    expect(5, verdict(p, error=True, names=("[sections.augmentations]", "datasets")), p)


# == 6. messages that give the right fix ===========================================================
def test_deleted_image_is_named(tmp_path):
    from exporters.datasets.folder import folder_dataset
    from _standins import write_images

    write_images(tmp_path / "imgs", ["a.png", "b.png", "c.png"])
    (tmp_path / "caps.csv").write_text("image,caption\na.png,x\nb.png,y\nc.png,z\n")
    (tmp_path / "imgs" / "b.png").unlink()
    try:
        folder_dataset(tmp_path / "imgs", tmp_path / "caps.csv")
        v = "silent"
    except UserError as exc:
        msg = str(exc)
        v = "good" if "b.png" in msg and "row 3" in msg and "move extra images" not in msg else "poor"
    expect(6, v)
    # and an image without a row is named too
    write_images(tmp_path / "imgs", ["a.png", "b.png", "c.png", "d.png"])
    try:
        folder_dataset(tmp_path / "imgs", tmp_path / "caps.csv")
        v = "silent"
    except UserError as exc:
        v = "good" if "d.png" in str(exc) else "poor"
    expect(6, v)


# == 7. one cache location, float width does not matter =============================================
def test_cache_has_one_location_with_one_override(tmp_path, monkeypatch):
    from exporters import cache

    monkeypatch.delenv("EXPORTERS_CACHE", raising=False)
    default = cache.cache_root()
    monkeypatch.setenv("EXPORTERS_CACHE", str(tmp_path / "elsewhere"))
    ok = default == ROOT / ".embeddings-cache" and cache.cache_root() == tmp_path / "elsewhere"
    doc = (ROOT / "docs" / "configuration.md").read_text()
    ok = ok and "EXPORTERS_CACHE" in doc and ".embeddings-cache" in doc
    ok = ok and "/.embeddings-cache/" in (ROOT / ".gitignore").read_text()
    expect(7, "good" if ok else "silent")


def test_tests_never_use_the_repository_cache():
    from exporters.cache import cache_root

    expect(7, "good" if ROOT not in cache_root().parents else "silent")


def test_build_and_inspect_share_the_cache(tmp_path):
    cfg = tiny(tmp_path / "d", OC.format(weights="random_init = true"))
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    cache = tmp_path / "cache"
    p = cli("inspect", "--config", str(cfg), cwd=elsewhere, env={"EXPORTERS_CACHE": str(cache)})
    v = verdict(p, error=False, check=lambda: len(list((cache / "embeddings").glob("*.npz"))) == 1
                and not (elsewhere / ".cache").exists())
    expect(7, v, p)
    p = cli("build", "--config", str(cfg), "--site", str(tmp_path / "site"), cwd=elsewhere,
            env={"EXPORTERS_CACHE": str(cache)})
    v = verdict(p, error=False, check=lambda: len(list((cache / "embeddings").glob("*.npz"))) == 1
                and (cache / "projections").is_dir())
    expect(7, v, p)
    other = tmp_path / "other-cache"
    p = cli("inspect", "--config", str(cfg), "--cache", str(other), cwd=elsewhere,
            env={"EXPORTERS_CACHE": str(cache)})
    expect(7, verdict(p, error=False, check=lambda: len(list((other / "embeddings").glob("*.npz"))) == 1), p)


def test_float_width_of_arrays_does_not_change_the_article(tmp_path):
    from exporters.config import load_config
    from exporters.site import export_world
    from exporters.world import World

    n = 24
    root = tmp_path / "d"
    _write_folder(root, "main", [f"a thing number {i}" for i in range(n)], {"A": _embeddings(n, 2, 1.0, 1)})
    rng = np.random.default_rng(5)
    img, txt = rng.normal(size=(n, 32)) + 0.5, rng.normal(size=(n, 32)) - 0.5
    text = TINY.replace('projections = ["PCA"]', 'projections = ["PCA", "UMAP", "TSNE"]').replace(
        'source = "reference"\nlogit_scale = 30', 'source = "arrays"\npath = "{w}/emb.npz"\nlogit_scale = 30')
    outs = []
    for w, dt in (("f32", np.float32), ("f64", np.float64)):
        (root / w).mkdir()
        np.savez(root / w / "emb.npz", image=img.astype(dt), text=txt.astype(dt))
        cfg = root / f"{w}.toml"
        cfg.write_text(text.replace("{w}", w))
        out = tmp_path / f"out-{w}"
        export_world(World(load_config(cfg), tmp_path / f"cache-{w}"), out, tmp_path / f"cache-{w}")
        outs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "data").rglob("*.json"))
                     if p.name != "provenance.json"})
    same = outs[0].keys() == outs[1].keys() and all(outs[0][k] == outs[1][k] for k in outs[0])
    expect(7, "good" if same else "silent")


def test_embedding_blocks_are_float64():
    from exporters.pairs import EmbeddingSet

    e = EmbeddingSet("m", "d", {"image": np.eye(3, dtype=np.float32), "text": np.eye(3, dtype=np.float32)})
    expect(7, "good" if all(b.dtype == np.float64 for b in e.blocks.values()) else "silent")
