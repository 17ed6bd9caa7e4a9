"""The pair manifest `embed` reads: one row per item, in a Parquet or CSV file.

Columns (names are case-insensitive; the first of each list that is present is used):

- item id: `id`, `item_id`, `key`, `uid` (required, unique, non-empty);
- image: `image`, `file_name`, `filename`, `file`, `path`, `image_path` - a file path (relative
  paths are relative to the manifest's folder) or a `file://` URL;
- caption: `caption`, `text`, `prompt`, `title`;
- extra modalities: `image:<name>` or `text:<name>` columns (e.g. `image:sketch`, `text:title`),
  embedded as modality `<name>` with the same model;
- stratum (optional): `stratum`, or the column named by `--stratum-column`: the label the
  stratified sample for the article's figures is drawn by (docs/scale.md).

A row is an item: it is embedded when every one of its modalities can be read, and recorded as a
failure (and skipped) otherwise. `http(s)://` images are recorded as failures: `embed` does not
download (fetch them first, e.g. with img2dataset, and list the local files).

Rows are read in a stream (csv module, or pyarrow's Parquet batches) and cut into shards of
`shard_size` consecutive rows; shard k holds rows [k * shard_size, (k + 1) * shard_size).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from exporters.datasets.common import IMAGE_COLUMNS, TEXT_COLUMNS
from exporters.errors import UserError

ID_COLUMNS = ("id", "item_id", "key", "uid")
STRATUM_COLUMN = "stratum"
KINDS = ("image", "text")


@dataclass(frozen=True)
class Column:
    """One modality of the manifest: its name in the shards, its kind, the manifest column."""

    name: str
    kind: str
    column: str


@dataclass(frozen=True)
class Manifest:
    path: Path
    id_column: str
    modalities: tuple[Column, ...]
    stratum_column: str | None = None
    fmt: str = "csv"
    _columns: tuple[str, ...] = field(default=(), repr=False)

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.modalities]

    def describe(self) -> dict:
        return {"path": str(self.path), "format": self.fmt, "id_column": self.id_column,
                "modalities": [{"name": m.name, "kind": m.kind, "column": m.column} for m in self.modalities],
                "stratum_column": self.stratum_column}

    def rows(self) -> Iterator[dict]:
        """Every row as {'row', 'id', <modality name>: value, 'stratum'}; ids checked unique and non-empty."""
        seen: set[str] = set()
        for i, raw in enumerate(self._raw_rows()):
            line = i + 2 if self.fmt == "csv" else i + 1
            item_id = _text(raw.get(self.id_column)).strip()
            if not item_id:
                raise UserError(f"{self.path}: row {line} has an empty {self.id_column!r}; every item needs an id")
            if item_id in seen:
                raise UserError(f"{self.path}: row {line} repeats id {item_id!r}; item ids must be unique")
            seen.add(item_id)
            out = {"row": i, "id": item_id}
            for m in self.modalities:
                value = _text(raw.get(m.column))
                out[m.name] = self._locate(value) if m.kind == "image" else value
            if self.stratum_column:
                out["stratum"] = _text(raw.get(self.stratum_column))
            yield out

    def _locate(self, value: str) -> str:
        value = value.strip()
        if not value or value.startswith(("http://", "https://")):
            return value
        if value.startswith("file://"):
            value = value[len("file://"):]
        p = Path(value).expanduser()
        return str(p if p.is_absolute() else (self.path.parent / p).resolve())

    def _raw_rows(self) -> Iterator[dict]:
        if self.fmt == "parquet":
            pq = _parquet()
            try:
                pf = pq.ParquetFile(self.path)
                for batch in pf.iter_batches(batch_size=8192, columns=list(self._columns)):
                    yield from batch.to_pylist()
            except OSError as exc:
                raise UserError(f"{self.path}: cannot read as Parquet ({exc})") from None
            return
        try:
            with open(self.path, newline="", encoding="utf-8-sig") as f:
                reader = csv.DictReader(f, delimiter="\t" if self.path.suffix.lower() == ".tsv" else ",")
                try:
                    yield from reader
                except csv.Error as exc:
                    raise UserError(f"{self.path}: not a readable CSV ({exc})") from None
        except UnicodeDecodeError:
            raise UserError(f"{self.path}: not UTF-8 text; save the manifest as UTF-8") from None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:   # NaN from a numeric column
        return ""
    return value if isinstance(value, str) else str(value)


def _parquet():
    from exporters.scale import need

    return need("pyarrow.parquet", "a Parquet manifest")


def _header(path: Path) -> tuple[str, list[str]]:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        pq = _parquet()
        try:
            return "parquet", list(pq.ParquetFile(path).schema_arrow.names)
        except (OSError, ValueError) as exc:
            raise UserError(f"{path}: cannot read as Parquet ({exc})") from None
    if suffix in (".csv", ".tsv"):
        try:
            with open(path, newline="", encoding="utf-8-sig") as f:
                header = next(csv.reader(f, delimiter="\t" if suffix == ".tsv" else ","), None)
        except UnicodeDecodeError:
            raise UserError(f"{path}: not UTF-8 text; save the manifest as UTF-8") from None
        if not header:
            raise UserError(f"{path}: empty manifest; write a header row (id,image,caption) and one row per pair")
        return "csv", header
    raise UserError(f"{path}: unsupported manifest type {suffix!r}; use .parquet, .csv or .tsv")


def open_manifest(path: str | Path, stratum_column: str | None = None) -> Manifest:
    """Find the id, image, caption, extra and stratum columns of a manifest (reads the header only)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: manifest not found")
    fmt, columns = _header(path)
    lower = {c.lower().strip(): c for c in columns}

    def pick(options: tuple[str, ...], what: str, required: bool = True) -> str | None:
        for o in options:
            if o in lower:
                return lower[o]
        if required:
            raise UserError(f"{path}: no {what} column; name one of {', '.join(options)} "
                            f"(columns are {', '.join(columns)})")
        return None

    id_col = pick(ID_COLUMNS, "item id")
    image_col = pick(IMAGE_COLUMNS, "image", required=False)
    text_col = pick(TEXT_COLUMNS, "caption", required=False)
    mods = []
    if image_col:
        mods.append(Column("image", "image", image_col))
    if text_col:
        mods.append(Column("text", "text", text_col))
    for c in columns:
        kind, sep, name = c.partition(":")
        if sep and kind.lower() in KINDS:
            name = name.strip()
            if not name or name in {m.name for m in mods}:
                raise UserError(f"{path}: column {c!r}: give each extra modality its own name "
                                "(image:<name> or text:<name>, not image or text)")
            mods.append(Column(name, kind.lower(), c))
    if len(mods) < 2:
        raise UserError(f"{path}: a pair needs two modalities; found {', '.join(m.column for m in mods) or 'none'} "
                        f"(columns are {', '.join(columns)}); add an image and a caption column")
    if stratum_column:
        if stratum_column.lower() not in lower:
            raise UserError(f"{path}: no stratum column {stratum_column!r}; columns are {', '.join(columns)}")
        stratum = lower[stratum_column.lower()]
    else:
        stratum = lower.get(STRATUM_COLUMN)
    used = [id_col, *(m.column for m in mods)] + ([stratum] if stratum else [])
    return Manifest(path.resolve(), id_col, tuple(mods), stratum, fmt, tuple(used))


