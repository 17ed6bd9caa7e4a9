"""The article build configuration: which datasets, which models, which sections.

One TOML file per build (the embedded default is `configs/default.toml`). Validated once here, with
messages that name the file, the entry and the fix; everything downstream trusts it.

    title = "..."
    [datasets.<id>]   source = "shapes" | "reference" | ...   (+ source-specific keys)
    [models.<id>]     source = "open_clip" | "reference" | "arrays"   label = "CLIP"  (+ keys)
    [sections.<role>] dataset = "<id>"  models = ["<id>", ...]   (+ role-specific keys)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from exporters.errors import UserError

DATASET_SOURCES = {
    "shapes": {"split"},
    "shapes_subset": {"substring"},
    "shapes_augmentation": {"kind", "image"},
    "reference": {"path"},
    "coco": {"annotations", "images"},          # + sample, seed (docs/configuration.md)
    "image_folder": {"images", "captions"},     # + sample, seed, image_column, caption_column
    "diffusiondb": {"archive"},                 # + metadata, sample, seed
    "triplets": {"table"},                      # + sample, seed, *_column
    "cloome": {"table"},                        # + sample, seed, image_column, smiles_column, image_pattern
    "augmentation": {"kind"},                   # + image & caption, or of (dataset id) & index; steps, seed
}
MODEL_SOURCES = {
    "open_clip": {"arch"},          # + pretrained or checkpoint
    "reference": set(),             # similarities/<name>.csv of a reference dataset folder
    "arrays": {"path"},             # path may contain {dataset}
    "cloob_laion": {"checkpoint"},  # crowsonkb/cloob-training ViT checkpoint (.pkl)
}
SECTIONS = {
    "main": {"dataset", "models"},          # heatmaps, scatter, comparison (100 pairs)
    "large": {"dataset", "models"},         # loss table, landscapes, large projections (5000 pairs)
    "subset": {"dataset", "models", "substring"},
    "augmentations": {"datasets", "models"},
    "triplet": {"dataset", "models"},
    "molecules": {"dataset", "models"},
}


@dataclass(frozen=True)
class Entry:
    id: str
    source: str
    options: dict
    label: str = ""


@dataclass(frozen=True)
class ArticleConfig:
    path: Path
    title: str
    datasets: dict[str, Entry]
    models: dict[str, Entry]
    sections: dict[str, dict]
    options: dict = field(default_factory=dict)

    def resolve(self, value: str) -> Path:
        """A path from the file, relative to the file's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.path.parent / p)


def _entries(raw: dict, kind: str, sources: dict[str, set], where: str) -> dict[str, Entry]:
    out = {}
    for key, opts in (raw.get(kind) or {}).items():
        if not isinstance(opts, dict):
            raise UserError(f"{where}: [{kind}.{key}] must be a table")
        src = opts.get("source")
        if src not in sources:
            raise UserError(f"{where}: [{kind}.{key}] has source {src!r}; use one of {', '.join(sources)}")
        missing = sorted(sources[src] - set(opts))
        if missing:
            raise UserError(f"{where}: [{kind}.{key}] (source {src}) needs {', '.join(missing)}")
        rest = {k: v for k, v in opts.items() if k not in ("source", "label")}
        out[key] = Entry(key, src, rest, str(opts.get("label", key)))
    return out


def load_config(path: str | Path) -> ArticleConfig:
    """Parse and validate a build configuration file."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: configuration file not found")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{p}: not valid TOML ({exc})") from None
    datasets = _entries(raw, "datasets", DATASET_SOURCES, str(p))
    models = _entries(raw, "models", MODEL_SOURCES, str(p))
    for m in models.values():
        if m.source == "open_clip" and "pretrained" in m.options and "checkpoint" in m.options:
            raise UserError(f"{p}: [models.{m.id}] give pretrained or checkpoint, not both")
    sections = {}
    for role, opts in (raw.get("sections") or {}).items():
        if role not in SECTIONS:
            raise UserError(f"{p}: unknown section [sections.{role}]; known: {', '.join(SECTIONS)}")
        missing = sorted(SECTIONS[role] - set(opts))
        if missing:
            raise UserError(f"{p}: [sections.{role}] needs {', '.join(missing)}")
        if "dataset" in opts:
            ds = [opts["dataset"]]
        else:  # augmentations: {kind: dataset id or [ids, one per source image]}
            ds = [d for v in dict(opts["datasets"]).values() for d in ([v] if isinstance(v, str) else v)]
        for d in ds:
            if d not in datasets:
                raise UserError(f"{p}: [sections.{role}] names dataset {d!r}, not defined; "
                                f"defined: {', '.join(datasets) or 'none'}")
        for m in opts["models"]:
            if m not in models:
                raise UserError(f"{p}: [sections.{role}] names model {m!r}, not defined; "
                                f"defined: {', '.join(models) or 'none'}")
        sections[role] = dict(opts)
    if "main" not in sections:
        raise UserError(f"{p}: a [sections.main] with a dataset and models is required")
    return ArticleConfig(p.resolve(), str(raw.get("title", "Exploring the latent space of CLIP-like models")),
                         datasets, models, sections, dict(raw.get("options") or {}))
