"""The build context a figure exporter is handed: the world, where to write, the build's options.

Every file of a figure goes through FigureContext.write_bytes, the one place that writes and counts
(the size accounting of data/manifest.json and the benchmarks).
"""

from __future__ import annotations

import gzip
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from exporters.errors import UserError
from exporters.figures._encoding import dumps, pack_matrix, pack_points, slug

PROJECTIONS = ("PCA", "UMAP", "TSNE")
THUMB_PX = 160
BATCH_SIZE = 50          # pairs per batch for every loss the article quotes (the seed article's choice)


@dataclass
class FigureContext:
    """What a figure exporter may use: the world (datasets + embeddings), where to write, options."""

    world: Any                      # exporters.world.World or any object with the same methods
    out_dir: Path                   # staging docs dir; data goes under data/, item files under items/
    cache_dir: Path
    options: dict = field(default_factory=dict)
    memo: dict = field(default_factory=dict)
    written: dict = field(default_factory=dict)   # url -> bytes written (for the size accounting)

    @property
    def projections(self) -> list[str]:
        methods = [str(m).upper() for m in self.options.get("projections", PROJECTIONS)]
        bad = [m for m in methods if m not in PROJECTIONS]
        if bad or not methods:
            raise UserError(f"options.projections: unknown {bad or 'empty list'}; use a list of {', '.join(PROJECTIONS)}")
        return methods

    @property
    def batch_size(self) -> int:
        return int(self.options.get("loss_batch_size", BATCH_SIZE))

    def section_opts(self, role: str) -> dict | None:
        return self.world.config.sections.get(role)

    def write_bytes(self, rel: str, data: bytes) -> str:
        """Write a file under out_dir, counted in the size accounting; return its URL relative to the
        site root."""
        path = self.out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.written[rel] = len(data)
        return rel

    def write_json(self, rel: str, obj: Any) -> str:
        """Write canonical JSON under out_dir; return its URL relative to the site root."""
        return self.write_bytes(rel, dumps(obj).encode("utf-8"))

    def write_matrix(self, rel: str, m: np.ndarray) -> dict:
        """Write a matrix's codes (pack_matrix), gzipped, to `rel` (a .bin file under out_dir); return
        its metadata with `src`, the URL the page fetches. Gzipped here, not left to the host: static
        hosts compress by content type, and few compress application/octet-stream."""
        meta, payload = pack_matrix(m)
        self.write_bytes(rel, gzip.compress(payload, compresslevel=9, mtime=0))   # mtime 0: byte-identical
        return {**meta, "gzip": True, "src": rel}

    def write_points(self, rel: str, box: dict) -> dict:
        """Write unit_box coordinates (pack_points), gzipped as write_matrix's, to `rel` (a .bin file);
        return their metadata with `src`."""
        meta, payload = pack_points(box)
        self.write_bytes(rel, gzip.compress(payload, compresslevel=9, mtime=0))
        return {**meta, "gzip": True, "src": rel}

    def item_file(self, src: str, kind: str, dataset_id: str, index: int) -> str:
        """Copy (audio) or shrink (image) one item's file into the site; return its URL."""
        key = ("item", src, kind)
        if key in self.memo:
            return self.memo[key]
        folder = f"items/{slug(dataset_id)}"
        p = Path(src)
        if not p.exists():
            raise UserError(f"{src}: item {index} of dataset {dataset_id} is missing")
        if kind == "image":
            from exporters.images import load_rgb

            rel = f"{folder}/{index}.jpg"
            dst = self.out_dir / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            im = load_rgb(p)  # the pixels the model saw (exporters/images.py)
            im.thumbnail((THUMB_PX, THUMB_PX))
            im.save(dst, "JPEG", quality=70, optimize=True)
        else:
            rel = f"{folder}/{index}{p.suffix.lower()}"
            dst = self.out_dir / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dst)
        self.written[rel] = dst.stat().st_size
        self.memo[key] = rel
        return rel
