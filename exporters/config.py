"""The article build configuration: which datasets, which models, which sections.

One TOML file per build (the embedded default is `configs/default.toml`). Validated once here, with
messages that name the file, the entry and the fix; everything downstream trusts it.

    title = "..."
    [options]         seed_landscapes, projections, loss_batch_size
    [datasets.<id>]   source = "shapes" | "reference" | ...   (+ source-specific keys)
    [models.<id>]     source = "open_clip" | "reference" | "arrays" | ...   label = "CLIP"  (+ keys)
    [sections.<role>] dataset = "<id>"  models = ["<id>", ...]   (+ role-specific keys)

Which keys each table takes is declared in exporters/registry.py; a key it does not declare is
refused with the allowed ones and the nearest (a misspelling never silently becomes a default).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from exporters import registry
from exporters.errors import UserError

# What each table may hold is declared once, in exporters/registry.py (sources, sections, options and
# the top level); these names stay for code that read them here.
DATASET_SOURCES = registry.DATASET_SOURCES
MODEL_SOURCES = registry.MODEL_SOURCES
SECTIONS = registry.SECTIONS


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


def _table(value: object, at: str, what: str) -> dict:
    if not isinstance(value, dict):
        raise UserError(f"{at} must be a table{what}, not {value!r}")
    return value


def _entries(raw: dict, kind: str, sources: dict[str, registry.Source], where: str) -> dict[str, Entry]:
    """[<kind>.<id>] tables: a known source, then only the keys that source declares, then its rules."""
    out = {}
    for key, opts in _table(raw.get(kind, {}), f"{where}: {kind}", f" of [{kind}.<id>] tables").items():
        at = f"{where}: [{kind}.{key}]"
        if not isinstance(opts, dict):
            raise UserError(f"{at} must be a table")
        src = opts.get("source")
        if src not in sources:
            raise UserError(f"{at} has source {src!r}; use one of {', '.join(sources)}")
        registry.check_keys(at, opts, sources[src].allowed)
        missing = [k for k in sources[src].required if k not in opts]
        if missing:
            raise UserError(f"{at} (source {src}) needs {', '.join(missing)}")
        rest = {k: v for k, v in opts.items() if k not in registry.COMMON}
        if sources[src].check is not None:
            sources[src].check(rest, at)
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


def load_config(path: str | Path) -> ArticleConfig:
    """Parse and validate a build configuration file."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: configuration file not found")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{p}: not valid TOML ({exc})") from None
    return config_from_dict(raw, p)


def config_from_dict(raw: dict, path: str | Path) -> ArticleConfig:
    """Validate a parsed configuration (`path`: the file it came from, for messages and relative paths).

    Every table's keys are checked against exporters/registry.py: the top level, [options], each
    dataset and model table against its source, each section against its role."""
    p = Path(path)
    registry.check_keys(f"{p}: the top level", raw, registry.TOP_LEVEL)
    title = raw.get("title", "Exploring the latent space of CLIP-like models")
    if not isinstance(title, str):
        raise UserError(f"{p}: title must be a string, not {title!r}")
    options = _table(raw.get("options", {}), f"{p}: options", " ([options])")
    registry.check_keys(f"{p}: [options]", options, registry.OPTIONS)
    datasets = _entries(raw, "datasets", DATASET_SOURCES, str(p))
    models = _entries(raw, "models", MODEL_SOURCES, str(p))
    sections = {}
    for role, opts in _table(raw.get("sections", {}), f"{p}: sections", " of [sections.<role>] tables").items():
        if role not in SECTIONS:
            raise UserError(f"{p}: unknown section [sections.{role}]; known: {', '.join(SECTIONS)}")
        at = f"{p}: [sections.{role}]"
        if not isinstance(opts, dict):
            raise UserError(f"{at} must be a table with {' and '.join(SECTIONS[role].required)}")
        registry.check_keys(at, opts, SECTIONS[role].allowed)
        missing = [k for k in SECTIONS[role].required if k not in opts]
        if missing:
            raise UserError(f"{at} needs {', '.join(missing)}")
        _check_ids(opts["models"], f"{at} models", "model", next(iter(models), "clip"))
        if "dataset" in opts:
            if not isinstance(opts["dataset"], str):
                raise UserError(f"{at} dataset must be one dataset id (a string), got {opts['dataset']!r}")
            ds = [opts["dataset"]]
        else:  # augmentations: {kind: dataset id or [ids, one per source image]}
            if not isinstance(opts["datasets"], dict) or not opts["datasets"]:
                raise UserError(f"{at} datasets must be a table of augmentation kind -> "
                                f'dataset id, like datasets = {{ rotation = "my_rotations" }}')
            ds = []
            for kind, v in opts["datasets"].items():
                ids = [v] if isinstance(v, str) else v
                _check_ids(ids, f"{at} datasets.{kind}", "dataset", "my_rotations")
                ds += ids
        for d in ds:
            if d not in datasets:
                raise UserError(f"{at} names dataset {d!r}, not defined; defined: {', '.join(datasets) or 'none'}")
        for m in opts["models"]:
            if m not in models:
                raise UserError(f"{at} names model {m!r}, not defined; defined: {', '.join(models) or 'none'}")
        sections[role] = dict(opts)
    if "main" not in sections:
        raise UserError(f"{p}: a [sections.main] with a dataset and models is required")
    return ArticleConfig(p.resolve(), title, datasets, models, sections, dict(options))
