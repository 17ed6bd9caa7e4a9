"""A content hash of everything a build reads, so that a rebuild with nothing changed is a no-op.

`build` records the fingerprint in the published site's marker (`.clip-article-site.json`); the next
`build` of the same site computes it again and, when it is equal, says so and leaves the site as it
is (`--force` rebuilds anyway). What is hashed, by content only (no paths, times or hosts, so the
same inputs give the same marker, and a byte-identical site, on any machine):

- `config`: the parsed configuration (comments and key order do not count);
- `files`: every file or folder a configuration value names (paths relative to the file, the
  `{dataset}` pattern of an arrays source expanded), e.g. data folders and checkpoints;
- `shipped`: templates, the article's pages and assets, mkdocs.yml (what `exporters/resources.py` reads);
- `code`: every file of the `exporters` package and the Python version;
- `libraries`: name and version of every installed distribution (a new numpy or umap can move a
  layout; a new mkdocs-material changes the pages);
- `build`: the site builder and the settings read from the environment that change results.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from exporters.cache import file_digest

VERSION = 1
ENV_KEYS = ("EXPORTERS_DEVICE",)   # environment settings that change what a build computes


def tree_digest(path: Path) -> str:
    """sha256 of a file, or of a folder's relative file names and contents (sorted; caches skipped)."""
    path = Path(path)
    if path.is_file():
        return file_digest(path)
    h = hashlib.sha256()
    for root, dirs, files in os.walk(path, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".git"))
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            f = Path(root, name)
            h.update(f.relative_to(path).as_posix().encode("utf-8", "surrogateescape") + b"\0")
            h.update(file_digest(f).encode() + b"\n")
    return h.hexdigest()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def config_files(config: Any) -> dict[str, str]:
    """{value as written: digest} for every configuration value that names an existing file or folder."""
    values = set(_strings(config.options))
    for entry in (*config.datasets.values(), *config.models.values()):
        values.update(_strings(entry.options))
    out = {}
    for v in sorted(values):
        candidates = [v.replace("{dataset}", d) for d in sorted(config.datasets)] if "{dataset}" in v else [v]
        for c in candidates:
            if not c or "\n" in c or len(c) > 4096:
                continue
            try:
                p = config.resolve(c)
                exists = p.exists()
            except (OSError, ValueError):
                continue
            if exists:
                out[c] = tree_digest(p)
    return out


def _config_json(config: Any) -> dict:
    def entries(d: dict) -> dict:
        return {k: {"source": e.source, "label": e.label, "options": e.options} for k, e in sorted(d.items())}

    return {"title": config.title, "options": config.options, "datasets": entries(config.datasets),
            "models": entries(config.models), "sections": config.sections}


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def fingerprint(config: Any, builder: str = "mkdocs") -> dict:
    """{'sha256': one digest, 'parts': {part: digest}} of every input of a build of `config`."""
    from exporters.resources import resource_path

    pkg = Path(__file__).resolve().parent
    code = hashlib.sha256(platform.python_version().encode())
    for f in sorted(p for p in pkg.iterdir() if p.name not in ("_data", "__pycache__")):
        code.update(f.name.encode() + b"\0" + tree_digest(f).encode())
    libs = sorted({(d.metadata["Name"] or "").lower(): d.version for d in metadata.distributions()}.items())
    parts = {
        "config": _digest(_config_json(config)),
        "files": _digest(config_files(config)),
        "shipped": _digest({k: tree_digest(resource_path(k)) for k in ("templates", "article", "mkdocs.yml")}),
        "code": code.hexdigest(),
        "libraries": _digest(libs),
        "build": _digest({"builder": builder, "v": VERSION,
                          **{k: os.environ.get(k, "") for k in ENV_KEYS}}),
    }
    return {"sha256": _digest(parts), "parts": parts}


def changed(old: dict | None, new: dict) -> list[str]:
    """The parts that differ between two fingerprints (all of them when `old` is not one)."""
    old_parts = (old or {}).get("parts") if isinstance(old, dict) else None
    if not isinstance(old_parts, dict):
        return list(new["parts"])
    return [k for k, v in new["parts"].items() if old_parts.get(k) != v]
