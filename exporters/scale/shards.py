"""The output folder of `embed`, and `ShardSet`, the bounded reader (pread) every streaming analysis uses.

    OUT/index.json                    the manifest's shards in order (slot, rows, key, items, failed)
    OUT/shards/<key>/<m>.npy          (n, d) float32, L2-normalised rows of modality m, manifest order
    OUT/shards/<key>/<m>.content.npy  (n, 2) uint64: first 16 bytes of the sha256 of the item's
                                      content (file bytes for images, UTF-8 text for captions):
                                      identical content is one answer in R@k (analysis/retrieval.py)
    OUT/shards/<key>/items.json       ids, manifest rows, strata, and each modality's items
    OUT/shards/<key>/meta.json        written last: the cache-key parts, n, d, logit scale
    OUT/slots/<fingerprint>.json      a finished slot: its content key and its failures by item
    OUT/runs/<time>-<engine>.json     one record per run

`<key>` is `exporters.cache.cache_key` of the parts `OpenClipSource.embed` computes for the shard's
embedded items (model identity, weights sha256, item ids, file contents, library and image-loader
versions): the single-process path's own key. A shard folder is written under a temporary name and
renamed when complete, so a killed worker never leaves half a shard.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from exporters.cache import write_atomic
from exporters.errors import UserError

INDEX = "index.json"
DENSE_READ_BYTES = 1 << 20   # rows within this span (or 4x what they hold) are read with one pread
FORMAT = "clip-article-shards/1"


def write_json_atomic(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1, sort_keys=True, default=str)
    write_atomic(path.parent, path, ".json.tmp", lambda f: f.write(text.encode("utf-8")))


def shard_dir(out: Path, key: str) -> Path:
    return Path(out) / "shards" / key


def shard_complete(out: Path, key: str | None, names: list[str]) -> bool:
    if not key:
        return False
    d = shard_dir(out, key)
    return (d / "meta.json").is_file() and all((d / f"{n}.npy").is_file() for n in names)


def write_shard(out: Path, key: str, arrays: dict[str, np.ndarray], content: dict[str, np.ndarray],
                items: dict, meta: dict) -> bool:
    """Write one shard folder atomically; False when a complete one was already there."""
    names = list(arrays)
    final = shard_dir(out, key)
    if shard_complete(out, key, names):
        return False
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".tmp-{key[:12]}-"))
    try:
        for name, a in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(a, dtype=np.float32))
            np.save(tmp / f"{name}.content.npy", np.ascontiguousarray(content[name], dtype=np.uint64))
        (tmp / "items.json").write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True, default=str), encoding="utf-8")
        for p in tmp.iterdir():
            os.chmod(p, 0o644)
        os.chmod(tmp, 0o755)
        if final.exists():            # an incomplete leftover (or a race with an identical shard)
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError:
            if shard_complete(out, key, names):   # another worker wrote the same content first
                shutil.rmtree(tmp, ignore_errors=True)
                return False
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return True


def content_key(digest_hex: str) -> tuple[int, int]:
    """The first 16 bytes of a sha256 hex digest as two uint64 (R@k's identical-content test)."""
    return int(digest_hex[:16], 16), int(digest_hex[16:32], 16)


def write_array_shards(out: str | Path, arrays: dict[str, np.ndarray], shard_size: int = 10_000,
                       ids: list[str] | None = None, strata: list[str] | None = None,
                       content: dict[str, np.ndarray] | None = None, logit_scale: float | None = None) -> Path:
    """Write in-memory (n, d) arrays (rows L2-normalised here) as a shard folder `ShardSet` reads:
    synthetic data for the tests, or embeddings computed elsewhere. `content` gives (n, 2) uint64
    identical-content keys per modality (default: every item distinct)."""
    names = list(arrays)
    n = arrays[names[0]].shape[0]

    def blocks():
        for lo in range(0, n, shard_size):
            hi = min(n, lo + shard_size)
            yield ({name: arrays[name][lo:hi] for name in names},
                   ids[lo:hi] if ids else None, strata[lo:hi] if strata is not None else None,
                   {name: content[name][lo:hi] for name in content} if content else None)
    return write_block_shards(out, blocks(), logit_scale)


def write_block_shards(out: str | Path, blocks, logit_scale: float | None = None) -> Path:
    """Write shards from an iterable of (arrays, ids or None, strata or None, content or None), one
    shard per item, never holding more than one block: the benchmarks' synthetic data at any n."""
    out = Path(out)
    shards, names, d, lo = [], None, None, 0
    for slot, (arrays, ids, strata, content) in enumerate(blocks):
        names = names or list(arrays)
        m, d = arrays[names[0]].shape
        hi = lo + m
        block = {}
        for name in names:
            a = np.asarray(arrays[name], dtype=np.float64)
            block[name] = (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)
        cont = {name: (np.asarray(content[name], dtype=np.uint64) if content and name in content else
                       np.stack([np.full(m, zlib.crc32(name.encode()), dtype=np.uint64),
                                 np.arange(lo, hi, dtype=np.uint64)], axis=1)) for name in names}
        key = f"synthetic-{slot:06d}-{lo}-{hi}"
        items = {"ids": list(ids) if ids is not None else [f"item-{i:09d}" for i in range(lo, hi)],
                 "rows": list(range(lo, hi)), "items": {}}
        if strata is not None:
            items["strata"] = list(strata)
        write_shard(out, key, block, cont, items, {"key": key, "n": m, "dim": d, "synthetic": True})
        shards.append({"slot": slot, "start": lo, "rows": m, "key": key, "items": m, "failed": 0, "status": "done"})
        lo = hi
    write_json_atomic(out / INDEX, {"format": FORMAT, "modalities": names, "dim": d, "dtype": "float32",
                                    "logit_scale": logit_scale, "shard_size": shards[0]["rows"] if shards else 0,
                                    "shards": shards, "items": lo, "rows": lo, "failed": 0, "model": None,
                                    "manifest": None})
    return out


class ShardSet:
    """The shards of an `embed` output folder (or of several, in the order given: one per manifest
    part of a very large set), in manifest order, read in bounded pieces.

    Nothing is loaded whole: `blocks` yields bounded row blocks (float64 copies), `gather` reads
    rows by global index; both read with pread (at most `max_open` files open), so neither the
    heap nor the resident file pages grow with the number of items. `allow_partial` reads a folder whose run left slots
    unfinished.
    """

    def __init__(self, folder, allow_partial: bool = False, max_open: int = 256):
        folders = [Path(f) for f in folder] if isinstance(folder, (list, tuple)) else [Path(folder)]
        if not folders:
            raise UserError("no shard folder given")
        self.folder = folders[0] if len(folders) == 1 else Path(", ".join(map(str, folders)))
        self.folders = folders
        self.shards: list[dict] = []
        self.index: dict = {}
        for f in folders:
            index = self._read_index(f, allow_partial)
            if not self.index:
                self.index = index
            elif index["modalities"] != self.index["modalities"] or index.get("dim") != self.index.get("dim") \
                    or (index.get("model") or {}).get("weights") != (self.index.get("model") or {}).get("weights"):
                raise UserError(f"{f}: other modalities, dimension or model than {folders[0]}; "
                                "read together only the shards of one model")
            for s in index["shards"]:
                if s.get("key") and s.get("items", 0) > 0:
                    if not shard_complete(f, s["key"], index["modalities"]):
                        raise UserError(f"{shard_dir(f, s['key'])}: shard of slot {s['slot']} is missing or "
                                        "incomplete; rerun embed (it redoes only the missing shards)")
                    self.shards.append({**s, "folder": str(f)})
        self.names: list[str] = list(self.index["modalities"])
        self.sizes = np.array([s["items"] for s in self.shards], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)
        self.n = int(self.offsets[-1])
        self.dim = int(self.index.get("dim") or 0)
        self.logit_scale = self.index.get("logit_scale")
        self._open: OrderedDict = OrderedDict()
        self._max_open = max_open

    @staticmethod
    def _read_index(folder: Path, allow_partial: bool) -> dict:
        index_path = folder / INDEX
        if not index_path.is_file():
            raise UserError(f"{folder}: no {INDEX}; give the --out folder of `python -m exporters embed`")
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"{index_path}: unreadable ({type(exc).__name__}); rerun embed to rewrite it") from None
        if index.get("format") != FORMAT:
            raise UserError(f"{index_path}: not a shard index of this version ({index.get('format')!r})")
        missing = [s for s in index["shards"] if s.get("status") == "missing"]
        if missing and not allow_partial:
            raise UserError(f"{folder}: {len(missing)} of {len(index['shards'])} shards are unfinished "
                            f"(first: slot {missing[0]['slot']}); rerun embed to finish them, or pass --allow-partial")
        return index

    def _dir(self, i: int) -> Path:
        return shard_dir(Path(self.shards[i]["folder"]), self.shards[i]["key"])

    def __len__(self) -> int:
        return self.n

    def _file(self, i: int, name: str, suffix: str = "") -> tuple[int, int, np.dtype, int]:
        """(open file descriptor, data offset, dtype, row width) of one shard array; at most
        `max_open` descriptors stay open. Reads go through pread, not memory maps: random rows
        from many shards would otherwise map (and count as resident) far more than they read."""
        k = (i, name, suffix)
        if k in self._open:
            self._open.move_to_end(k)
            return self._open[k]
        path = self._dir(i) / f"{name}{suffix}.npy"
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(f)
            offset = f.tell()
        if fortran or len(shape) != 2:
            raise UserError(f"{path}: not a C-ordered 2-D array; rerun embed for this shard")
        entry = (os.open(path, os.O_RDONLY), offset, np.dtype(dtype), int(shape[1]))
        self._open[k] = entry
        if len(self._open) > self._max_open:
            os.close(self._open.popitem(last=False)[1][0])
        return entry

    def _read(self, i: int, name: str, rows: np.ndarray, suffix: str = "") -> np.ndarray:
        """Rows `rows` (sorted ascending, repeats allowed) of one shard array, one pread per run
        of consecutive rows."""
        fd, offset, dtype, width = self._file(i, name, suffix)
        rowbytes = dtype.itemsize * width
        if rows.size:
            span = (int(rows[-1]) - int(rows[0]) + 1) * rowbytes
            if span <= max(DENSE_READ_BYTES, 4 * rows.size * rowbytes):    # one read of the span
                buf = bytearray(span)
                if os.preadv(fd, [buf], offset + int(rows[0]) * rowbytes) != span:
                    raise UserError(f"{self._dir(i) / (name + suffix + '.npy')}: truncated; rerun embed")
                return np.frombuffer(buf, dtype=dtype).reshape(-1, width)[rows - rows[0]]
        buf = bytearray(rows.size * rowbytes)
        view = memoryview(buf)
        if rows.size:
            breaks = np.flatnonzero(np.diff(rows) != 1) + 1
            starts = np.concatenate([[0], breaks]).tolist()
            ends = np.concatenate([breaks, [rows.size]]).tolist()
            first = rows.tolist()
            for a, b in zip(starts, ends):
                n = (b - a) * rowbytes
                got = os.preadv(fd, [view[a * rowbytes:a * rowbytes + n]], offset + first[a] * rowbytes)
                if got != n:
                    raise UserError(f"{self._dir(i) / (name + suffix + '.npy')}: truncated; rerun embed")
        return np.frombuffer(buf, dtype=dtype).reshape(rows.size, width)

    def close(self) -> None:
        while self._open:
            os.close(self._open.popitem()[1][0])

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def check(self, name: str) -> None:
        if name not in self.names:
            raise UserError(f"{self.folder}: no modality {name!r}; the shards hold {', '.join(self.names)}")

    def items(self, i: int) -> dict:
        return json.loads((self._dir(i) / "items.json").read_text(encoding="utf-8"))

    def blocks(self, names: list[str], max_rows: int = 65536) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        """(global start, {name: float64 rows}) over every item, in order, at most `max_rows` rows each."""
        for n in names:
            self.check(n)
        for i in range(len(self.shards)):
            size = int(self.sizes[i])
            for lo in range(0, size, max_rows):
                hi = min(size, lo + max_rows)
                rows = np.arange(lo, hi)
                yield int(self.offsets[i]) + lo, {n: self._read(i, n, rows).astype(np.float64) for n in names}

    def _locate(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            raise IndexError("row index outside the shard set")
        shard = np.searchsorted(self.offsets, idx, side="right") - 1
        return shard, idx - self.offsets[shard]

    def gather(self, name: str, idx, suffix: str = "", dtype=np.float64) -> np.ndarray:
        """Rows at global indices `idx` (any order, repeats allowed)."""
        self.check(name)
        idx = np.asarray(idx, dtype=np.int64)
        shard, local = self._locate(idx)
        width = 2 if suffix == ".content" else self.dim
        out = np.empty((idx.size, width), dtype=np.uint64 if suffix == ".content" else dtype)
        for s in np.unique(shard):
            sel = np.flatnonzero(shard == s)
            order = np.argsort(local[sel], kind="stable")     # sorted reads
            out[sel[order]] = self._read(int(s), name, local[sel][order], suffix)
        return out

    def content(self, name: str, idx) -> np.ndarray:
        return self.gather(name, idx, suffix=".content")

    def ids(self, idx) -> list[str]:
        """Item ids at global indices (reads the items.json of the shards they fall in)."""
        shard, local = self._locate(np.asarray(idx))
        cache: dict[int, list[str]] = {}
        out = []
        for s, j in zip(shard.tolist(), local.tolist()):
            if s not in cache:
                cache[s] = self.items(s)["ids"]
            out.append(cache[s][j])
        return out