def file_sha256(path: str | Path) -> str:
    from exporters.cache import file_digest

    return file_digest(path)


@dataclass
class ShardPlan:
    slot: int
    start: int
    rows: list[dict]
    fingerprint: str = ""


def plan_shards(manifest: Manifest, shard_size: int, identity: dict) -> list[ShardPlan]:
    """Cut the manifest into shards of `shard_size` rows, each with an input fingerprint: the model
    identity, the rows, and the (size, mtime) of every local file they name (a quick check, like
    rsync's: a changed file changes the fingerprint; `--rehash` re-reads the content instead)."""
    if shard_size < 1:
        raise UserError(f"--shard-size must be at least 1, got {shard_size}")
    plans: list[ShardPlan] = []
    current: list[dict] = []
    for row in manifest.rows():
        current.append(row)
        if len(current) == shard_size:
            plans.append(ShardPlan(len(plans), row["row"] - shard_size + 1, current))
            current = []
    if current:
        plans.append(ShardPlan(len(plans), current[0]["row"], current))
    if not plans:
        raise UserError(f"{manifest.path}: no rows; write one row per pair")
    images = [m.name for m in manifest.modalities if m.kind == "image"]
    for p in plans:
        h = hashlib.sha256(json.dumps({"identity": identity, "modalities": manifest.describe()["modalities"],
                                       "stratum": manifest.stratum_column}, sort_keys=True).encode())
        for r in p.rows:
            h.update(json.dumps(r, sort_keys=True).encode("utf-8", "surrogatepass"))
            for name in images:
                h.update(repr(_stat(r[name])).encode())
            h.update(b"\n")
        p.fingerprint = h.hexdigest()
    return plans


def _stat(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_size, st.st_mtime_ns


# -- the shapes world as a manifest (tests and benchmarks; no download) ---------------------------

def shapes_manifest(path: str | Path, n: int, split: str = "eval5000", image_dir: str | Path | None = None,
                    start: int = 0) -> Path:
    """Write the images of pairs [start, start + n) of a shapes split as PNGs and a manifest naming
    them (CSV or Parquet by the suffix of `path`); stratum = the scene's main shape."""
    from exporters.datasets.common import write_png_atomic
    from exporters.datasets.shapes import draw_scene, make_scene

    path = Path(path)
    image_dir = Path(image_dir) if image_dir else path.parent / "images"
    rows = []
    for i in range(start, start + n):
        scene = make_scene(i, split)
        file = image_dir / f"{split}-{i:06d}.png"
        if not file.exists():
            write_png_atomic(file, draw_scene(scene))
        rows.append({"id": f"{split}-{i:06d}", "image": os.path.relpath(file, path.parent),
                     "caption": scene.caption, "stratum": scene.objects[0].shape})
    write_manifest(path, rows)
    return path


def write_manifest(path: str | Path, rows: list[dict]) -> Path:
    """Rows (dicts with the same keys) as a CSV or Parquet manifest, by the suffix of `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0]) if rows else ["id", "image", "caption"]
    if path.suffix.lower() in (".parquet", ".pq"):
        from exporters.scale import need

        pa = need("pyarrow", "a Parquet manifest")
        pq = _parquet()
        pq.write_table(pa.table({c: [r.get(c) for r in rows] for c in columns}), path)
    else:
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=columns)
            w.writeheader()
            w.writerows(rows)
    return path
