"""Beyond one machine: embeddings of many pairs in shards, and analyses that stream over them.

- `manifest`: the pair manifest (Parquet or CSV: item id, image path, caption, optional extra
  image/text columns, an optional stratum), read in a stream and cut into fixed shards.
- `encode`: `ShardEncoder`, the open_clip encoder that turns one shard into L2-normalised float32
  arrays (the same object is a Ray Data actor or runs in this process); bad items are recorded
  and skipped, never given a vector.
- `shards`: the output folder (one folder per shard under its content-hash key, an index, run
  records) and `ShardSet`, its bounded reader (pread, not memory maps).
- `run`: the `embed` job: plan, resume, the local and the Ray Data engine, the run record.
- `stream`: gap, per-dimension gap, mean cosines, RMG, alignment, uniformity in bounded memory;
  `knn`: R@k against the full gallery with faiss; `sample`: a reproducible stratified sample.
- `reference`: in-memory definitions the streaming results are checked against.

Ray, pyarrow and faiss are the optional extra `scale` (`pip install .[scale]`), imported only
where they are used. See docs/scale.md.
"""

from __future__ import annotations

from exporters.errors import UserError

EXTRA_HINT = "pip install '.[scale]'"


def need(module: str, what: str):
    """Import an optional dependency of the `scale` extra, or fail with one line that names it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise UserError(f"{what} needs the optional package {module.split('.')[0]!r}: "
                        f"install the scale extra ({EXTRA_HINT})") from None
