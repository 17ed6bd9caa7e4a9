"""Shared checks of the file-based dataset loaders: sampling, images, caption tables, atomic writes.

Every loader validates at its boundary with one-line `UserError`s that name the file (or the row)
and the fix; what it returns is trusted downstream.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from exporters.errors import UserError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
AMUMO_SEED = 31415   # the seed article's sampling seed (amumo DatasetInterface)

# column names accepted in caption tables (first match wins, case-insensitive)
IMAGE_COLUMNS = ("image", "file_name", "filename", "file", "path", "image_path")
TEXT_COLUMNS = ("caption", "text", "prompt", "title")


def sample_indices(n: int, k: int | None, seed: int, where: str) -> list[int]:
    """`k` of `n` pool positions, in the seed article's order (amumo `_get_random_subsample`):
    ``RandomState(seed).rand(n).argsort()[:k]``. `k=None` keeps the whole pool in its order."""
    if k is None:
        return list(range(n))
    k = int(k)
    if k <= 0:
        raise UserError(f"{where}: sample must be a positive number of pairs, got {k}")
    if k > n:
        raise UserError(f"{where}: sample = {k} but only {n} pairs are available; lower `sample` "
                        "or leave it out to use every pair")
    order = np.random.RandomState(int(seed)).rand(n).argsort(kind="stable")
    return [int(i) for i in order[:k]]


def check_image(path: Path, what: str = "image") -> None:
    """Fail with one line when `path` is missing or PIL cannot identify it (header only: fast)."""
    if not path.is_file():
        raise UserError(f"{path}: {what} file not found; check the image folder in the configuration")
    try:
        with Image.open(path) as im:
            im.size  # noqa: B018 - header parsed
    except (OSError, UnidentifiedImageError) as exc:
        raise UserError(f"{path}: not a readable image ({type(exc).__name__}); replace the file or "
                        "drop its row") from None


def write_png_atomic(path: Path, image: Image.Image) -> None:
    """Write a PNG through a temp file and a rename, so a crash never leaves half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        image.save(buf, format="PNG", compress_level=6)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".png.tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(buf.getvalue())
        os.replace(tmp, path)
    except OSError as e:
        raise UserError(f"cannot write image {path}: {e.strerror or e}; choose a writable image folder") from e


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


def _pick(columns: list[str], options: tuple[str, ...], path: Path, what: str, given: str | None) -> str:
    lower = {c.lower().strip(): c for c in columns}
    if given:
        if given.lower() in lower:
            return lower[given.lower()]
        raise UserError(f"{path}: no column {given!r} for the {what}; columns are {', '.join(columns)}")
    for o in options:
        if o in lower:
            return lower[o]
    raise UserError(f"{path}: no {what} column; name one of {', '.join(options)} "
                    f"(columns are {', '.join(columns) or 'none'})")


def read_table(path: Path) -> list[dict]:
    """Rows of a CSV (with a header) or a JSON file (a list of objects, or {key: value})."""
    if not path.is_file():
        raise UserError(f"{path}: caption file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read as UTF-8 text ({type(exc).__name__}); save it as UTF-8") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
        if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
            return [{"image": k, "caption": v} for k, v in data.items()]
        if isinstance(data, list) and all(isinstance(r, dict) for r in data):
            return data
        raise UserError(f"{path}: expected a list of objects like "
                        '[{"image": "a.jpg", "caption": "..."}] or an object {"a.jpg": "caption"}')
    if suffix in (".csv", ".tsv"):
        try:
            rows = list(csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ","))
        except csv.Error as exc:
            raise UserError(f"{path}: not a readable CSV ({exc})") from None
        return rows
    if suffix == ".txt":
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return [{"caption": line.rstrip("\r")} for line in lines]
    raise UserError(f"{path}: unsupported caption file type {suffix!r}; use .csv, .tsv, .json or .txt")


def table_columns(rows: list[dict], path: Path, wanted: dict[str, tuple[tuple[str, ...], str | None]]
                  ) -> dict[str, str]:
    """Map roles ('image', 'text', ...) to the table's column names, or fail naming the file."""
    if not rows:
        raise UserError(f"{path}: no rows; write one row per pair")
    columns = list(rows[0].keys())
    return {role: _pick(columns, opts, path, role, given) for role, (opts, given) in wanted.items()}


def cell(row: dict, column: str, path: Path, line: int, what: str) -> str:
    value = row.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise UserError(f"{path}: row {line} has an empty {what}; fill it or drop the row")
    if not isinstance(value, str):
        value = str(value)
    return value.strip()


def list_images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise UserError(f"{folder}: image folder not found; point `images` at the folder that holds the images")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTS)
    if not files:
        raise UserError(f"{folder}: no images ({', '.join(IMAGE_EXTS)}) in this folder; is it the right one?")
    return files

