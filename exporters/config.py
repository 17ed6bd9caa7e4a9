"""The article build configuration: which datasets, which models, which sections.

One TOML file per build (the embedded default is `configs/default.toml`). Validated once here, with
messages that name the file, the entry and the fix; everything downstream trusts it.

    title = "..."
    [datasets.<id>]   source = "shapes" | "reference" | ...   (+ source-specific keys)
    [models.<id>]     source = "open_clip" | "reference" | "arrays"   label = "CLIP"  (+ keys)
    [sections.<role>] dataset = "<id>"  models = ["<id>", ...]   (+ role-specific keys)
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from exporters.errors import UserError

DATASET_SOURCES = {
    "shapes": {"split"},
    "shapes_subset": {"substring"},
    "shapes_augmentation": {"kind", "image"},
    "reference": {"path"},
    "reference_copy": {"path"},                 # data/amumo-article/<folder> (exporters/reference_copy.py)
    "coco": {"annotations", "images"},          # + sample, seed (docs/configuration.md)
    "image_folder": {"images", "captions"},     # + sample, seed, image_column, caption_column
    "diffusiondb": {"archive"},                 # + metadata, sample, seed
    "triplets": {"table"},                      # + sample, seed, *_column
    "cloome": {"table"},                        # + sample, seed, image_column, smiles_column, image_pattern
    "augmentation": {"kind"},                   # + image & caption, or of (dataset id) & index; steps, seed
}
MODEL_SOURCES = {
    "open_clip": {"arch"},          # + exactly one of pretrained, checkpoint, random_init = true
    "reference": set(),             # similarities/<name>.csv of a reference dataset folder
    "reference_copy": set(),        # similarities.npz[<name>] of a folder of the compact copy
    "arrays": {"path"},             # path may contain {dataset}
    "cloob_laion": {"checkpoint"},  # crowsonkb/cloob-training ViT checkpoint (.pkl)
}
# the keys an open_clip model table may hold (besides source and label): a misspelt weights key
# must not silently give a randomly initialised model
OPEN_CLIP_KEYS = ("arch", "pretrained", "checkpoint", "checkpoint_format", "trusted_pickle", "random_init")
SECTIONS = {
    "main": {"dataset", "models"},          # heatmaps, scatter, comparison (100 pairs)
    "world": {"dataset", "models"},         # the chapter on our own trained models (shapes world)
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


def _check_ids(value: object, where: str, what: str, example: str) -> None:
    """A non-empty list of id strings, or one line saying what is wrong with `value`."""
    if not isinstance(value, list):
        raise UserError(f"{where} must be a list of {what} ids, like [\"{example}\"], not {value!r}")
    if not value:
        raise UserError(f"{where} is empty; name at least one {what} id, like [\"{example}\"]")
    for v in value:
        if not isinstance(v, str):
            raise UserError(f"{where} holds {v!r}; {what} ids are strings, like [\"{example}\"]")


def _check_open_clip(m: Entry, where: str) -> None:
    """Known keys only, and exactly one source of weights: a random model is asked for by name."""
    at = f"{where}: [models.{m.id}]"
    for key in m.options:
        if key not in OPEN_CLIP_KEYS:
            near = difflib.get_close_matches(key, OPEN_CLIP_KEYS, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise UserError(f"{at} has unknown key {key!r}; {hint}allowed: source, label, {', '.join(OPEN_CLIP_KEYS)}")
    rnd = m.options.get("random_init", False)
    if not isinstance(rnd, bool):
        raise UserError(f"{at} random_init must be true or false, not {rnd!r}")
    given = [k for k in ("pretrained", "checkpoint") if k in m.options] + (["random_init"] if rnd else [])
    if not given:
        raise UserError(f"{at} names no weights: set pretrained = \"<tag>\" or checkpoint = \"<file>\", "
                        "or random_init = true for an untrained model")
    if len(given) > 1:
        raise UserError(f"{at} gives {' and '.join(given)}; give exactly one source of weights")


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
        if m.source == "open_clip":
            _check_open_clip(m, str(p))
    sections = {}
    for role, opts in (raw.get("sections") or {}).items():
        if role not in SECTIONS:
            raise UserError(f"{p}: unknown section [sections.{role}]; known: {', '.join(SECTIONS)}")
        if not isinstance(opts, dict):
            raise UserError(f"{p}: [sections.{role}] must be a table with {' and '.join(sorted(SECTIONS[role]))}")
        missing = sorted(SECTIONS[role] - set(opts))
        if missing:
            raise UserError(f"{p}: [sections.{role}] needs {', '.join(missing)}")
        _check_ids(opts["models"], f"{p}: [sections.{role}] models", "model", next(iter(models), "clip"))
        if "dataset" in opts:
            if not isinstance(opts["dataset"], str):
                raise UserError(f"{p}: [sections.{role}] dataset must be one dataset id (a string), "
                                f"got {opts['dataset']!r}")
            ds = [opts["dataset"]]
        else:  # augmentations: {kind: dataset id or [ids, one per source image]}
            if not isinstance(opts["datasets"], dict) or not opts["datasets"]:
                raise UserError(f"{p}: [sections.{role}] datasets must be a table of augmentation kind -> "
                                f'dataset id, like datasets = {{ rotation = "my_rotations" }}')
            ds = []
            for kind, v in opts["datasets"].items():
                ids = [v] if isinstance(v, str) else v
                _check_ids(ids, f"{p}: [sections.{role}] datasets.{kind}", "dataset", "my_rotations")
                ds += ids
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
